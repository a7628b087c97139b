"""Helpers shared by the MongoDB store's modules: error mapping, inserts that skip taken ids, chunked bulk writes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import structlog
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.operations import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from taskdash.errors import StoreReadFailed, StoreWriteFailed

log = structlog.get_logger("taskdash.store.mongo")

T = TypeVar("T")

DUPLICATE_KEY = 11000

# FerretDB 1.24.2 with its SQLite handler does not respond to an update command of 100 or more updates until the
# client times out, while 99 take well under a second (measured with pymongo's bulk_write). Bulk writes are
# therefore sent in chunks of this size; the contract tests write 250 services and 250 tasks at once.
MAX_WRITES_PER_COMMAND = 99

# FerretDB 1.24's SQLite handler fails a write with "database is locked (5) (SQLITE_BUSY)" when other writes keep
# the database file locked past its wait, as 50 clients claiming at once on a busy machine did.
BUSY_MARKER = "SQLITE_BUSY"
BUSY_ATTEMPTS = 5
BUSY_FIRST_DELAY = 0.05

WriteOperation = InsertOne | UpdateOne | UpdateMany | ReplaceOne | DeleteOne | DeleteMany


def store_operation(kind: str) -> Callable[[Callable[..., Awaitable[T]]], Callable[..., Awaitable[T]]]:
    """Turn PyMongoError in the decorated method into StoreReadFailed ("read") or StoreWriteFailed ("write").

    The method's object must have the database in `_db`.
    """
    failure = StoreReadFailed if kind == "read" else StoreWriteFailed

    def decorate(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        @functools.wraps(method)
        async def run(self: Any, *args: Any, **kwargs: Any) -> T:
            try:
                return await method(self, *args, **kwargs)
            except PyMongoError as error:
                database = self._db.name
                log.error("mongo_operation_failed", operation=method.__name__, database=database, error=str(error))
                message = f"MongoDB {kind} in {method.__name__} on database {database!r} failed: {error}"
                raise failure(message) from error

        return run

    return decorate


def duplicate_indexes(error: BulkWriteError) -> set[int]:
    """Return the indexes of the documents that a bulk insert skipped as duplicates; re-raise any other error."""
    details = error.details
    if details.get("writeConcernErrors") or any(e["code"] != DUPLICATE_KEY for e in details["writeErrors"]):
        raise error
    return {e["index"] for e in details["writeErrors"]}


async def insert_new(collection: AsyncCollection, documents: list[dict[str, Any]]) -> set[int]:
    """Insert the documents whose `_id` is not taken; return the indexes of the others."""
    if not documents:
        return set()
    try:
        await collection.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        return duplicate_indexes(error)
    return set()


async def bulk_write_chunked(collection: AsyncCollection, operations: Sequence[WriteOperation], ordered: bool) -> None:
    """Run `operations` as bulk writes of at most MAX_WRITES_PER_COMMAND operations each, in order.

    An ordered write stops at the first failing chunk, as one bulk write would.
    """
    for start in range(0, len(operations), MAX_WRITES_PER_COMMAND):
        await collection.bulk_write(list(operations[start:start + MAX_WRITES_PER_COMMAND]), ordered=ordered)


async def retry_while_busy(operation: Callable[[], Awaitable[T]], operation_name: str) -> T:
    """Run `operation`, again after a pause when the server reports its database busy, at most BUSY_ATTEMPTS times.

    Only for operations that can run twice without harm. Any other error,
    and the last busy one, is raised.
    """
    delay = BUSY_FIRST_DELAY
    for attempt in range(1, BUSY_ATTEMPTS + 1):
        try:
            return await operation()
        except OperationFailure as error:
            if BUSY_MARKER not in str(error) or attempt == BUSY_ATTEMPTS:
                raise
            log.warning("mongo_write_busy_retried", operation=operation_name, attempt=attempt, retry_in=delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable: the last attempt returns or raises")
