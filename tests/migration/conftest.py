"""Stores for the migration tests: SQLite files, and MongoDB-wire databases on FerretDB.

A MongoDB-wire store also runs on a real MongoDB when TASKDASH_TEST_MONGO_URI
names one. Each test gets fresh databases, dropped after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.store.conftest import MONGO_URI_VARIABLE, drop_database, with_database

MONGO_BACKENDS = ["ferretdb"] + (["mongodb"] if os.environ.get(MONGO_URI_VARIABLE) else [])

NewMongoUrl = Callable[[], str]


@pytest.fixture(params=MONGO_BACKENDS)
def mongo_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def new_mongo_url(mongo_backend: str, request: pytest.FixtureRequest) -> Iterator[NewMongoUrl]:
    """Return a function that returns the URL of a new, empty database on `mongo_backend`."""
    created: list[str] = []

    def new_url() -> str:
        database = f"taskdash_test_{uuid.uuid4().hex[:12]}"
        if mongo_backend == "ferretdb":
            url = request.getfixturevalue("ferretdb").database_url(database)
        else:
            url = with_database(os.environ[MONGO_URI_VARIABLE], database)
        created.append(url)
        return url

    yield new_url
    for url in created:
        drop_database(url)


@pytest.fixture
def mongo_url(new_mongo_url: NewMongoUrl) -> str:
    return new_mongo_url()


@pytest.fixture
def sqlite_source(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'source.db'}"


@pytest.fixture
def sqlite_target(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'target' / 'taskdash.db'}"
