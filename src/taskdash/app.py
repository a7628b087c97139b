"""The FastAPI application: routes, error handlers and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from taskdash import __version__
from taskdash.api import bulk_assign, dead_letters, events, health, intake, services, sessions, stats, tasks, users
from taskdash.api.errors import install_error_handlers
from taskdash.api.limits import BodySizeLimit
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
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    for module in (health, sessions, users, services, tasks, bulk_assign, stats, dead_letters, events, intake, legacy):
        app.include_router(module.router)

    # NOTE: until the web dashboard is built into the package, the root shows the API documentation.
    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/api/docs")

    return app
