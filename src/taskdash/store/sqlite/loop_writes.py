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
the lock. Later quick writes wait on the loop until the moved ones have
finished, so that writes commit in the order of submission. Moving at the
first failure would not do: the writer thread would then be busy with the
moved writes whenever the loop tries, and every later write would move
too.

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
# Batches after a checkpoint that a reader kept from completing, before the next one.
CHECKPOINT_AGAIN_EVERY = 4
# Seconds between two tries of a batch that found the database locked, and the time after which it
# moves to the writer thread. A batch of the writer thread keeps the lock for a few milliseconds.
RETRY_SECONDS = 0.001
MAX_WAIT_SECONDS = 0.05


class _Locked(Exception):
    """Raised when BEGIN IMMEDIATE or COMMIT on the loop's connection finds the database locked."""


class LoopWriter:
    """Runs quick writes on one event loop, and moves them to `writer` when the database stays locked.

    The first loop that submits a write owns the connection until it
    closes. Writes submitted from any other loop meanwhile go to the
    writer thread, so every other attribute is used on the owning loop's
    thread only.
    """

    def __init__(self, path: Path, writer: BatchWriter) -> None:
        self.path = path
        self._writer = writer
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: sqlite3.Connection | None = None
        self._pending: list[Write] = []
        # Whether a call of _run_pending is scheduled. None is while the loop waits for a checkpoint,
        # whose completion schedules the next.
        self._scheduled = False
        # Loop time at which the first pending batch first had to wait.
        self._waiting_since: float | None = None
        # Writes moved to the writer thread that have not finished yet. Later writes wait for them, so
        # that writes commit in the order of submission.
        self._moved_unfinished = 0
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
        if self._loop is not None and self._loop.is_closed():
            self._release_loop()
        if self._closed or (self._loop is not None and loop is not self._loop):
            self._move_to_thread([write])
            return write.future

        self._loop = loop
        self._pending.append(write)
        self._schedule()
        return write.future

    def close(self) -> None:
        """Move the pending writes to the writer thread and close the loop's connection.

        Quick writes from now on go to the writer thread. The repository
        closes the writer thread's connection after this, so the moved writes
        commit first.
        """
        self._closed = True
        self._move_to_thread(self._pending)
        self._pending = []
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _release_loop(self) -> None:
        """Forget the owning loop, which has closed, and what was waiting on it."""
        # Nothing awaits these writes any more, but they were submitted, so they still run.
        self._move_to_thread(self._pending)
        self._pending = []
        self._loop = None
        self._scheduled = False
        self._waiting_since = None
        self._moved_unfinished = 0
        self._checkpoint = None

    def _schedule(self, delay: float = 0.0) -> None:
        if self._scheduled or self._checkpoint is not None or self._loop is None:
            return
        self._scheduled = True
        if delay:
            self._loop.call_later(delay, self._run_pending)
        else:
            self._loop.call_soon(self._run_pending)

    def _run_pending(self) -> None:
        self._scheduled = False
        loop = self._loop
        if not self._pending or loop is None or self._checkpoint is not None:
            return

        batch = self._pending[:MAX_BATCH]
        try:
            if self._moved_unfinished:
                raise _Locked
            outcomes = self._run_batch(batch)
        except _Locked:
            now = loop.time()
            if self._waiting_since is None:
                self._waiting_since = now
            if now - self._waiting_since < MAX_WAIT_SECONDS:
                self._schedule(RETRY_SECONDS)
                return
            outcomes = None

        self._waiting_since = None
        del self._pending[:len(batch)]
        if outcomes is None:
            self._move_to_thread(batch)
        else:
            _ON_LOOP.inc(len(batch))
            resolve_outcomes([(write.future, outcome) for write, outcome in zip(batch, outcomes, strict=True)])
            self._count_batch()

        # The writes past MAX_BATCH run in the next turn, after the loop has served I/O.
        self._schedule()

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
        if not writes:
            return
        _MOVED_TO_THREAD.inc(len(writes))
        self._writer.enqueue(writes)
        if self._loop is None:
            return
        for write in writes:
            if write.loop is self._loop:
                self._moved_unfinished += 1
                write.future.add_done_callback(self._moved_write_done)

    def _moved_write_done(self, future: asyncio.Future[Any]) -> None:
        self._moved_unfinished = max(0, self._moved_unfinished - 1)
        if not self._moved_unfinished:
            self._schedule()

    def _count_batch(self) -> None:
        self._batches_since_checkpoint += 1
        if self._batches_since_checkpoint < CHECKPOINT_EVERY or self._checkpoint is not None:
            return
        self._batches_since_checkpoint = 0
        self._checkpoint = self._writer.submit_call(self._writer.checkpoint)
        self._checkpoint.add_done_callback(self._checkpoint_done)

    def _checkpoint_done(self, future: asyncio.Future[Any]) -> None:
        if future is not self._checkpoint:
            # The checkpoint of a loop that has closed since.
            return
        self._checkpoint = None
        self._schedule()
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            if not self._closed:
                log.warning("sqlite_checkpoint_failed", path=str(self.path), error=str(error))
            return
        complete = future.result()
        if not complete:
            # A reader still uses an older snapshot, so try again sooner than usual.
            self._batches_since_checkpoint = CHECKPOINT_EVERY - CHECKPOINT_AGAIN_EVERY
