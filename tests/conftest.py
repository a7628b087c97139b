"""Fixtures shared by the tests: a temporary SQLite store, an in-process app, a real nsqd and a real FerretDB."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from devtools.procs import FerretDB, Nsqd
from taskdash.app import create_app
from taskdash.config import load_settings
from taskdash.store.sqlite.repository import SQLiteRepository

# A documentation-only network (RFC 5737). Service URLs on 127.0.0.1 fall outside it, so the app's
# poller rejects them before connecting and the tests reach no task service.
NO_POLL_NETWORK = "192.0.2.0/24"


@pytest.fixture
def service_url() -> Iterator[str]:
    """URL of a task service on a loopback port that this test holds, so no other program can respond on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield f"http://127.0.0.1:{holder.getsockname()[1]}/rpost/test"


@pytest.fixture
def nsqd_args() -> list[str]:
    """Extra nsqd flags. A test overrides this fixture to change them."""
    return []


@pytest.fixture
def nsqd(tmp_path: Path, nsqd_args: list[str]) -> Iterator[Nsqd]:
    server = Nsqd.start(tmp_path, extra_args=nsqd_args)
    yield server
    server.managed.stop()


@pytest.fixture(scope="session")
def ferretdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerretDB]:
    """One FerretDB for the whole session. Give each test a database of its own and drop it afterwards."""
    server = FerretDB.start(tmp_path_factory.mktemp("ferretdb"))
    yield server
    server.managed.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'taskdash.db'}"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteRepository]:
    repository = await SQLiteRepository.open(f"sqlite:///{tmp_path}/t.db")
    yield repository
    await repository.close()


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    """TestClient of a fresh app without NSQ; the lifespan runs, so `app.state.runtime` exists."""
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/app.db", allowed_service_networks=[NO_POLL_NETWORK]
    )
    with TestClient(create_app(settings)) as client:
        yield client
