"""Quick writes: small writes that commit on the event loop's own connection.

A write handed to the writer thread makes the two threads take turns on the
GIL: the thread needs it back after every SQLite call, and the loop holds
it while it serves requests. Under a steady stream of claims the two end up
running one after the other, and the server uses one core whatever the
machine has. A claim, one indexed row and one history row, takes about
0.1 ms in SQLite, so it costs the loop less to run it itself.

Quick writes submitted in the same turn of the loop share one transaction,
each in its own savepoint, as a batch of the writer thread does (see
`taskdash.store.sqlite.writer`). The batch runs when the loop next runs
its ready callbacks, at most MAX_BATCH writes at a time.

The loop's connection does not wait for locks, so when the writer thread
or another process holds the database's write lock, BEGIN IMMEDIATE fails
at once. The batch then stays on the loop and tries again every
RETRY_SECONDS. A batch that still finds the database locked after
MAX_WAIT_SECONDS moves to the writer thread, whose connection waits for
the lock. Moving at the first failure would not do: the writer thread
would then be busy with the moved writes whenever the loop tries, and
every later write would move too.

A COMMIT may checkpoint the WAL into the database file, with an fsync,
which must not hold the loop. So the loop's connection never checkpoints
by itself. After every CHECKPOINT_EVERY batches it queues a passive
checkpoint on the writer thread, and the loop commits nothing until that
has run. SQLite starts the WAL again from its beginning only at a write
that begins after a complete checkpoint. Were the loop to go on writing
during the checkpoint, under a steady stream of quick writes the next one
would always have begun, and the WAL would grow without end. A checkpoint
is complete unless a reader still uses an older snapshot.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from taskdash.metrics import SQLITE_QUICK_WRITES
from taskdash.store.sqlite.reads import connect, is_busy
from taskdash.store.sqlite.writer import BatchWriter, Outcome, Write, resolve_outcomes, roll_back, run_in_transaction

log = structlog.get_logger("taskdash.store.sqlite")

_ON_LOOP = SQLITE_QUICK_WRITES.labels("on_loop")
_MOVED_TO_THREAD = SQLITE_QUICK_WRITES.labels("moved_to_thread")

# Writes per transaction on the loop. At about 0.1 ms each, a batch blocks the loop for a few milliseconds.
MAX_BATCH = 32
# Batches committed on the loop between two checkpoints on the writer thread. SQLite's own default
# checkpoints every 1,000 WAL pages, and a batch of claims writes roughly 20 to 100 pages.
CHECKPOINT_EVERY = 16
# Seconds between two tries of a batch that found the database locked, and the time after which it
# moves to the writer thread. A batch of the writer thread keeps the lock for a few milliseconds.
RETRY_SECONDS = 0.001
MAX_WAIT_SECONDS = 0.05


class _Locked(Exception):
    """Raised when BEGIN IMMEDIATE or COMMIT on the loop's connection finds the database locked."""


