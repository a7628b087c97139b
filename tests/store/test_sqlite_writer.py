"""Group commit of the SQLite store's writer: batches, savepoints and failures."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from taskdash.errors import StoreWriteFailed
from taskdash.store.records import User
from taskdash.store.sqlite.repository import SQLiteRepository
from taskdash.store.sqlite.writer import BatchWriter


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    database = sqlite3.connect(tmp_path / "w.db", isolation_level=None, check_same_thread=False)
    database.execute("PRAGMA foreign_keys = ON")
    database.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    database.execute(
        "CREATE TABLE item (name TEXT PRIMARY KEY, "
        "parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    yield database
    database.close()


def stored_names(connection: sqlite3.Connection) -> list[str]:
    return [row[0] for row in connection.execute("SELECT name FROM item ORDER BY name")]


Work = Callable[[sqlite3.Connection], object]


def insert(name: str, parent: int | None = None) -> Work:
    def work(connection: sqlite3.Connection) -> str:
        connection.execute("INSERT INTO item VALUES (?, ?)", (name, parent))
        return name

    return work


async def queue_behind_blocked_write(
    writer: BatchWriter, *works: Work
) -> tuple[asyncio.Future[object], list[asyncio.Future[object]]]:
    """Submit a write that blocks the writer thread until the others are queued, so they form one batch."""
    release = threading.Event()

    def blocked(connection: sqlite3.Connection) -> str:
        release.wait(10)
        return "blocked"

    first = writer.submit(blocked)
    # Let the writer thread take the blocking write before the others arrive.
    await asyncio.sleep(0.05)
    queued = [writer.submit(work) for work in works]
    release.set()
    return first, queued


async def test_batch_failed_write_rolls_back_alone(connection: sqlite3.Connection) -> None:
    writer = BatchWriter(lambda: connection)

    def insert_then_fail(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO item VALUES ('partial', NULL)")
        raise ValueError("fails after its first statement")

    try:
        first, queued = await queue_behind_blocked_write(writer, insert("a"), insert_then_fail, insert("b"))
        results = await asyncio.gather(first, *queued, return_exceptions=True)
    finally:
        writer.stop()

    assert results[0] == "blocked"
    assert results[1] == "a"
    assert isinstance(results[2], ValueError)
    assert results[3] == "b"
    assert stored_names(connection) == ["a", "b"]


async def test_batch_failed_commit_fails_every_write(connection: sqlite3.Connection) -> None:
    """A deferred foreign key fails the COMMIT of the batch, so none of its writes is stored."""
    writer = BatchWriter(lambda: connection)
    try:
        first, queued = await queue_behind_blocked_write(writer, insert("a"), insert("orphan", parent=7))
        results = await asyncio.gather(*queued, return_exceptions=True)
        await first
    finally:
        writer.stop()

    assert all(isinstance(result, sqlite3.IntegrityError) for result in results)
    assert stored_names(connection) == []
    assert not connection.in_transaction


async def test_single_write_failure_rolled_back(connection: sqlite3.Connection) -> None:
    writer = BatchWriter(lambda: connection)

    def insert_then_fail(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO item VALUES ('partial', NULL)")
        raise ValueError("fails after its first statement")

    try:
        with pytest.raises(ValueError):
            await writer.submit(insert_then_fail)
        assert await writer.submit(insert("after")) == "after"
    finally:
        writer.stop()

    assert stored_names(connection) == ["after"]


async def test_writes_after_stop_fail(connection: sqlite3.Connection) -> None:
    writer = BatchWriter(lambda: connection)
    writer.stop()

    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        await writer.submit(insert("late"))


async def test_concurrent_user_writes_all_stored(tmp_path: Path) -> None:
    store = await SQLiteRepository.open(f"sqlite:///{tmp_path}/t.db")
    try:
        users = [User(f"user{number}", "hash", ("editor",), created_at=1.0) for number in range(50)]
        await asyncio.gather(*(store.add_user(user) for user in users))

        assert len(await store.list_users()) == 50
    finally:
        await store.close()


async def test_store_write_after_close_fails(tmp_path: Path) -> None:
    store = await SQLiteRepository.open(f"sqlite:///{tmp_path}/t.db")
    await store.close()

    with pytest.raises(StoreWriteFailed, match="closed"):
        await store.add_user(User("late", "hash", ("editor",), created_at=1.0))
