"""Reads of the SQLite store: a pool of reader threads, and quick reads on the event loop.

Handing a read to a thread and back costs the event loop about 100 us of
CPU: a pool submit, a thread wake-up, and a self-pipe write to wake the
loop. That is more than most indexed reads take, such as the 50 us for the
keys of a page of 50 tasks (estimates from a shared 2-core machine, Python
3.11, SQLite 3.40, uvloop). So a read that is usually short can run as a
quick read on the event loop's own connection, within a time budget.

SQLite calls a progress handler every CHECK_STEPS virtual-machine steps,
and the handler interrupts the statement once the read has run longer than
the budget. The whole read then runs again on a reader thread, and so does
a read that finds the database busy. A read that goes to a thread thus
blocks the loop for little more than the budget. Quick reads that follow
each other without a pause, such as one per task of a bulk action, yield to
the loop once their time adds up to the budget.

NOTE: SQLite calls the handler between steps, so one slow step exceeds the
budget by its own time: a disk read, or a function call such as LIKE on a
long text. So reads with a text filter should not be quick reads.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import structlog

from taskdash.errors import StoreReadFailed
from taskdash.metrics import SQLITE_QUICK_READS

log = structlog.get_logger("taskdash.store.sqlite")

T = TypeVar("T")

_ON_LOOP = SQLITE_QUICK_READS.labels("on_loop")
_MOVED_TO_THREAD = SQLITE_QUICK_READS.labels("moved_to_thread")

READER_THREADS = 2
# Milliseconds that a connection waits for a lock that another connection holds.
BUSY_TIMEOUT_MS = 10_000
# Seconds that a quick read may run on the event loop. A page of 50 tasks takes about 0.06 ms, or about
# 0.35 ms when the JSON of all 50 tasks must be built anew (same estimate as above).
QUICK_READ_SECONDS = 0.002
# Steps of a statement between two checks of the time. One step takes 50 to 200 ns on the machine above.
CHECK_STEPS = 1000


def connect(path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """Open a connection to the store's database in autocommit mode, usable from any thread."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error:
        connection.close()
        raise
    return connection


def is_busy(error: sqlite3.Error) -> bool:
    # sqlite_errorcode is the extended result code, such as SQLITE_BUSY_RECOVERY. Its low byte is the primary code.
    return error.sqlite_errorcode is not None and error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def _run_read(work: Callable[[sqlite3.Connection], T], connection: sqlite3.Connection) -> T:
    try:
        return work(connection)
    finally:
        # A transaction that `work` left open, after an error or otherwise, would hold its snapshot for every
        # later read on this connection.
        if connection.in_transaction:
            connection.rollback()


class SQLiteReads:
    """Reads on reader threads, and quick reads on the event loop's connection."""

    def __init__(
        self, path: Path, threads: int = READER_THREADS, quick_read_seconds: float = QUICK_READ_SECONDS
    ) -> None:
        self.path = path
        self.quick_read_seconds = quick_read_seconds
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        # The connection of quick reads. It is only used on the event loop's thread, one read at a time,
        # because a quick read does not await while it uses the connection.
        self._loop_connection: sqlite3.Connection | None = None
        self._closed = False
        self._deadline = 0.0
        self._over_budget = False
        # Seconds that quick reads have run on the loop since they last yielded to it.
        self._loop_seconds = 0.0

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on a reader thread's connection and return its result."""
        def run() -> T:
            return _run_read(work, self._thread_connection())

        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, run)
        except sqlite3.Error as error:
            raise self._read_failed(error) from error

    async def quick_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the event loop within the time budget, or on a reader thread when it does not fit.

        `work` may run twice, so it must not write.
        """
        if self._closed:
            return await self.read(work)

        started = time.perf_counter()
        self._over_budget = False
        self._deadline = started + self.quick_read_seconds
        try:
            connection = self._loop_connection or self._open_loop_connection()
            result = _run_read(work, connection)
        except sqlite3.Error as error:
            if not self._over_budget and not is_busy(error):
                raise self._read_failed(error) from error
            _MOVED_TO_THREAD.inc()
            return await self.read(work)
        _ON_LOOP.inc()

        self._loop_seconds += time.perf_counter() - started
        if self._loop_seconds >= self.quick_read_seconds:
            self._loop_seconds = 0.0
            await asyncio.sleep(0)
        return result

    def close(self) -> None:
        """Wait for running reads, then close every connection.

        A quick read after this raises RuntimeError, as a read does.
        """
        self._closed = True
        self._pool.shutdown(wait=True)
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._loop_connection = None

    def _read_failed(self, error: sqlite3.Error) -> StoreReadFailed:
        log.error("sqlite_read_failed", path=str(self.path), error=str(error))
        return StoreReadFailed(f"reading {self.path} failed: {error}")

    def _thread_connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._track(connect(self.path))
            self._local.connection = connection
        return connection

    def _open_loop_connection(self) -> sqlite3.Connection:
        # Waiting for a lock would hold the loop, so this connection does not wait: a busy database sends
        # the read to a thread instead, whose connection waits up to BUSY_TIMEOUT_MS.
        connection = connect(self.path, busy_timeout_ms=0)
        connection.set_progress_handler(self._check_time, CHECK_STEPS)
        self._loop_connection = self._track(connection)
        return connection

    def _check_time(self) -> bool:
        # Returning True interrupts the running statement.
        if time.perf_counter() <= self._deadline:
            return False
        self._over_budget = True
        return True

    def _track(self, connection: sqlite3.Connection) -> sqlite3.Connection:
        with self._connections_lock:
            self._connections.append(connection)
        return connection
