"""TaskWriter removes the locks it did insert when inserting others failed for a reason other than a duplicate.

A busy FerretDB cannot be made to fail one insert of a batch on demand, so
these tests give the writer a stand-in `task_lock` collection.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from taskdash.store.mongo.locks import TaskWrite, TaskWriter, lock_document
from taskdash.store.mongo.server import ServerTraits

BUSY_ERROR = {"index": 2, "code": 1, "errmsg": "database is locked (5) (SQLITE_BUSY)"}
HELD_BY_OTHER = {"index": 1, "code": 11000, "errmsg": "E11000 duplicate key error"}


class LockCollection:
    """A `task_lock` collection whose insert_many fails with `write_errors`, recording what is deleted."""

    def __init__(self, write_errors: list[dict[str, Any]]) -> None:
        self.write_errors = write_errors
        self.deleted_filters: list[dict[str, Any]] = []

    async def insert_many(self, documents: list[dict[str, Any]], ordered: bool) -> None:
        raise BulkWriteError({"writeErrors": self.write_errors, "writeConcernErrors": [], "nInserted": 1})

    async def delete_many(self, lock_filter: dict[str, Any]) -> None:
        self.deleted_filters.append(lock_filter)


class Database(dict):
    pass


def writer_with(collection: LockCollection) -> TaskWriter:
    return TaskWriter(Database(task_lock=collection), ServerTraits("test", check_conditions_here=True))  # type: ignore[arg-type]


def locks(count: int) -> list[dict[str, Any]]:
    return [lock_document(TaskWrite(f"t{index}", 1, {"status": "running"}), 0.0) for index in range(count)]


async def test_failed_insert_removes_own_locks_only() -> None:
    collection = LockCollection([HELD_BY_OTHER, BUSY_ERROR])

    with pytest.raises(BulkWriteError):
        await writer_with(collection)._insert_locks(locks(3))

    # Lock 0 went in and is removed; lock 1 is another writer's and lock 2 never went in.
    assert collection.deleted_filters == [{"_id": "1:t0"}]


async def test_only_duplicates_are_reported_as_held() -> None:
    collection = LockCollection([HELD_BY_OTHER])

    assert await writer_with(collection)._insert_locks(locks(3)) == {1}
    assert collection.deleted_filters == []
