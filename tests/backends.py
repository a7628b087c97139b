"""Store URLs of the backends that the workflow tests run on: SQLite and FerretDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

BACKENDS = ["sqlite", "ferretdb"]


def drop_database(url: str) -> None:
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        client.drop_database(client.get_default_database())
    finally:
        client.close()


def backend_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty store on the backend in `request.param`, and drop a FerretDB database afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'taskdash.db'}"
        return
    url = request.getfixturevalue("ferretdb").database_url(f"taskdash_test_{uuid.uuid4().hex[:12]}")
    yield url
    drop_database(url)
