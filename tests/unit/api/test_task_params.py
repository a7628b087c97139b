"""Task page parameters: validation of the query string, and the cache of recent query strings."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from taskdash.api.task_params import MAX_CACHED_QUERY_BYTES, page_params
from taskdash.store.records import TaskSortField


def request(query_string: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/api/v1/tasks", "query_string": query_string, "headers": []})


def test_page_params_parses_query() -> None:
    params = page_params(request(b"status=notget&sort=updated_at&order=desc&limit=20"))

    assert params.status == "notget"
    assert params.task_sort().key is TaskSortField.UPDATED_AT
    assert params.task_sort().descending
    assert params.limit == 20


def test_page_params_reuses_cached_params() -> None:
    first = page_params(request(b"status=running&limit=7"))
    second = page_params(request(b"status=running&limit=7"))

    assert second is first


def test_page_params_long_query_not_cached() -> None:
    # Valid (service URLs may have up to 2,048 characters), but the query string is longer than the cache takes.
    url = "http://127.0.0.1/" + "a" * (MAX_CACHED_QUERY_BYTES - 20)
    query_string = f"service_url={url}".encode()
    assert len(query_string) > MAX_CACHED_QUERY_BYTES

    first = page_params(request(query_string))
    second = page_params(request(query_string))

    assert first.service_url == url
    assert second is not first


def test_page_params_invalid_query_raises_each_time() -> None:
    for _ in range(2):
        with pytest.raises(RequestValidationError) as raised:
            page_params(request(b"limit=0"))

        assert raised.value.errors()[0]["loc"] == ("query", "limit")
