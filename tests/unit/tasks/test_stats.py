"""Task statistics against a real SQLite store with known tasks and history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from taskdash.store.records import HistoryEntry, TaskQuery, TaskRecord, User
from taskdash.store.sqlite.repository import SQLiteRepository
from taskdash.tasks.stats import FINISHED_DAYS, task_stats

URL_A = "http://127.0.0.1:8001/rpost/a"
URL_B = "http://127.0.0.1:8002/rpost/b"
T0 = 1_700_000_000.0
DAY = 86_400.0
# 2026-12-04 12:00 UTC.
NOW = datetime(2026, 12, 4, 12, tzinfo=UTC).timestamp()

# username -> (roles, groups)
ACCOUNTS = {
    "alice": (("editor",), ("g1",)),
    "bob": (("editor",), ("g1",)),
    "carol": (("editor",), ("g2",)),
    "vera": (("checker",), ("g2",)),
    "mia": (("manager",), ("g1",)),
    "root": (("admin",), ()),
}


def account(username: str) -> User:
    roles, groups = ACCOUNTS[username]
    return User(username=username, password_hash="unused", roles=roles, groups=groups, created_at=T0)


def task(task_id: str, status: str, user: str = "", service_url: str = URL_A, **fields: str) -> TaskRecord:
    return TaskRecord(task_id=task_id, service_url=service_url, status=status, user=user, created_at=T0,
                      updated_at=T0, **fields)


def finished(task_id: str, at: float, from_status: str = "checking") -> HistoryEntry:
    return HistoryEntry(task_id, at, "root", "user", from_status, "finish")


@pytest.fixture
async def seeded(store: SQLiteRepository) -> SQLiteRepository:
    for username in ACCOUNTS:
        await store.add_user(account(username))
    tasks = [
        task("free-1", "notget"),
        task("free-2", "notget", service_url=URL_B),
        task("a-run", "running", "alice", group_id="g1"),
        task("a-fin-today", "finish", "alice", group_id="g1"),
        task("a-fin-old", "finish", "alice", group_id="g1"),
        task("b-check", "checking", "bob", checker="vera"),
        task("b-fin", "finish", "bob", service_url=URL_B),
        task("c-run", "running", "carol", group_id="g2", service_url=URL_B),
        task("c-fin", "finish", "carol", group_id="g2", checker="vera"),
        task("gone", "running", "alice", group_id="g1", missing=True),
    ]
    history = [
        finished("a-fin-today", NOW - 3600),
        # Finished twice on one day (a service reopened it): counted once on that day.
        finished("a-fin-today", NOW - 7200),
        finished("a-fin-old", NOW - 40 * DAY),
        finished("b-fin", NOW - 2 * DAY),
        finished("c-fin", NOW - 2 * DAY),
        # A repeated finish report is no move to finish.
        finished("c-fin", NOW - DAY, from_status="finish"),
        # Not a move to finish.
        HistoryEntry("a-run", NOW - 60, "alice", "user", "notget", "running"),
    ]
    assert await store.insert_tasks(tasks, history) == []
    return store


def days_with_tasks(per_day: list[tuple[str, int]]) -> dict[str, int]:
    return {day: count for day, count in per_day if count}


async def test_stats_admin_counts(seeded: SQLiteRepository) -> None:
    stats = await task_stats(seeded, account("root"), NOW)

    assert stats.by_status == {"notget": 2, "running": 2, "checking": 1, "finish": 4}
    assert stats.by_user == {
        "alice": {"running": 1, "finish": 2},
        "bob": {"checking": 1, "finish": 1},
        "carol": {"running": 1, "finish": 1},
    }
    assert stats.by_group == {"g1": {"running": 1, "finish": 2}, "g2": {"running": 1, "finish": 1}}
    assert stats.by_service == {
        URL_A: {"notget": 1, "running": 1, "checking": 1, "finish": 3},
        URL_B: {"notget": 1, "running": 1, "finish": 1},
    }


async def test_stats_finished_per_day(seeded: SQLiteRepository) -> None:
    stats = await task_stats(seeded, account("root"), NOW)

    assert len(stats.finished_per_day) == FINISHED_DAYS
    assert stats.finished_per_day[0] == ("2026-11-05", 0)
    assert stats.finished_per_day[-1] == ("2026-12-04", 1)
    assert days_with_tasks(stats.finished_per_day) == {"2026-12-02": 2, "2026-12-04": 1}


async def test_stats_manager_sees_group(seeded: SQLiteRepository) -> None:
    stats = await task_stats(seeded, account("mia"), NOW)

    assert stats.by_status == {"running": 1, "checking": 1, "finish": 3}
    assert set(stats.by_user) == {"alice", "bob"}
    assert stats.by_group == {"g1": {"running": 1, "finish": 2}}
    assert days_with_tasks(stats.finished_per_day) == {"2026-12-02": 1, "2026-12-04": 1}


async def test_stats_editor_sees_own(seeded: SQLiteRepository) -> None:
    stats = await task_stats(seeded, account("carol"), NOW)

    assert stats.by_status == {"running": 1, "finish": 1}
    assert stats.by_user == {"carol": {"running": 1, "finish": 1}}
    assert stats.by_service == {URL_B: {"running": 1}, URL_A: {"finish": 1}}
    assert days_with_tasks(stats.finished_per_day) == {"2026-12-02": 1}


async def test_stats_checker_sees_checked(seeded: SQLiteRepository) -> None:
    stats = await task_stats(seeded, account("vera"), NOW)

    assert stats.by_status == {"checking": 1, "finish": 1}
    assert set(stats.by_user) == {"bob", "carol"}


async def test_count_tasks_by_unknown_column(store: SQLiteRepository) -> None:
    with pytest.raises(ValueError):
        await store.count_tasks_by(TaskQuery(), ("password_hash",))
