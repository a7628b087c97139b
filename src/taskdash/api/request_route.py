"""A route class for busy routes whose endpoint takes the Request and returns a Response itself.

On every request, FastAPI's handler reads the body, solves the endpoint's
dependencies and inspects its result. For the task list, that took about as
long as the rest of the request (FastAPI 0.165), so its endpoint reads the
session, the runtime and the query itself. FastAPI still builds the route's
OpenAPI operation from the declaration: the summary, the `openapi_extra`
parameters, and the return annotation as response model. Only the
per-request handler is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class RequestRoute(APIRoute):
    """An APIRoute whose endpoint is called with the Request alone, and must return a Response.

    Errors that the endpoint raises reach the app's exception handlers, as
    from any route.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint
