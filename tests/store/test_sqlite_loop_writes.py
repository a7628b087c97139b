"""SQLite quick writes: batches on the event loop, their move to the writer thread, and WAL checkpoints."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from taskdash.store.records import ClaimRequest, TaskRecord
from taskdash.store.sqlite import loop_writes
from taskdash.store.sqlite.loop_writes import LoopWriter
from taskdash.store.sqlite.reads import connect
from taskdash.store.sqlite.repository import SQLiteRepository
from taskdash.store.sqlite.writer import BatchWriter

Work = Callable[[sqlite3.Connection], object]


def quick_writes(outcome: str) -> float:
    return REGISTRY.get_sample_value("taskdash_sqlite_quick_writes_total", {"outcome": outcome}) or 0.0


class Writers:
    """A LoopWriter and the BatchWriter it falls back to, on one database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with sqlite3.connect(path, isolation_level=None) as setup:
            setup.execute("PRAGMA journal_mode = WAL")
            setup.execute("CREATE TABLE item (name TEXT PRIMARY KEY, body BLOB)")
        self.thread_connection = connect(path)
        self.batch_writer = BatchWriter(lambda: self.thread_connection)
        self.loop_writer = LoopWriter(path, self.batch_writer)
        self.closed = False

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop_writer.close()
        await self.batch_writer.call(self.thread_connection.close)
        self.batch_writer.stop()

    def stored_names(self) -> list[str]:
        with sqlite3.connect(self.path) as reader:
            return [row[0] for row in reader.execute("SELECT name FROM item ORDER BY rowid")]


@pytest.fixture
async def writers(tmp_path: Path) -> AsyncIterator[Writers]:
    writers = Writers(tmp_path / "loop.db")
    yield writers
    await writers.close()


class Insert:
    """A write that inserts one item and records the thread it ran on."""

    def __init__(self, name: str, body: bytes = b"") -> None:
        self.name = name
        self.body = body
        self.threads: list[int] = []

    def __call__(self, connection: sqlite3.Connection) -> str:
        self.threads.append(threading.get_ident())
        connection.execute("INSERT INTO item VALUES (?, ?)", (self.name, self.body))
        return self.name


def failing(connection: sqlite3.Connection) -> None:
    connection.execute("INSERT INTO item VALUES ('doomed', NULL)")
    raise ValueError("write failed on purpose")


async def test_quick_write_commits_on_loop_thread(writers: Writers) -> None:
    work = Insert("first")
    on_loop_before = quick_writes("on_loop")

    assert await writers.loop_writer.submit(work) == "first"

    assert work.threads == [threading.get_ident()]
    assert writers.stored_names() == ["first"]
    assert quick_writes("on_loop") == on_loop_before + 1


async def test_writes_of_one_turn_share_transaction(writers: Writers) -> None:
    seen: dict[str, object] = {}

    def look(connection: sqlite3.Connection) -> None:
        seen["own_count"] = connection.execute("SELECT count(*) FROM item").fetchone()[0]
        seen["others_see"] = writers.stored_names()

    futures = [writers.loop_writer.submit(work) for work in (Insert("a"), Insert("b"), look)]
    await asyncio.gather(*futures)

    assert seen["own_count"] == 2
    assert seen["others_see"] == []
    assert writers.stored_names() == ["a", "b"]


async def test_failed_write_rolls_back_alone(writers: Writers) -> None:
    futures = [writers.loop_writer.submit(work) for work in (Insert("a"), failing, Insert("b"))]
    results = await asyncio.gather(*futures, return_exceptions=True)

    assert results[0] == "a"
    assert isinstance(results[1], ValueError)
    assert results[2] == "b"
    assert writers.stored_names() == ["a", "b"]


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Start a thread that holds the database's write lock for `seconds` from another connection."""
    locked = threading.Event()

    def hold() -> None:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(seconds)
        holder.commit()
        holder.close()

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(10)
    return thread


async def test_briefly_locked_write_retries_on_loop(writers: Writers) -> None:
    holder = hold_write_lock(writers.path, loop_writes.MAX_WAIT_SECONDS / 5)
    work = Insert("patient")
    moved_before = quick_writes("moved_to_thread")
    try:
        assert await asyncio.wait_for(writers.loop_writer.submit(work), 10) == "patient"
    finally:
        await asyncio.to_thread(holder.join)

    assert work.threads == [threading.get_ident()]
    assert quick_writes("moved_to_thread") == moved_before
    assert writers.stored_names() == ["patient"]


async def test_long_locked_write_moves_to_thread(writers: Writers) -> None:
    holder = hold_write_lock(writers.path, loop_writes.MAX_WAIT_SECONDS * 4)
    work = Insert("late")
    moved_before = quick_writes("moved_to_thread")
    try:
        assert await asyncio.wait_for(writers.loop_writer.submit(work), 10) == "late"
    finally:
        await asyncio.to_thread(holder.join)

    assert len(work.threads) == 1
    assert work.threads[0] != threading.get_ident()
    assert quick_writes("moved_to_thread") == moved_before + 1
    assert writers.stored_names() == ["late"]


