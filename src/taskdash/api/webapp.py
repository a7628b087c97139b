"""Serving of the built web dashboard: hashed assets, index.html and the history fallback of the single-page app.

`make web` builds the dashboard with Vite into `src/taskdash/web/dist/`,
which is package data. Files under `/assets/` have content hashes in their
names, so browsers may cache them for a year. `index.html` names the current
assets and must be revalidated on every load. Any other GET of a path that
no route serves returns `index.html`, so that the Vue router can show deep
links such as `/tasks/mine`. Paths under the API, legacy and operations
prefixes never fall back: an unknown `/api/...` path stays a JSON 404.

The dist folder is looked up on each request, so a server started before
`make web` serves the dashboard as soon as the build finishes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

WEB_DIST_DIR = Path(__file__).resolve().parent.parent / "web" / "dist"

ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
REVALIDATE_CACHE_CONTROL = "no-cache"

# Prefixes of the server's own paths. A request under one of them never gets index.html.
SERVER_PREFIXES = ("/api", "/rpost", "/metrics", "/healthz", "/readyz", "/assets")

NOT_BUILT_MESSAGE = (
    "The web dashboard is not built: run `make web` in the TaskDash source tree, then reload this page. "
    "The REST API is at /api/v1 and its documentation at /api/docs.\n"
)


def is_server_path(path: str) -> bool:
    """Return whether `path` is one of SERVER_PREFIXES or lies under one."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in SERVER_PREFIXES)


def file_inside(folder: Path, relative: str) -> Path | None:
    """Return the regular file `relative` inside `folder`, or None if it is missing or resolves outside `folder`."""
    if not relative or "\x00" in relative:
        return None
    root = folder.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


class HistoryFallbackRoute(Route):
    """A route that matches GET and HEAD of every path outside SERVER_PREFIXES.

    It declines other methods and server paths outright, instead of
    matching them partially. A partial match would turn an unknown
    `POST /api/v1/...` into a 405 instead of the usual 404.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        if is_server_path(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def install_web(app: FastAPI, dist_dir: Path | None = None) -> None:
    """Add the dashboard's routes to `app`, after every other route. `dist_dir` defaults to WEB_DIST_DIR."""

    def dist() -> Path:
        return dist_dir or WEB_DIST_DIR

    def index_response() -> Response:
        index = dist() / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT_MESSAGE, status_code=503, headers={"cache-control": "no-store"})
        return FileResponse(index, media_type="text/html", headers={"cache-control": REVALIDATE_CACHE_CONTROL})

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        # `make web` copies Swagger UI into the dist folder; without it the page falls back to FastAPI's CDN.
        local_files = {}
        if (dist() / "swagger-ui" / "swagger-ui-bundle.js").is_file():
            local_files = {
                "swagger_js_url": "/swagger-ui/swagger-ui-bundle.js",
                "swagger_css_url": "/swagger-ui/swagger-ui.css",
                "swagger_favicon_url": "/favicon.svg",
            }
        return get_swagger_ui_html(openapi_url=app.openapi_url or "", title=f"{app.title} API", **local_files)

    @app.api_route("/assets/{asset_path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def asset(asset_path: str) -> FileResponse:
        path = file_inside(dist() / "assets", asset_path)
        if path is None:
            raise HTTPException(status_code=404, detail=f"web asset {asset_path!r} not found: rebuild with `make web`")
        return FileResponse(path, headers={"cache-control": ASSET_CACHE_CONTROL})

    async def page(request: Request) -> Response:
        # Files that Vite copies from web/public/ (the favicon) sit next to index.html, without hashes.
        relative = request.path_params["page_path"]
        path = file_inside(dist(), relative) if relative != "index.html" else None
        if path is not None:
            return FileResponse(path, headers={"cache-control": REVALIDATE_CACHE_CONTROL})
        return index_response()

    app.router.routes.append(HistoryFallbackRoute("/{page_path:path}", page, methods=["GET", "HEAD"]))
