"""MongoDB implementation of the transfer protocol (see `taskdash.store.transfer`).

Every record is stored under its `_id`: inserted where the `_id` is free,
and replaced where it is taken (see `_upsert`), so a batch written twice
stores each record once. Nothing here uses a transaction, because FerretDB
has none: a batch writes its records first and the progress record last. Tasks are exported in the order of their
`seq` field (the order of first insertion) and keep their position as
`seq` on the target. History is exported in the order (task_id, version,
index) that TaskDash reads it in, so a target that appends it (SQLite)
keeps each task's entries in order.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from pymongo import AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, InvalidName, PyMongoError

from taskdash.errors import StoreReadFailed
from taskdash.store.mongo import documents as docs
from taskdash.store.mongo.operations import bulk_write_chunked, insert_new, store_operation
from taskdash.store.mongo.repository import DEFAULT_DATABASE, client_options
from taskdash.store.mongo.schema import create_indexes
from taskdash.store.transfer import (
    Batch,
    Group,
    Key,
    Kind,
    Progress,
    StoredHistoryEntry,
    StoredTask,
    StoreUnusable,
)

log = structlog.get_logger("taskdash.store.mongo")

PROGRESS = "migration_progress"
_PROGRESS_ID = "progress"
_MARK_ID = "same_store_check"

# The collection of each kind. Groups are written to `group`, but counted and exported from the users'
# `groups` fields, which TaskDash reads as the truth (see AccountMethods.list_groups).
_COLLECTIONS = {
    Kind.SERVICES: docs.SERVICE,
    Kind.TASKS: docs.MANAGEMENT,
    Kind.HISTORY: docs.HISTORY,
    Kind.USERS: docs.USER,
    Kind.GROUPS: docs.GROUP,
    Kind.SESSIONS: docs.SESSION,
    Kind.DEAD_LETTERS: docs.DEAD_LETTER,
}
# Export orders: tasks by first insertion, history as TaskDash reads it, everything else by `_id`.
_TASK_ORDER = ("seq", "_id")
_HISTORY_ORDER = ("task_id", "version", "index")

# Every collection TaskDash or a migration writes. `clear` empties them in this order: the progress record
# first, so that a rerun after a crash in between does not resume on deleted data.
TASKDASH_COLLECTIONS = (PROGRESS, *_COLLECTIONS.values(), docs.METADATA, docs.TASK_LOCK, docs.POLL_LEASE)


def _hosts(url: str) -> str:
    """Return the hosts of a MongoDB URL, without credentials, for messages."""
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2]


def _short(error: PyMongoError) -> str:
    # pymongo appends a description of the whole topology to a server selection timeout.
    return str(error).split(", Topology Description:")[0]


def _after(fields: Sequence[str], key: Key | None) -> dict[str, Any]:
    """Return the filter of the documents whose `fields` sort after the values in `key`."""
    if key is None:
        return {}
    if len(fields) == 1:
        return {fields[0]: {"$gt": key}}
    alternatives = []
    for length in range(len(fields)):
        clause: dict[str, Any] = {fields[i]: key[i] for i in range(length)}
        clause[fields[length]] = {"$gt": key[length]}
        alternatives.append(clause)
    return {"$or": alternatives}


def _key(fields: Sequence[str], document: dict[str, Any]) -> Key:
    """Return the export key of `document`: its one sort field, or a list of its sort fields."""
    if len(fields) == 1:
        return document[fields[0]]
    return [document[field] for field in fields]


@dataclass(slots=True)
class _OpenRead:
    """A cursor over one collection in key order, and the key of the last document it returned."""

    cursor: AsyncCursor
    last_key: Key | None


async def _upsert(collection: AsyncCollection, documents: list[dict[str, Any]]) -> None:
    """Store each document as given: insert those whose `_id` is free, then replace the others.

    Inserting first suits a copy, where most documents are new. On FerretDB
    1.24.2, insert_many stored 1,000 new documents in under 0.2 s, where a
    bulk write of 1,000 replacing upserts took 1.3 to 2.5 s (2 cores).
    A replacement filters on `_id` alone, so it never hits a duplicate key.
    """
    duplicates = await insert_new(collection, documents)
    replacements = [ReplaceOne({"_id": documents[index]["_id"]}, documents[index]) for index in sorted(duplicates)]
    await bulk_write_chunked(collection, replacements, ordered=True)


class MongoTransfer:
    """Transfer store on one MongoDB database, or one on a server that speaks its protocol such as FerretDB."""

    def __init__(self, client: AsyncMongoClient, database: AsyncDatabase) -> None:
        self._client = client
        self._db = database
        self._reads: dict[str, _OpenRead] = {}

    @classmethod
    async def open(cls, url: str, *, target: bool) -> MongoTransfer:
        role = "target" if target else "source"
        if "." in urllib.parse.urlsplit(url).path:
            # pymongo would read the part after the dot as a collection name and ignore it.
            raise ValueError(
                f"invalid MongoDB URL of the {role}: the database name contains a dot; "
                "expected mongodb://HOST:PORT/DATABASE"
            )
        try:
            client: AsyncMongoClient = AsyncMongoClient(url, appname="taskdash-migrate", **client_options(url))
            database = client.get_default_database(default=DEFAULT_DATABASE)
        except (ConfigurationError, InvalidName) as error:
            raise ValueError(
                f"invalid MongoDB URL of the {role}: {error}; expected mongodb://HOST:PORT/DATABASE"
            ) from None

        try:
            await cls._prepare(database, url, target)
        except PyMongoError as error:
            await client.close()
            raise StoreReadFailed(
                f"connecting to the {role} MongoDB at {_hosts(url)} (database {database.name!r}) failed: "
                f"{_short(error)}; check that the server runs, and the host, port and credentials in the URL"
            ) from error
        except BaseException:
            await client.close()
            raise
        return cls(client, database)

    @staticmethod
    async def _prepare(database: AsyncDatabase, url: str, target: bool) -> None:
        """Check that `database` can be the source or target, and create a target's indexes."""
        await database.command("ping")
        names = set(await database.list_collection_names())
        where = f"database {database.name!r} on {_hosts(url)}"
        if not target:
            if not names & set(_COLLECTIONS.values()):
                raise StoreUnusable(
                    f"the source {where} has no TaskDash collections: check the database name in --from"
                )
            pending = await database[docs.TASK_LOCK].count_documents({})
            if pending:
                # A lock contains a task write that has not landed. The copy takes the task as stored.
                log.warning("migration_source_task_locks", database=database.name, count=pending)
            return

        foreign = sorted(name for name in names - set(TASKDASH_COLLECTIONS) if not name.startswith("system."))
        if foreign:
            raise StoreUnusable(
                f"the target {where} contains collections that TaskDash does not use ({', '.join(foreign[:5])}): "
                "choose a database of its own for TaskDash"
            )
        await create_indexes(database)

    async def close(self) -> None:
        # Closing the client also ends its cursors on the server.
        await self._client.close()

    # Counts and reads.

    @store_operation("read")
    async def count(self, kind: Kind) -> int:
        if kind is Kind.GROUPS:
            return len(await self._group_members())
        return await self._db[_COLLECTIONS[kind]].count_documents({})

    @store_operation("read")
    async def read_batch(self, kind: Kind, after: Key | None, limit: int) -> Batch:
        if kind is Kind.TASKS:
            documents = await self._read(docs.MANAGEMENT, _TASK_ORDER, after, limit)
            tasks = [StoredTask(docs.task_from_document(document), document["seq"]) for document in documents]
            return Batch(tasks, _key(_TASK_ORDER, documents[-1]) if documents else None)
        if kind is Kind.HISTORY:
            documents = await self._read(docs.HISTORY, _HISTORY_ORDER, after, limit)
            entries = [
                StoredHistoryEntry(docs.history_from_document(document), document["version"], document["index"])
                for document in documents
            ]
            return Batch(entries, _key(_HISTORY_ORDER, documents[-1]) if documents else None)
        if kind is Kind.GROUPS:
            members = await self._group_members()
            names = [name for name in sorted(members) if after is None or name > after][:limit]
            return Batch([Group(name, tuple(members[name])) for name in names], names[-1] if names else None)

        documents = await self._read(_COLLECTIONS[kind], ("_id",), after, limit)
        convert = {
            Kind.SERVICES: lambda document: docs.service_from_document(document, 0),
            Kind.USERS: docs.user_from_document,
            Kind.SESSIONS: docs.session_from_document,
            Kind.DEAD_LETTERS: docs.dead_letter_from_document,
        }[kind]
        return Batch([convert(document) for document in documents], documents[-1]["_id"] if documents else None)

    async def _read(self, collection: str, fields: Sequence[str], after: Key | None, limit: int) -> list[dict[str, Any]]:
        """Return up to `limit` documents of `collection` that sort after `after` by `fields`.

        A read that starts where the previous one of the collection ended
        continues its cursor. FerretDB 1.24 filters and sorts without an index,
        so a new query per batch would scan the whole collection each time.
        """
        open_read = self._reads.get(collection)
        if open_read is None or open_read.last_key != after:
            if open_read is not None:
                await open_read.cursor.close()
            cursor = self._db[collection].find(_after(fields, after)).sort([(field, 1) for field in fields])
            open_read = _OpenRead(cursor.batch_size(limit), after)
            self._reads[collection] = open_read

        documents = await open_read.cursor.to_list(length=limit)
        if documents:
            open_read.last_key = _key(fields, documents[-1])
        return documents

    async def _group_members(self) -> dict[str, list[str]]:
        """Return group -> sorted usernames, from the users, as the repository's `list_groups` does."""
        members: dict[str, list[str]] = {}
        for document in await self._db[docs.USER].find({}, {"groups": 1}).sort("_id", 1).to_list():
            for group in document["groups"]:
                members.setdefault(group, []).append(document["_id"])
        return members

    # Writes.

    @store_operation("write")
    async def write_batch(self, kind: Kind, records: Sequence[Any], progress: Progress) -> None:
        for collection, documents in self._documents(kind, records):
            await _upsert(self._db[collection], documents)
        await self._store_progress(progress)

    @staticmethod
    def _documents(kind: Kind, records: Sequence[Any]) -> list[tuple[str, list[dict[str, Any]]]]:
        """Return the documents of `records`, by collection, in the order they are to be written."""
        if kind is Kind.SERVICES:
            return [(docs.SERVICE, [docs.service_document(service) for service in records])]
        if kind is Kind.TASKS:
            # The `metadata` mirror first: TaskDash takes a task as stored once its `management` document exists.
            mirrors = [{"_id": stored.task.task_id, **docs.metadata_fields(stored.task)} for stored in records]
            tasks = [docs.task_document(stored.task, stored.position) for stored in records]
            return [(docs.METADATA, mirrors), (docs.MANAGEMENT, tasks)]
        if kind is Kind.HISTORY:
            entries = [docs.history_document(stored.entry, stored.version, stored.index) for stored in records]
            return [(docs.HISTORY, entries)]
        if kind is Kind.USERS:
            return [(docs.USER, [docs.user_document(user) for user in records])]
        if kind is Kind.GROUPS:
            return [(docs.GROUP, [{"_id": group.name, "members": list(group.members)} for group in records])]
        if kind is Kind.SESSIONS:
            return [(docs.SESSION, [docs.session_document(session) for session in records])]
        if kind is Kind.DEAD_LETTERS:
            return [(docs.DEAD_LETTER, [docs.dead_letter_document(letter, letter.id) for letter in records])]
        raise ValueError(f"unknown kind {kind!r}")

    @store_operation("read")
    async def read_progress(self) -> Progress | None:
        document = await self._db[PROGRESS].find_one({"_id": _PROGRESS_ID})
        if document is None:
            return None
        del document["_id"]
        return Progress.from_json(document)

    @store_operation("write")
    async def write_progress(self, progress: Progress) -> None:
        await self._store_progress(progress)

    async def _store_progress(self, progress: Progress) -> None:
        await self._db[PROGRESS].replace_one(
            {"_id": _PROGRESS_ID}, {"_id": _PROGRESS_ID, **progress.to_json()}, upsert=True
        )

    @store_operation("write")
    async def clear(self) -> None:
        for collection in TASKDASH_COLLECTIONS:
            await self._db[collection].delete_many({})

    @store_operation("write")
    async def set_mark(self, token: str | None) -> None:
        if token is None:
            await self._db[PROGRESS].delete_one({"_id": _MARK_ID})
        else:
            await self._db[PROGRESS].replace_one({"_id": _MARK_ID}, {"_id": _MARK_ID, "token": token}, upsert=True)

    @store_operation("read")
    async def has_mark(self, token: str) -> bool:
        return await self._db[PROGRESS].find_one({"_id": _MARK_ID, "token": token}) is not None