async def test_write_commits_after_thread_batch(writers: Writers) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(connection: sqlite3.Connection) -> str:
        connection.execute("INSERT INTO item VALUES ('slow', NULL)")
        started.set()
        release.wait(10)
        return "slow"

    slow_write = writers.batch_writer.submit(slow)
    await asyncio.to_thread(started.wait, 10)
    quick_write = writers.loop_writer.submit(Insert("quick"))
    await asyncio.sleep(loop_writes.MAX_WAIT_SECONDS / 5)
    release.set()

    assert await slow_write == "slow"
    assert await quick_write == "quick"
    assert writers.stored_names() == ["slow", "quick"]


async def test_writes_commit_in_submission_order(writers: Writers) -> None:
    holder = hold_write_lock(writers.path, loop_writes.MAX_WAIT_SECONDS * 4)
    try:
        first = writers.loop_writer.submit(Insert("first"))
        # The first write has moved to the writer thread, which waits for the lock, when the second comes.
        await asyncio.sleep(loop_writes.MAX_WAIT_SECONDS * 1.5)
        second = writers.loop_writer.submit(Insert("second"))

        assert await asyncio.wait_for(second, 10) == "second"
        assert await first == "first"
    finally:
        await asyncio.to_thread(holder.join)

    assert writers.stored_names() == ["first", "second"]


async def test_close_commits_pending_writes(writers: Writers) -> None:
    pending = writers.loop_writer.submit(Insert("pending"))

    await writers.close()

    assert await pending == "pending"
    assert writers.stored_names() == ["pending"]


def test_second_loop_writes_after_first_closes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A checkpoint after every batch, so that the first loop closes with one in flight.
    monkeypatch.setattr(loop_writes, "CHECKPOINT_EVERY", 1)
    writers = Writers(tmp_path / "loops.db")

    async def write(name: str) -> object:
        return await asyncio.wait_for(writers.loop_writer.submit(Insert(name)), 10)

    try:
        assert asyncio.run(write("first loop")) == "first loop"
        assert asyncio.run(write("second loop")) == "second loop"
    finally:
        asyncio.run(writers.close())

    assert writers.stored_names() == ["first loop", "second loop"]


async def test_batch_over_max_commits_every_write(writers: Writers) -> None:
    names = [f"item-{index:03d}" for index in range(loop_writes.MAX_BATCH * 2 + 5)]

    results = await asyncio.gather(*(writers.loop_writer.submit(Insert(name)) for name in names))

    assert results == names
    assert writers.stored_names() == names


async def wal_size_after_writes(path: Path, batches: int) -> int:
    writers = Writers(path)
    try:
        for index in range(batches):
            # Five pages of overflow per row, so the WAL grows by several frames per batch.
            await writers.loop_writer.submit(Insert(f"row-{index}", bytes(20_000)))
        # Let the last queued checkpoint finish on the writer thread.
        await writers.batch_writer.call(lambda: None)
        await writers.loop_writer.submit(Insert("last"))
    finally:
        await writers.close()
    return (path.parent / (path.name + "-wal")).stat().st_size


async def test_checkpoints_bound_wal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batches = loop_writes.CHECKPOINT_EVERY * 6

    bounded = await wal_size_after_writes(tmp_path / "bounded.db", batches)
    monkeypatch.setattr(loop_writes, "CHECKPOINT_EVERY", batches * 10)
    unbounded = await wal_size_after_writes(tmp_path / "unbounded.db", batches)

    assert unbounded > 20_000 * batches
    assert bounded < unbounded / 2


async def test_loop_connection_never_checkpoints(writers: Writers) -> None:
    await writers.loop_writer.submit(Insert("first"))
    connection = writers.loop_writer._connection

    assert connection is not None
    assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0


async def test_write_after_close_fails(writers: Writers) -> None:
    await writers.close()

    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        await writers.loop_writer.submit(Insert("too-late"))


async def test_repository_claim_is_quick_write(tmp_path: Path) -> None:
    store = await SQLiteRepository.open(f"sqlite:///{tmp_path / 'claims.db'}")
    try:
        await store.insert_tasks(
            [TaskRecord(task_id="t1", service_url="http://127.0.0.1:9/x", status="notget", created_at=1.0,
                        updated_at=1.0)],
            [],
        )
        on_loop_before = quick_writes("on_loop")

        outcome, task = await store.change_owner(ClaimRequest(task_id="t1", user="ann", actor="ann", at=2.0))
    finally:
        await store.close()

    assert outcome == "done"
    assert task is not None
    assert task.user == "ann"
    assert quick_writes("on_loop") == on_loop_before + 1