class LoopWriter:
    """Runs quick writes on the event loop, and moves them to `writer` when the database stays locked."""

    def __init__(self, path: Path, writer: BatchWriter) -> None:
        self.path = path
        self._writer = writer
        # Used only on the thread of the loop that runs the batches, one batch at a time, because a batch
        # does not await while it uses the connection.
        self._connection: sqlite3.Connection | None = None
        self._pending: list[Write] = []
        self._pending_loop: asyncio.AbstractEventLoop | None = None
        # Whether a call of _run_pending is scheduled. While a checkpoint runs, none is, and the
        # checkpoint's completion schedules the next.
        self._scheduled = False
        # Loop time at which the first pending batch first found the database locked.
        self._locked_since: float | None = None
        self._closed = False
        self._batches_since_checkpoint = 0
        self._checkpoint: asyncio.Future[Any] | None = None

    def submit(self, work: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        """Queue `work` for the next batch on the loop and return the future of its result.

        The future is set once the write's transaction has committed, on the
        loop or on the writer thread.
        """
        loop = asyncio.get_running_loop()
        write = Write(work, loop.create_future(), loop)
        if self._pending_loop is not None and self._pending_loop.is_closed():
            # That loop closed before it ran its batch, so nothing awaits those writes any more.
            self._move_to_thread(self._pending)
            self._pending, self._pending_loop, self._scheduled = [], None, False

        if self._closed or (self._pending and loop is not self._pending_loop):
            # The connection serves one loop only, and another loop's writes are waiting.
            self._move_to_thread([write])
            return write.future

        self._pending.append(write)
        self._pending_loop = loop
        self._schedule(loop)
        return write.future

    def close(self) -> None:
        """Close the loop's connection. Quick writes from now on go to the writer thread."""
        self._closed = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _schedule(self, loop: asyncio.AbstractEventLoop, delay: float = 0.0) -> None:
        if self._scheduled or self._checkpoint is not None:
            return
        self._scheduled = True
        if delay:
            loop.call_later(delay, self._run_pending)
        else:
            loop.call_soon(self._run_pending)

    def _run_pending(self) -> None:
        self._scheduled = False
        loop = self._pending_loop
        if not self._pending or loop is None or self._checkpoint is not None:
            return
        if self._closed:
            self._move_to_thread(self._pending)
            self._pending, self._pending_loop = [], None
            return

        batch = self._pending[:MAX_BATCH]
        try:
            outcomes = self._run_batch(batch)
        except _Locked:
            now = loop.time()
            if self._locked_since is None:
                self._locked_since = now
            if now - self._locked_since < MAX_WAIT_SECONDS:
                self._schedule(loop, RETRY_SECONDS)
                return
            outcomes = None

        self._locked_since = None
        del self._pending[:len(batch)]
        if outcomes is None:
            self._move_to_thread(batch)
        else:
            _ON_LOOP.inc(len(batch))
            resolve_outcomes([(write.future, outcome) for write, outcome in zip(batch, outcomes, strict=True)])
            self._count_batch()

        if self._pending:
            # The writes past MAX_BATCH run in the next turn, after the loop has served I/O.
            self._schedule(loop)
        else:
            self._pending_loop = None

    def _run_batch(self, batch: list[Write]) -> list[Outcome] | None:
        """Run `batch` in one transaction and return its outcomes, or None when it must run on the writer thread.

        Raise _Locked when the database is locked and nothing of the batch has run.
        """
        try:
            connection = self._connection or self._open()
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            if is_busy(error):
                raise _Locked from error
            log.warning("sqlite_loop_write_failed", path=str(self.path), error=str(error), writes=len(batch))
            return None

        try:
            return run_in_transaction(connection, batch)
        except Exception as error:
            # COMMIT failed, or SQLite rolled the transaction back by itself. Nothing of the batch was
            # committed, so it may run again when the database was locked. Any other error fails it.
            if connection.in_transaction:
                roll_back(connection)
            if isinstance(error, sqlite3.Error) and is_busy(error):
                raise _Locked from error
            return [(False, error)] * len(batch)

    def _open(self) -> sqlite3.Connection:
        connection = connect(self.path, busy_timeout_ms=0)
        try:
            connection.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.Error:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _move_to_thread(self, writes: list[Write]) -> None:
        _MOVED_TO_THREAD.inc(len(writes))
        self._writer.enqueue(writes)

    def _count_batch(self) -> None:
        self._batches_since_checkpoint += 1
        if self._batches_since_checkpoint < CHECKPOINT_EVERY or self._checkpoint is not None:
            return
        self._batches_since_checkpoint = 0
        self._checkpoint = self._writer.submit_call(self._writer.checkpoint)
        self._checkpoint.add_done_callback(self._checkpoint_done)

    def _checkpoint_done(self, future: asyncio.Future[Any]) -> None:
        self._checkpoint = None
        if self._pending_loop is not None:
            self._schedule(self._pending_loop)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None and not self._closed:
            log.warning("sqlite_checkpoint_failed", path=str(self.path), error=str(error))
