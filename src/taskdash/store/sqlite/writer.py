"""Group commit for the SQLite store, which runs the writes that queue up together in one transaction.

The writes submitted here go through one connection on one thread. Quick
writes commit on the event loop instead, and come here only when the
database stays locked (see `taskdash.store.sqlite.loop_writes`). A write is
a function of that connection that must take effect atomically. While the
thread runs a batch, newly submitted writes wait in a queue, and the next
batch takes up to MAX_BATCH of them. Each write of a batch runs inside its own savepoint,
so a write that raises is rolled back alone and the others still commit.

One COMMIT per batch writes each changed page to the WAL once, not once per
write, and the event loop is woken once per batch. A write's result is
delivered only after its batch has committed. If BEGIN or COMMIT fails, or
SQLite rolls back the whole transaction by itself (the documentation of
sqlite3_get_autocommit states it may after errors such as SQLITE_FULL or
SQLITE_IOERR), every write of the batch fails with that error.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Bounds how long the first write of a batch waits for the COMMIT of the others.
MAX_BATCH = 100

# (True, result) or (False, exception) for one write.
Outcome = tuple[bool, Any]


@dataclass(slots=True)
class Write:
    """A function of the connection that runs in a batch's transaction."""

    work: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


@dataclass(slots=True)
class _Call:
    """A function that runs alone on the writer thread, outside any transaction."""

    function: Callable[[], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class BatchWriter:
    """Runs writes on its own thread, in batches, on the connection that `connection` returns.

    `connection` returns None once the store is closed; writes that run
    after that fail with sqlite3.ProgrammingError.
    """

    def __init__(self, connection: Callable[[], sqlite3.Connection | None], thread_name: str = "sqlite-writer") -> None:
        self._connection = connection
        # SimpleQueue.put takes no Python-level lock, so submitting costs the event loop little.
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        """Queue `work` and return the future of its result, which is set once its batch has committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.enqueue([Write(work, future, loop)])
        return future

    def enqueue(self, writes: list[Write]) -> None:
        """Queue writes whose futures were created by the caller, such as writes that could not run on the loop."""
        if self._stopped:
            _deliver(writes, [(False, sqlite3.ProgrammingError("the repository is closed"))] * len(writes))
            return
        for write in writes:
            self._queue.put(write)

    def submit_call(self, function: Callable[[], Any]) -> asyncio.Future[Any]:
        """Queue `function` to run alone on the writer thread and return the future of its result.

        It runs after the writes queued before it.
        """
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if self._stopped:
            future.set_exception(sqlite3.ProgrammingError("the repository is closed"))
        else:
            self._queue.put(_Call(function, future, loop))
        return future

    async def call(self, function: Callable[[], Any]) -> Any:
        """Run `function` alone on the writer thread, after the writes queued before it, and return its result."""
        if self._stopped:
            raise sqlite3.ProgrammingError("the repository is closed")
        return await self.submit_call(function)

    def checkpoint(self) -> bool:
        """Copy the WAL's pages into the database file as far as readers allow, without waiting for anyone.

        Return whether every page was copied. Runs on the writer thread, as a
        function passed to `submit_call`.
        """
        connection = self._connection()
        if connection is None:
            raise sqlite3.ProgrammingError("the repository is closed")
        _busy, wal_pages, copied_pages = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return copied_pages == wal_pages

    def stop(self) -> None:
        """Let the thread finish the queued work and exit. Later writes fail."""
        self._stopped = True
        self._queue.put(_STOP)

    def _run(self) -> None:
        next_item: Any = None
        while True:
            item = next_item if next_item is not None else self._queue.get()
            next_item = None
            if item is _STOP:
                self._fail_rest()
                return
            if isinstance(item, _Call):
                _deliver([item], [_call(item.function)])
                continue

            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if not isinstance(following, Write):
                    next_item = following
                    break
                batch.append(following)
            _deliver(batch, self._run_batch(batch))

    def _fail_rest(self) -> None:
        """Fail what was queued behind the stop, which no thread will run."""
        left = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                left.append(item)
        _deliver(left, [(False, sqlite3.ProgrammingError("the repository is closed"))] * len(left))

    def _run_batch(self, batch: list[Write]) -> list[Outcome]:
        connection = self._connection()
        if connection is None:
            return [(False, sqlite3.ProgrammingError("the repository is closed"))] * len(batch)
        try:
            return _run_transaction(connection, batch)
        except Exception as error:
            # Mostly sqlite3.Error from BEGIN, a savepoint or COMMIT. Any other error fails this batch
            # only, so that the writes queued after it still run.
            if connection.in_transaction:
                roll_back(connection)
            return [(False, error)] * len(batch)


def _run_transaction(connection: sqlite3.Connection, batch: list[Write]) -> list[Outcome]:
    connection.execute("BEGIN IMMEDIATE")
    return run_in_transaction(connection, batch)


def run_in_transaction(connection: sqlite3.Connection, batch: list[Write]) -> list[Outcome]:
    """Run the writes of `batch` in the transaction that is open on `connection`, then commit it.

    A write that raises is rolled back alone. COMMIT raises its error.
    """
    # A write that runs alone needs no savepoint, because rolling back the transaction undoes it.
    use_savepoints = len(batch) > 1
    outcomes = []
    for write in batch:
        outcomes.append(_run_one(connection, write.work, use_savepoints))
        if not connection.in_transaction:
            return _lost_transaction(batch, outcomes)
    connection.execute("COMMIT")
    return outcomes


def _run_one(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], Any], savepoint: bool) -> Outcome:
    if savepoint:
        connection.execute("SAVEPOINT batch_write")
    try:
        value = work(connection)
    except BaseException as error:
        if savepoint and connection.in_transaction:
            connection.execute("ROLLBACK TO batch_write")
            connection.execute("RELEASE batch_write")
        elif connection.in_transaction:
            connection.execute("ROLLBACK")
        return False, error
    if savepoint:
        connection.execute("RELEASE batch_write")
    return True, value


def _lost_transaction(batch: list[Write], outcomes: list[Outcome]) -> list[Outcome]:
    """Return the outcomes of a batch whose transaction was rolled back after the last write in `outcomes` failed."""
    failed = len(outcomes) - 1
    cause = outcomes[failed][1]
    error = cause if isinstance(cause, sqlite3.Error) else sqlite3.OperationalError(str(cause))
    return [outcomes[failed] if index == failed else (False, error) for index in range(len(batch))]


def roll_back(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("ROLLBACK")
    except sqlite3.Error:
        # Every write of the batch gets the error that led here, so this one adds nothing.
        pass


def _call(function: Callable[[], Any]) -> Outcome:
    try:
        return True, function()
    except BaseException as error:
        return False, error


def _deliver(items: list[Any], outcomes: list[Outcome]) -> None:
    """Set the futures of `items` with one callback per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
    for item, outcome in zip(items, outcomes, strict=True):
        by_loop.setdefault(item.loop, []).append((item.future, outcome))
    for loop, results in by_loop.items():
        try:
            loop.call_soon_threadsafe(resolve_outcomes, results)
        except RuntimeError:
            # The loop is closed, so nothing awaits these futures any more.
            pass


def resolve_outcomes(results: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for future, (ok, value) in results:
        if future.done():
            # The caller stopped waiting, for example because its task was cancelled.
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
