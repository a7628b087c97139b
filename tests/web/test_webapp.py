"""Serving of the built dashboard by the real app, from a temporary dist folder.

The TestClient is used without `with`, so the lifespan (store, NSQ) never
starts: none of these requests needs the runtime.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from taskdash.api import webapp
from taskdash.app import create_app
from taskdash.config import load_settings

INDEX_HTML = '<!doctype html><html><body><div id="app"></div><script src="/assets/index-abc123.js"></script></body></html>'
ASSET_JS = "console.log('dashboard');\n"
SECRET = "contents of a file outside the dist folder"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX_HTML)
    (folder / "assets" / "index-abc123.js").write_text(ASSET_JS)
    (folder / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    # Outside the dist folder: must never be served.
    (tmp_path / "secret.txt").write_text(SECRET)
    return folder


def client_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dist_dir: Path) -> TestClient:
    monkeypatch.setattr(webapp, "WEB_DIST_DIR", dist_dir)
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/app.db")
    return TestClient(create_app(settings))


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dist: Path) -> TestClient:
    return client_for(monkeypatch, tmp_path, dist)


def test_root_serves_index_without_caching(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.text == INDEX_HTML
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"


def test_hashed_asset_cached_for_a_year(client: TestClient) -> None:
    response = client.get("/assets/index-abc123.js")

    assert response.status_code == 200
    assert response.text == ASSET_JS
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_head_of_asset_has_headers_only(client: TestClient) -> None:
    response = client.head("/assets/index-abc123.js")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(ASSET_JS))


def test_missing_asset_is_json_404(client: TestClient) -> None:
    response = client.get("/assets/index-gone.js")

    assert response.status_code == 404
    assert response.json()["errid"] == 1000


@pytest.mark.parametrize("path", ["/assets/..%2F..%2Fsecret.txt", "/assets/%2E%2E/%2E%2E/secret.txt"])
def test_asset_path_escape_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert SECRET not in response.text


def test_page_path_escape_gets_index(client: TestClient) -> None:
    response = client.get("/..%2Fsecret.txt")

    assert response.text == INDEX_HTML


def test_file_inside_rejects_escape(dist: Path) -> None:
    assert webapp.file_inside(dist, "../secret.txt") is None
    assert webapp.file_inside(dist, "assets/../../secret.txt") is None
    assert webapp.file_inside(dist, "assets") is None
    assert webapp.file_inside(dist, "") is None
    assert webapp.file_inside(dist, "assets/index-abc123.js") == (dist / "assets" / "index-abc123.js").resolve()


@pytest.mark.parametrize("path", ["/tasks/hall", "/tasks/mine?status=running", "/login", "/apix", "/healthzz/deep/link"])
def test_unknown_page_falls_back_to_index(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.text == INDEX_HTML
    assert response.headers["cache-control"] == "no-cache"


def test_public_file_served_from_root(client: TestClient) -> None:
    response = client.get("/favicon.svg")

    assert response.status_code == 200
    assert response.text.startswith("<svg")
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path", ["/api", "/api/v1/no-such-route", "/rpost/nothing", "/metrics/extra", "/healthz/x", "/readyz/x", "/assets"]
)
def test_server_paths_keep_json_404(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errid"] == 1000


@pytest.mark.parametrize("path", ["/api/v1/no-such-route", "/tasks/hall"])
def test_post_to_unknown_path_is_404_not_405(client: TestClient, path: str) -> None:
    response = client.post(path, json={})

    assert response.status_code == 404
    assert response.json()["errid"] == 1000


def test_health_route_still_served(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_document_lists_no_web_routes(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]

    assert not [path for path in paths if not path.startswith("/api/") and path not in ("/healthz", "/readyz", "/rpost/task")]


@pytest.mark.parametrize("path", ["/", "/tasks/hall"])
def test_missing_dist_returns_503(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, path: str
) -> None:
    client = client_for(monkeypatch, tmp_path, tmp_path / "not-built")

    response = client.get(path)

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")
    assert "make web" in response.text


def test_missing_dist_keeps_asset_404(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client = client_for(monkeypatch, tmp_path, tmp_path / "not-built")

    response = client.get("/assets/index-abc123.js")

    assert response.status_code == 404


def test_docs_use_packaged_swagger_ui(client: TestClient, dist: Path) -> None:
    (dist / "swagger-ui").mkdir()
    (dist / "swagger-ui" / "swagger-ui-bundle.js").write_text("// swagger ui\n")
    (dist / "swagger-ui" / "swagger-ui.css").write_text("/* swagger ui */\n")

    page = client.get("/api/docs")
    script = client.get("/swagger-ui/swagger-ui-bundle.js")

    assert page.status_code == 200
    assert "/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "/api/openapi.json" in page.text
    assert "cdn.jsdelivr.net" not in page.text
    assert script.text == "// swagger ui\n"


def test_docs_fall_back_to_cdn_unbuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client = client_for(monkeypatch, tmp_path, tmp_path / "not-built")

    page = client.get("/api/docs")

    assert page.status_code == 200
    assert "cdn.jsdelivr.net" in page.text
