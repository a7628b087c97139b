"""Version-checked task writes that are atomic on MongoDB and on FerretDB.

A conditional update such as `update_one({"_id": t, "version": 3}, ...)` is
atomic on MongoDB, but not on FerretDB 1.24: its SQLite handler reads the
matching documents, changes them in memory and writes each whole document
back by `_id`, in separate steps. When 50 clients raced that update on
FerretDB 1.24.2, six of them matched and wrote. FerretDB enforces only the
unique `_id` index atomically, so that is what the writes here rely on.

Every write that moves a task from version v to v + 1 first inserts a lock
document with `_id` "v:task_id" into the `task_lock` collection. Of any
number of writers of version v, exactly one insert succeeds; the others get
a duplicate key error and lose. The lock document carries the whole write
(its `management` and `metadata` fields and its history entries), so the
write is decided once the lock exists. The winner then applies it:

1. It reads the task again. A writer whose version was already stale can
   still win the insert, because finished writes delete their locks. If the
   task is no longer at version v, it deletes its lock and reports the
   version as stale.
2. It inserts the history entries, with ids derived from the version, so a
   repeat stores each entry once.
3. It updates the `metadata` mirror, then the `management` document
   (filtered by `version` v, setting v + 1; on FerretDB it reads the
   version first and filters by `_id` alone, see
   taskdash.store.mongo.server), then deletes the lock.

Only the holder of the lock for the current version writes a task, so no
two writes of one task overlap, even on FerretDB. A loser waits until the
winner's write lands and then reports its own version as stale, so the
caller reloads and decides again. A lock whose writer died between steps 1
and 3 would block the task forever, so a lock older than ABANDONED_AFTER is
completed by whichever writer finds it (steps 2 and 3 are idempotent).

NOTE: a write that fails after its lock is in place and before step 2, for
example because the server went away, has its lock removed if the server
still accepts that. Otherwise, and after a failure in step 2 or 3, the task
stays locked until ABANDONED_AFTER passes and the next writer completes the
write. Until then its claims fail with StoreWriteFailed and its other writes
are reported stale, and the caller that saw the failure cannot tell whether
its write will land.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, PyMongoError

from taskdash.store.mongo.documents import HISTORY, MANAGEMENT, METADATA, TASK_LOCK, history_document
from taskdash.store.mongo.operations import bulk_write_chunked, duplicate_indexes, retry_while_busy
from taskdash.store.mongo.server import ServerTraits, id_filter
from taskdash.store.records import HistoryEntry

log = structlog.get_logger("taskdash.store.mongo")

# Seconds a loser waits for the winner's write to land before it gives up.
LOCK_WAIT = 5.0
# Seconds after which a lock counts as abandoned by a crashed writer. A live writer has at most five
# operations left after taking its lock. With the default client timeouts of 5 s for server selection
# and 30 s for a socket read, each fails within 35 s, so all five end within 175 s.
ABANDONED_AFTER = 300.0


@dataclass(slots=True)
class TaskWrite:
    """One write that moves the task `task_id` from `version` to `version + 1`."""

    task_id: str
    version: int
    # `management` fields to set, besides `version`.
    management: dict[str, Any]
    # `metadata` fields to set; `metadata_upsert` creates the document when it is absent.
    metadata: dict[str, Any] | None = None
    metadata_upsert: bool = False
    history: list[HistoryEntry] = field(default_factory=list)


@dataclass(slots=True)
class WriteResult:
    """Task ids of one `TaskWriter.write` call, by outcome."""

    written: list[str] = field(default_factory=list)
    # The stored version had moved on; nothing was written.
    stale: list[str] = field(default_factory=list)
    # Another write held the task's lock for longer than the wait; nothing was written.
    blocked: list[str] = field(default_factory=list)
    # Called with `wait=False`: another write holds the task's lock for this version; nothing was written.
    contended: list[str] = field(default_factory=list)


def lock_id(task_id: str, version: int) -> str:
    return f"{version}:{task_id}"


def lock_document(write: TaskWrite, at: float) -> dict[str, Any]:
    """Return the `task_lock` document of `write`, taken at `at` (Unix seconds)."""
    new_version = write.version + 1
    return {
        "_id": lock_id(write.task_id, write.version), "task_id": write.task_id, "version": write.version,
        "at": at, "management": write.management, "metadata": write.metadata,
        "metadata_upsert": write.metadata_upsert,
        "history": [history_document(entry, new_version, index) for index, entry in enumerate(write.history)],
    }


class TaskWriter:
    """Applies version-checked task writes through `task_lock` documents."""

    def __init__(self, database: AsyncDatabase, server: ServerTraits, lock_wait: float = LOCK_WAIT,
                 abandoned_after: float = ABANDONED_AFTER) -> None:
        self._database = database
        self._server = server
        self.lock_wait = lock_wait
        self.abandoned_after = abandoned_after

    async def write(self, writes: Sequence[TaskWrite], wait: bool = True) -> WriteResult:
        """Apply each write whose task is still at its version; raise PyMongoError if the server fails.

        A write whose lock another writer holds waits for that writer's write
        to land and is then reported stale (or blocked after `lock_wait`).
        With `wait` False it is reported contended at once instead.
        """
        result = WriteResult()
        unique: dict[str, TaskWrite] = {}
        for write in writes:
            # A second write of one task in the same call is stale: the first one moves the version on.
            if write.task_id in unique:
                result.stale.append(write.task_id)
            else:
                unique[write.task_id] = write
        if not unique:
            return result

        now = time.time()
        locks = [lock_document(write, now) for write in unique.values()]
        lost = await self._insert_locks(locks)
        won = [lock for index, lock in enumerate(locks) if index not in lost]

        try:
            current = await self._versions([lock["task_id"] for lock in won])
        except PyMongoError:
            # Nothing of these writes is stored yet, so removing their locks cancels them.
            await self._delete_locks_if_possible(won)
            raise
        stale = [lock for lock in won if current.get(lock["task_id"]) != lock["version"]]
        if stale:
            await self._delete_locks(stale)
            result.stale.extend(lock["task_id"] for lock in stale)
        ready = [lock for lock in won if current.get(lock["task_id"]) == lock["version"]]
        await self._apply(ready)
        result.written.extend(lock["task_id"] for lock in ready)

        if lost and not wait:
            result.contended.extend(locks[index]["task_id"] for index in sorted(lost))
        elif lost:
            contended = {locks[index]["task_id"]: locks[index]["version"] for index in lost}
            blocked = await self.wait_for(contended)
            result.blocked.extend(blocked)
            result.stale.extend(task_id for task_id in contended if task_id not in blocked)
        return result

    async def _insert_locks(self, locks: list[dict[str, Any]]) -> set[int]:
        """Insert the locks and return the indexes of those that another writer holds.

        When some inserts fail for another reason, such as a busy FerretDB,
        the locks that did go in are removed before the error is raised, since
        nothing else of their writes is stored yet.
        """
        try:
            await self._database[TASK_LOCK].insert_many(locks, ordered=False)
        except BulkWriteError as error:
            try:
                return duplicate_indexes(error)
            except BulkWriteError:
                failed = {write_error["index"] for write_error in error.details.get("writeErrors", [])}
                inserted = [lock for index, lock in enumerate(locks) if index not in failed]
                if inserted:
                    await self._delete_locks_if_possible(inserted)
                raise
        return set()

    async def _versions(self, task_ids: list[str]) -> dict[str, int]:
        if not task_ids:
            return {}
        cursor = self._database[MANAGEMENT].find(id_filter(task_ids), {"version": 1})
        return {document["_id"]: document["version"] for document in await cursor.to_list()}

    async def _delete_locks(self, locks: list[dict[str, Any]]) -> None:
        await self._database[TASK_LOCK].delete_many(id_filter([lock["_id"] for lock in locks]))

    async def _delete_locks_if_possible(self, locks: list[dict[str, Any]]) -> None:
        try:
            await self._delete_locks(locks)
        except PyMongoError as error:
            log.warning(
                "task_locks_left", task_ids=[lock["task_id"] for lock in locks][:10], count=len(locks),
                abandoned_after=self.abandoned_after, error=str(error),
            )

    async def _apply(self, locks: list[dict[str, Any]]) -> None:
        """Apply the writes of locks whose tasks are at the locked version: history, metadata, management, unlock.

        Each step can run twice without harm, so an abandoned lock is completed
        by running this again, and a step that finds the database busy runs
        all of them again rather than leave the lock for ABANDONED_AFTER.
        """
        if locks:
            await retry_while_busy(lambda: self._apply_once(locks), "apply_task_writes")

    async def _apply_once(self, locks: list[dict[str, Any]]) -> None:
        history = [entry for lock in locks for entry in lock["history"]]
        if history:
            try:
                await self._database[HISTORY].insert_many(history, ordered=False)
            except BulkWriteError as error:
                duplicate_indexes(error)

        # None of these updates can fail with a write error: the upserts filter on `_id` alone, so they never
        # hit a duplicate key. Keep it so, because pymongo 4.20 raises KeyError('nModified') when FerretDB 1.24
        # reports a write error inside a bulk update.
        metadata = [
            UpdateOne({"_id": lock["task_id"]}, {"$set": lock["metadata"]}, upsert=lock["metadata_upsert"])
            for lock in locks
            if lock["metadata"]
        ]
        if metadata:
            await bulk_write_chunked(self._database[METADATA], metadata, ordered=False)

        await self._update_management(locks)
        await self._delete_locks(locks)

    async def _update_management(self, locks: list[dict[str, Any]]) -> None:
        """Set each locked task's `management` fields and its next version, if it is still at the locked version."""
        if self._server.check_conditions_here:
            # Read the versions again just before the update, which filters on `_id` alone: see
            # taskdash.store.mongo.server for why FerretDB is written to this way.
            current = await self._versions([lock["task_id"] for lock in locks])
            at_version = [lock for lock in locks if current.get(lock["task_id"]) == lock["version"]]
            filters = [{"_id": lock["task_id"]} for lock in at_version]
        else:
            at_version = locks
            filters = [{"_id": lock["task_id"], "version": lock["version"]} for lock in locks]
        management = [
            UpdateOne(task_filter, {"$set": {**lock["management"], "version": lock["version"] + 1}})
            for task_filter, lock in zip(filters, at_version, strict=True)
        ]
        if management:
            await bulk_write_chunked(self._database[MANAGEMENT], management, ordered=False)

    async def pending_changes(self, task_id: str, version: int) -> dict[str, Any] | None:
        """Return the `management` fields that the live write holding the lock of (task, version) sets, or None.

        The lock is read first and the task's version after it. If the task is
        still at `version` then, the lock's writer read that version too, so
        its write lands, unless the server fails before the writer's own check
        of the version (its lock is then removed). None means no such write:
        the lock is gone, abandoned (`wait_for` completes it), or the task has
        moved past `version`, which makes the lock's writer stale.
        """
        lock = await self._database[TASK_LOCK].find_one({"_id": lock_id(task_id, version)}, {"management": 1, "at": 1})
        if lock is None or time.time() - lock["at"] >= self.abandoned_after:
            return None
        if (await self._versions([task_id])).get(task_id) != version:
            return None
        return lock["management"]

    async def wait_for(self, contended: dict[str, int]) -> list[str]:
        """Wait until the writes holding these (task id -> version) locks land; return the task ids still locked."""
        deadline = time.monotonic() + self.lock_wait
        delay = 0.005
        pending = dict(contended)
        while True:
            pending = await self._still_locked(pending)
            if not pending or time.monotonic() >= deadline:
                return sorted(pending)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)

    async def _still_locked(self, pending: dict[str, int]) -> dict[str, int]:
        """Return the (task id -> version) pairs whose task is still at that version under a live lock.

        A lock older than `abandoned_after` is completed here, so its task drops out.
        """
        current = await self._versions(list(pending))
        pending = {task_id: version for task_id, version in pending.items() if current.get(task_id) == version}
        if not pending:
            return {}

        cursor = self._database[TASK_LOCK].find(
            id_filter([lock_id(task_id, version) for task_id, version in pending.items()])
        )
        locks = await cursor.to_list()
        # A lock that is gone although its task was at the locked version was deleted by a stale writer,
        # or by a winner that finished after the versions were read. Either way the caller can reload.
        locked_task_ids = {lock["task_id"] for lock in locks}

        # NOTE: on FerretDB, completing the lock of a writer that is slow rather than dead can
        # overwrite a later version, because the slow writer's update reads before it writes.
        # ABANDONED_AFTER is far above a live writer's time, which makes that unlikely but not impossible.
        abandoned = [lock for lock in locks if time.time() - lock["at"] >= self.abandoned_after]
        if abandoned:
            log.warning(
                "task_lock_abandoned", task_ids=[lock["task_id"] for lock in abandoned][:10],
                count=len(abandoned), abandoned_after=self.abandoned_after,
            )
            await self._apply(abandoned)
            locked_task_ids -= {lock["task_id"] for lock in abandoned}
        return {task_id: version for task_id, version in pending.items() if task_id in locked_task_ids}
