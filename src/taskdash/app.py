"""The FastAPI application: routes, error handlers and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from taskdash import __version__
from taskdash.api import bulk_assign, dead_letters, events, health, intake, services, sessions, stats, tasks, users
from taskdash.api.errors import ERROR_RESPONSES, install_error_handlers
from taskdash.api.limits import BodySizeLimit
from taskdash.api.webapp import install_web
from taskdash.config import Settings
from taskdash.legacy import endpoint as legacy
from taskdash.runtime import Runtime


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The runtime starts inside the lifespan so pynsq's readers run on uvicorn's event loop.
        runtime = await Runtime.start(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="TaskDash",
        version=__version__,
        # /api/docs is served by taskdash.api.webapp, from Swagger UI files in the package when they are built.
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    # Health routes return bodies of their own, and the legacy endpoint is not in the OpenAPI document.
    app.include_router(health.router)
    app.include_router(legacy.router)
    # Routes are matched in order, at a few microseconds per route tried, so the task routes, which serve
    # most requests of a busy dashboard, come first.
    for module in (tasks, bulk_assign, sessions, users, services, stats, dead_letters, events, intake):
        app.include_router(module.router, responses=ERROR_RESPONSES)

    # Last, because its history fallback returns index.html for every GET that no route above matches.
    install_web(app)

    return app
