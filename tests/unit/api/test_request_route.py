"""RequestRoute: the endpoint gets the Request and its validated path parameters."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI, Path, Request, Response
from fastapi.testclient import TestClient

from taskdash.api.request_route import request_route

ShortName = Annotated[str, Path(max_length=5)]


def app_with(router: APIRouter) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_request_route_passes_validated_path_parameters() -> None:
    router = APIRouter()

    @request_route(router, "/items/{name}/{count}", methods=["GET"])
    async def item(request: Request, name: ShortName, count: int) -> Response:
        return Response(f"{request.method} {name} {count + 1}")

    client = app_with(router)

    assert client.get("/items/abc/41").text == "GET abc 42"
    assert client.get("/items/abcdef/1").status_code == 422
    assert client.get("/items/abc/many").json()["detail"][0]["loc"] == ["path", "count"]


def test_request_route_rejects_parameter_not_in_path() -> None:
    router = APIRouter()

    with pytest.raises(TypeError, match=r"parameters \['limit'\] of listing are not in the path"):
        @request_route(router, "/items", methods=["GET"])
        async def listing(request: Request, limit: int) -> Response:
            return Response(str(limit))
