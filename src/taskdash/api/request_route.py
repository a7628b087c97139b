"""A route class for busy routes whose endpoint reads the Request itself and returns a Response.

On every request, FastAPI's handler reads the body, solves the endpoint's
dependencies and inspects its result. That took about as long as the rest
of a task list request, and about a quarter of a claim (FastAPI 0.165,
measured in-process), so these endpoints read the session and the runtime
from the Request themselves. The route validates the endpoint's path parameters against
their annotations, as FastAPI does, and passes them as keyword arguments.
FastAPI still builds the OpenAPI operation from the declaration: the
summary, the parameters, and the response model. Only the per-request
handler is replaced.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

Endpoint = Callable[..., Awaitable[Response]]


class RequestRoute(APIRoute):
    """An APIRoute whose endpoint takes the Request and its path parameters, and must return a Response.

    Errors that the endpoint raises reach the app's exception handlers, as
    from any route. An invalid path parameter raises RequestValidationError
    with the location ("path", name), as FastAPI's own validation does.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        adapters = _path_parameter_adapters(endpoint)
        unknown = sorted(set(adapters) - set(self.param_convertors))
        if unknown:
            raise TypeError(
                f"invalid RequestRoute {self.path!r}: parameters {unknown} of {endpoint.__name__} are not in the"
                " path; read the query and the body from the Request instead"
            )

        async def handler(request: Request) -> Response:
            values = {name: _validate_path_parameter(name, adapter, request) for name, adapter in adapters.items()}
            return await endpoint(request, **values)

        return handler


def request_route(router: APIRouter, path: str, *, methods: list[str], **options: Any) -> Callable[[Endpoint], Endpoint]:
    """Return a decorator that adds its endpoint to `router` as a RequestRoute, with add_api_route's `options`."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(path, endpoint, methods=methods, route_class_override=RequestRoute, **options)
        return endpoint

    return register


def _path_parameter_adapters(endpoint: Endpoint) -> dict[str, TypeAdapter[Any]]:
    """Return a validator per parameter of `endpoint` after its first (the Request), from its annotation."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    names = list(inspect.signature(endpoint).parameters)[1:]
    return {name: TypeAdapter(hints[name]) for name in names}


def _validate_path_parameter(name: str, adapter: TypeAdapter[Any], request: Request) -> Any:
    try:
        return adapter.validate_python(request.path_params[name])
    except ValidationError as error:
        problems = [{**problem, "loc": ("path", name, *problem["loc"])} for problem in error.errors(include_url=False)]
        raise RequestValidationError(problems) from None
