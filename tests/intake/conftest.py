"""Fixtures for intake tests: a real nsqd and `taskdash serve` processes on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.procs import Nsqd, TaskDashServer, add_user, closed_port

ADMIN_NAME = "admin"
ADMIN_PASSWORD = "admin-password-1"
# Short liveness timeouts keep the tests fast. --offline-after must exceed --suspect-after.
FAST_LIVENESS = ["--suspect-after", "2", "--offline-after", "4", "--poll-interval", "1"]

StartTaskDash = Callable[..., TaskDashServer]


@pytest.fixture
def admin(database_url: str) -> tuple[str, str]:
    add_user(database_url, ADMIN_NAME, ADMIN_PASSWORD, ["admin"])
    return ADMIN_NAME, ADMIN_PASSWORD


@pytest.fixture
def start_taskdash(tmp_path: Path, database_url: str, admin: tuple[str, str]) -> Iterator[StartTaskDash]:
    """Return a function that starts `taskdash serve` with extra flags on the test's database."""
    started: list[TaskDashServer] = []

    def start(*args: str, nsqd: Nsqd | None = None) -> TaskDashServer:
        flags = ["--database-url", database_url, *FAST_LIVENESS, *args]
        if nsqd is not None:
            flags += ["--nsqd-tcp-address", nsqd.tcp_address]
        server = TaskDashServer.start(tmp_path, flags)
        started.append(server)
        return server

    yield start
    for server in started:
        server.managed.stop()
        # Shown by pytest only when the test fails.
        print(f"--- {server.managed.log_path} ---\n{server.managed.log_tail(60)}")


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port that refuses connections, for service URLs whose polls must fail."""
    with closed_port() as port:
        yield port
