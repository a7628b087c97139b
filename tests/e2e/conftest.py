"""Fixtures for end-to-end tests: nsqd, `taskdash serve` and Go reference services as real processes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.procs import Nsqd, RefService, TaskDashServer, add_user, closed_port
from taskdash.accounts.users import create_user
from taskdash.store import open_store
from tests.backends import BACKENDS, backend_database_url

ADMIN_NAME = "admin"
EDITOR_NAME = "editor"
PASSWORD = "e2e-password-1"
# Short liveness timeouts keep the tests fast. --offline-after must exceed --suspect-after.
SUSPECT_AFTER = 2.0
OFFLINE_AFTER = 4.0
FAST_LIVENESS = ["--suspect-after", str(SUSPECT_AFTER), "--offline-after", str(OFFLINE_AFTER), "--poll-interval", "1"]

StartTaskDash = Callable[..., TaskDashServer]
StartRefService = Callable[..., RefService]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store of the test's servers: each test runs on SQLite and on FerretDB, unless its module overrides this."""
    yield from backend_database_url(request, tmp_path)


@pytest.fixture
def admin(database_url: str) -> tuple[str, str]:
    add_user(database_url, ADMIN_NAME, PASSWORD, ["admin"])
    return ADMIN_NAME, PASSWORD


@pytest.fixture
def editor(database_url: str) -> tuple[str, str]:
    add_user(database_url, EDITOR_NAME, PASSWORD, ["editor"])
    return EDITOR_NAME, PASSWORD


@pytest.fixture
def offline_after() -> float:
    """The --offline-after of every server that `start_taskdash` starts, in seconds."""
    return OFFLINE_AFTER


@pytest.fixture
def make_editors(database_url: str) -> Callable[[int], list[tuple[str, str]]]:
    """Return a function that creates `count` editor accounts and returns their (name, password) pairs.

    It creates them in this process, which is much faster than one `taskdash user add` process each.
    """

    def make(count: int) -> list[tuple[str, str]]:
        names = [f"editor{index:02d}" for index in range(count)]

        async def create_all() -> None:
            store = await open_store(database_url)
            try:
                for name in names:
                    await create_user(store, name, PASSWORD, ["editor"], [])
            finally:
                await store.close()

        asyncio.run(create_all())
        return [(name, PASSWORD) for name in names]

    return make


@pytest.fixture
def start_taskdash(tmp_path: Path, database_url: str, admin: tuple[str, str]) -> Iterator[StartTaskDash]:
    """Return a function that starts `taskdash serve` on the test's database and nsqd."""
    started: list[TaskDashServer] = []

    def start(nsqd: Nsqd, *args: str) -> TaskDashServer:
        flags = ["--database-url", database_url, "--nsqd-tcp-address", nsqd.tcp_address, *FAST_LIVENESS, *args]
        server = TaskDashServer.start(tmp_path, flags)
        started.append(server)
        return server

    yield start
    for server in started:
        server.managed.stop()
        # Shown by pytest only when the test fails.
        print(f"--- {server.managed.log_path} ---\n{server.managed.log_tail(60)}")


@pytest.fixture
def start_refservice(tmp_path: Path) -> Iterator[StartRefService]:
    """Return a function that starts a Go reference service with `tasks` tasks named `<prefix>-<n>`."""
    started: list[RefService] = []

    def start(nsqd: Nsqd, name: str, prefix: str, tasks: int = 20) -> RefService:
        service = RefService.start(tmp_path, nsqd.tcp_address, name, tasks=tasks, id_prefix=prefix)
        started.append(service)
        return service

    yield start
    for service in started:
        service.managed.stop()


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port that refuses connections, for service URLs whose polls must fail."""
    with closed_port() as port:
        yield port
