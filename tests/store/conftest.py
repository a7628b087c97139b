"""The `store` fixture of the contract tests, once per backend.

Each test runs on SQLite and on FerretDB, and also on a real MongoDB when
TASKDASH_TEST_MONGO_URI names one (for example mongodb://127.0.0.1:27017).
A MongoDB-wire test gets a fresh database, dropped after the test.
"""

from __future__ import annotations

import asyncio
import os
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from taskdash.store import open_store
from taskdash.store.mongo.repository import MongoRepository
from taskdash.store.protocol import Repository
from tests.backends import drop_database

MONGO_URI_VARIABLE = "TASKDASH_TEST_MONGO_URI"

# "ferretdb-conditional" writes to FerretDB as the store writes to MongoDB, with the conditions of updates in
# their filters (see taskdash.store.mongo.server), so that this suite covers MongoDB's way without a MongoDB.
BACKENDS = ["sqlite", "ferretdb", "ferretdb-conditional"] + (["mongodb"] if os.environ.get(MONGO_URI_VARIABLE) else [])


def with_database(uri: str, database: str) -> str:
    """Return `uri` with its database path replaced by `database`, keeping hosts, credentials and options."""
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """`--database-url` of an empty store on `backend`, for tests that open it more than once."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/t.db"
        return

    database = f"taskdash_test_{uuid.uuid4().hex[:12]}"
    if backend.startswith("ferretdb"):
        url = request.getfixturevalue("ferretdb").database_url(database)
    else:
        url = with_database(os.environ[MONGO_URI_VARIABLE], database)
    yield url
    drop_database(url)


async def open_backend(store_url: str, backend: str) -> Repository:
    """Open the store at `store_url`, forcing conditions into update filters on "ferretdb-conditional"."""
    if backend == "ferretdb-conditional":
        return await MongoRepository.open(store_url, check_conditions_here=False)
    return await open_store(store_url)


@pytest.fixture
async def store(store_url: str, backend: str) -> AsyncIterator[Repository]:
    repository = await open_backend(store_url, backend)
    yield repository
    await repository.close()


OpenClients = Callable[[int], Awaitable[list[Repository]]]


@pytest.fixture
async def open_clients(store_url: str, backend: str) -> AsyncIterator[OpenClients]:
    """Return a function that opens N more repositories on the test's store; they close after the test."""
    opened: list[Repository] = []

    async def open_many(count: int) -> list[Repository]:
        clients = [await open_backend(store_url, backend) for _ in range(count)]
        opened.extend(clients)
        return clients

    yield open_many
    await asyncio.gather(*(client.close() for client in opened))
