"""SQLite reads: quick reads on the event loop, and their move to a reader thread when over budget or busy."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from taskdash.errors import StoreReadFailed
from taskdash.store.sqlite.reads import SQLiteReads

# About 300,000 virtual-machine steps: far more than any budget check allows at a budget of 0 s.
LONG_SQL = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) SELECT sum(x) FROM n"
LONG_SUM = 100000 * 100001 // 2
# About 6,000 steps: well under a millisecond.
SHORT_SQL = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000) SELECT sum(x) FROM n"


def moved_to_thread() -> float:
    return REGISTRY.get_sample_value("taskdash_sqlite_quick_reads_total", {"outcome": "moved_to_thread"}) or 0.0


def database(path: Path, journal_mode: str = "WAL") -> Path:
    with sqlite3.connect(path, isolation_level=None) as connection:
        connection.execute(f"PRAGMA journal_mode = {journal_mode}")
        connection.execute("CREATE TABLE item (name TEXT)")
        connection.execute("INSERT INTO item VALUES ('first')")
    return path


@pytest.fixture
async def reads(tmp_path: Path) -> AsyncIterator[SQLiteReads]:
    reads = SQLiteReads(database(tmp_path / "reads.db"))
    yield reads
    reads.close()


class Recorder:
    """A read that records the thread of each run."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.threads: list[int] = []

    def __call__(self, connection: sqlite3.Connection) -> object:
        self.threads.append(threading.get_ident())
        return connection.execute(self.sql).fetchone()[0]


async def test_quick_read_runs_on_loop_thread(reads: SQLiteReads) -> None:
    work = Recorder("SELECT name FROM item")

    assert await reads.quick_read(work) == "first"

    assert work.threads == [threading.get_ident()]


async def test_over_budget_read_moves_to_thread(tmp_path: Path) -> None:
    reads = SQLiteReads(database(tmp_path / "reads.db"), quick_read_seconds=0.0)
    work = Recorder(LONG_SQL)
    moved_before = moved_to_thread()
    try:
        assert await reads.quick_read(work) == LONG_SUM
    finally:
        reads.close()

    assert work.threads[0] == threading.get_ident()
    assert len(work.threads) == 2
    assert work.threads[1] != threading.get_ident()
    assert moved_to_thread() == moved_before + 1


async def test_read_within_budget_stays_on_loop(reads: SQLiteReads) -> None:
    reads.quick_read_seconds = 10.0
    work = Recorder(LONG_SQL)

    assert await reads.quick_read(work) == LONG_SUM

    assert work.threads == [threading.get_ident()]


async def test_interrupted_transaction_is_rolled_back(tmp_path: Path) -> None:
    path = database(tmp_path / "reads.db")
    reads = SQLiteReads(path, quick_read_seconds=0.0)

    def long_read_in_transaction(connection: sqlite3.Connection) -> int:
        connection.execute("BEGIN")
        # Reading a table starts the transaction's snapshot.
        connection.execute("SELECT count(*) FROM item").fetchone()
        return connection.execute(LONG_SQL).fetchone()[0]

    try:
        await reads.quick_read(long_read_in_transaction)
        with sqlite3.connect(path) as writer:
            writer.execute("INSERT INTO item VALUES ('second')")
        reads.quick_read_seconds = 10.0
        names = await reads.quick_read(lambda connection: connection.execute("SELECT name FROM item").fetchall())
    finally:
        reads.close()

    # A transaction left open on the loop's connection would keep the snapshot from before the insert.
    assert sorted(name for (name,) in names) == ["first", "second"]


async def test_busy_read_waits_on_thread(tmp_path: Path) -> None:
    # In rollback-journal mode an exclusive lock blocks readers. In WAL mode a writer does not.
    path = database(tmp_path / "reads.db", journal_mode="DELETE")
    reads = SQLiteReads(path)
    # A first read opens the loop's connection while the database is free.
    await reads.quick_read(Recorder("SELECT 1"))
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("INSERT INTO item VALUES ('second')")
    work = Recorder("SELECT count(*) FROM item")
    moved_before = moved_to_thread()
    try:
        asyncio.get_running_loop().call_later(0.3, locker.execute, "COMMIT")
        count = await reads.quick_read(work)
    finally:
        locker.close()
        reads.close()

    assert count == 2
    assert work.threads[0] == threading.get_ident()
    assert work.threads[-1] != threading.get_ident()
    assert moved_to_thread() == moved_before + 1


async def test_busy_first_read_moves_to_thread(tmp_path: Path) -> None:
    path = database(tmp_path / "reads.db", journal_mode="DELETE")
    reads = SQLiteReads(path)
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    work = Recorder("SELECT count(*) FROM item")
    try:
        asyncio.get_running_loop().call_later(0.3, locker.execute, "COMMIT")
        count = await reads.quick_read(work)
        # The loop's connection opens at the next quick read, now that the lock is gone.
        after = Recorder("SELECT count(*) FROM item")
        await reads.quick_read(after)
    finally:
        locker.close()
        reads.close()

    assert count == 1
    assert len(work.threads) == 1
    assert work.threads[0] != threading.get_ident()
    assert after.threads == [threading.get_ident()]


async def test_failed_quick_read_raises_without_retry(reads: SQLiteReads) -> None:
    work = Recorder("SELECT name FROM no_such_table")

    with pytest.raises(StoreReadFailed, match="no such table"):
        await reads.quick_read(work)

    assert work.threads == [threading.get_ident()]


@pytest.mark.parametrize("quick", [True, False])
async def test_failed_read_ends_transaction(tmp_path: Path, quick: bool) -> None:
    path = database(tmp_path / "reads.db")
    reads = SQLiteReads(path, threads=1)
    read = reads.quick_read if quick else reads.read

    def failing_read(connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN")
        connection.execute("SELECT name FROM item").fetchall()
        raise ValueError("a bug in the read")

    try:
        with pytest.raises(ValueError):
            await read(failing_read)
        with sqlite3.connect(path) as writer:
            writer.execute("INSERT INTO item VALUES ('second')")
        count = await read(lambda connection: connection.execute("SELECT count(*) FROM item").fetchone()[0])
    finally:
        reads.close()

    assert count == 2



async def test_quick_reads_in_a_row_yield_to_loop(reads: SQLiteReads) -> None:
    # No single read comes near the budget, but 200 of them add up to more than it.
    reads.quick_read_seconds = 0.05
    ticks = 0

    async def count_ticks() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(count_ticks())
    await asyncio.sleep(0)
    ticks_before = ticks
    moved_before = moved_to_thread()
    started = time.perf_counter()
    try:
        for _ in range(200):
            await reads.quick_read(lambda connection: connection.execute(SHORT_SQL).fetchone())
    finally:
        ticker.cancel()

    assert time.perf_counter() - started > reads.quick_read_seconds
    assert moved_to_thread() == moved_before
    assert ticks > ticks_before
