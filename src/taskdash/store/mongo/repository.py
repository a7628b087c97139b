"""MongoDB implementation of the repository protocol, on pymongo's AsyncMongoClient.

The database is the one the URL's path names (`taskdash` by default). The
collections keep the original deployment's names and fields:

- `service`: one document per task service, `_id` = its URL, with `name`,
  `type`, `reserved`, `extra`, the registration and heartbeat times and the
  outcome of the last poll.
- `management`: one document per task, `_id` = task id, with `type`
  (TaskRecord.data_type), `status`, `user`, `checker`, `group_id`,
  `reserved`, and every other TaskRecord field under its own name, plus
  `seq`, which orders tasks by first insertion. A TaskRecord is exactly one
  `management` document: every task read, filter, sort and count uses it.
- `metadata`: one document per task, `_id` = task id, with what its service
  reported (`type`, `status` as reported, `description`, `reserved`,
  `project_id`, `instance_id`, `url`, `create_time`, `extra`), its
  `service_url` and `missing`. It mirrors the reported part of
  `management` for readers of the original layout; TaskDash never reads it.
- `history`: one document per status or owner change of a task.
- `user` (`_id` = username), `session` (`_id` = SHA-256 of the token),
  `dead_letter` (`_id` = 1, 2, ...), and `group` (`_id` = group name,
  `members` = sorted usernames), a mirror of the users' `groups` fields.
- `task_lock`: the locks that make task writes atomic (see `locks`).
- `poll_lease`: which instance polls which service in each term (see `leases`).

No write uses a transaction, because FerretDB has none. A write that
touches several documents orders its steps so that repeating it after a
failure is harmless. Where a failure between steps can still leave a gap,
a NOTE in the method describes it.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, InvalidName, PyMongoError

from taskdash.errors import StoreReadFailed, StoreWriteFailed
from taskdash.store import redact_url
from taskdash.store.mongo import documents as docs
from taskdash.store.mongo.accounts import AccountMethods
from taskdash.store.mongo.leases import LeaseMethods
from taskdash.store.mongo.locks import ABANDONED_AFTER, LOCK_WAIT, TaskWrite, TaskWriter
from taskdash.store.mongo.operations import insert_new, store_operation
from taskdash.store.mongo.queries import after_cursor_filter, combine, sort_spec, task_filter
from taskdash.store.mongo.schema import create_indexes
from taskdash.store.mongo.server import ServerTraits, detect_server
from taskdash.store.mongo.services import ServiceMethods
from taskdash.store.protocol import TASK_COLUMNS, ClaimOutcome
from taskdash.store.records import ClaimRequest, HistoryEntry, TaskQuery, TaskRecord, TaskSort
from taskdash.store.paging import encode_cursor
from taskdash.store.task_json import TaskJsonPage, task_json
from taskdash.tasks.status import FINISH, NOTGET, RUNNING

log = structlog.get_logger("taskdash.store.mongo")

DEFAULT_DATABASE = "taskdash"

# pymongo rejects / \ " $, a space and NUL in a database name, and TaskDash also rejects the dot.
EXPECTED_URL = (
    'expected mongodb://[USER:PASSWORD@]HOST[:PORT]/DATABASE[?OPTIONS], where DATABASE contains none of / \\ . " $'
    " or a space"
)

# Client options used unless the URL sets them. Short server selection makes an unreachable server
# fail a request within seconds, as StoreReadFailed or StoreWriteFailed, instead of after pymongo's 30 s.
DEFAULT_CLIENT_OPTIONS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000, "socketTimeoutMS": 30000}

# Attempts of a claim or a missing flag that keeps losing its task's lock to other writes.
MAX_WRITE_ATTEMPTS = 5
# Task ids per `$in` list when matching history entries to a task query.
ID_CHUNK = 1000
# Claims with a per-user limit are serialised per user through one of this many locks.
USER_LOCK_STRIPES = 64


def client_options(url: str) -> dict[str, Any]:
    """Return DEFAULT_CLIENT_OPTIONS without the options that `url` sets itself."""
    set_in_url = {name.lower() for name in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)}
    return {name: value for name, value in DEFAULT_CLIENT_OPTIONS.items() if name.lower() not in set_in_url}


async def _detect_server(database: AsyncDatabase) -> ServerTraits:
    try:
        return await detect_server(database)
    except PyMongoError as error:
        log.error("mongo_operation_failed", operation="buildInfo", database=database.name, error=str(error))
        raise StoreReadFailed(f"MongoDB read of buildInfo for database {database.name!r} failed: {error}") from error


def _utc_day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


def _history_by_task(history: Sequence[HistoryEntry], task_ids: set[str]) -> dict[str, list[HistoryEntry]]:
    grouped: dict[str, list[HistoryEntry]] = {}
    for entry in history:
        if entry.task_id not in task_ids:
            raise ValueError(f"history entry for task {entry.task_id!r}, which this write does not store")
        grouped.setdefault(entry.task_id, []).append(entry)
    return grouped


def _rejected_outcome(request: ClaimRequest, task: TaskRecord) -> str | None:
    """Return the ClaimOutcome that rejects `request` on `task` as stored, or None if it may go ahead."""
    if task.missing:
        return ClaimOutcome.NOT_FOUND
    reassign = request.allow_reassign and task.status == RUNNING
    if request.allow_reassign and task.status not in (NOTGET, RUNNING):
        return ClaimOutcome.INVALID_STATUS
    if task.status != NOTGET and not reassign:
        claimed = task.status == RUNNING or bool(task.user)
        return ClaimOutcome.ALREADY_CLAIMED if claimed else ClaimOutcome.INVALID_STATUS
    return None


class _InsertionOrder:
    """Increasing integers from the clock in nanoseconds.

    `seq` follows the insertion order within one instance, and across instances as far as their clocks agree.
    """

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, time.time_ns())
        return self._last


class MongoRepository(ServiceMethods, AccountMethods, LeaseMethods):
    """Repository on one MongoDB database, or a server that speaks its protocol such as FerretDB."""

    def __init__(
        self, client: AsyncMongoClient, database: AsyncDatabase, writer: TaskWriter, server: ServerTraits
    ) -> None:
        self._client = client
        self._db = database
        self._writer = writer
        self._server = server
        self._order = _InsertionOrder()
        # FerretDB rewrites a whole document on every update, so two updates of one document can
        # lose one of them. These locks keep this process's service and account updates apart.
        # NOTE: several TaskDash instances on one FerretDB can still lose such an update.
        self._service_writes = asyncio.Lock()
        self._account_writes = asyncio.Lock()
        self._claim_locks = [asyncio.Lock() for _ in range(USER_LOCK_STRIPES)]

    @property
    def database_name(self) -> str:
        return self._db.name

    @classmethod
    async def open(
        cls, url: str, lock_wait: float = LOCK_WAIT, abandoned_after: float = ABANDONED_AFTER,
        check_conditions_here: bool | None = None,
    ) -> MongoRepository:
        """Connect to the database that `url` names and create the indexes it lacks.

        `lock_wait` and `abandoned_after` are the seconds of `TaskWriter`'s limits.
        `check_conditions_here` overrides what the server's build information
        implies (see taskdash.store.mongo.server); the tests use it.
        """
        if "." in urllib.parse.urlsplit(url).path:
            # pymongo would read the part after the dot as a collection name and ignore it.
            raise ValueError(
                f"invalid MongoDB URL {redact_url(url)!r}: the database name contains a dot; {EXPECTED_URL}"
            )
        try:
            client: AsyncMongoClient = AsyncMongoClient(url, appname="taskdash", **client_options(url))
            database = client.get_default_database(default=DEFAULT_DATABASE)
        except (ConfigurationError, InvalidName) as error:
            raise ValueError(f"invalid MongoDB URL {redact_url(url)!r}: {error}; {EXPECTED_URL}") from None

        try:
            server = await _detect_server(database)
            if check_conditions_here is not None:
                server = ServerTraits(server.description, check_conditions_here)
            repository = cls(client, database, TaskWriter(database, server, lock_wait, abandoned_after), server)
            await repository._create_indexes()
        except BaseException:
            await client.close()
            raise
        log.info("mongo_store_opened", database=database.name, server=server.description,
                 check_conditions_here=server.check_conditions_here)
        return repository

    @store_operation("write")
    async def _create_indexes(self) -> None:
        await create_indexes(self._db)

    @store_operation("read")
    async def ping(self) -> None:
        await self._db.command("ping")

    async def close(self) -> None:
        await self._client.close()

    # Tasks.

    @store_operation("read")
    async def task_fingerprints(self, service_url: str) -> dict[str, tuple[str, bool]]:
        cursor = self._db[docs.MANAGEMENT].find({"service_url": service_url}, {"fingerprint": 1, "missing": 1})
        return {document["_id"]: (document["fingerprint"], document["missing"]) for document in await cursor.to_list()}

    @store_operation("read")
    async def get_tasks(self, task_ids: Sequence[str]) -> list[TaskRecord]:
        cursor = self._db[docs.MANAGEMENT].find({"_id": {"$in": list(task_ids)}}).sort("_id", 1)
        return [docs.task_from_document(document) for document in await cursor.to_list()]

    async def get_task(self, task_id: str) -> TaskRecord | None:
        found = await self.get_tasks([task_id])
        return found[0] if found else None

    @store_operation("write")
    async def insert_tasks(self, tasks: Sequence[TaskRecord], history: Sequence[HistoryEntry]) -> list[str]:
        """Insert new tasks, then their `metadata` mirrors, then their history.

        NOTE: a failure after the first step leaves tasks without their first
        history entry or their mirror. The next poll finds them stored, so it
        does not insert them again.
        """
        history_by_task = _history_by_task(history, {task.task_id for task in tasks})
        documents = [docs.task_document(task, self._order.next()) for task in tasks]
        skipped = {tasks[index].task_id for index in await insert_new(self._db[docs.MANAGEMENT], documents)}
        inserted = [task for task in tasks if task.task_id not in skipped]

        mirrors = [{"_id": task.task_id, **docs.metadata_fields(task)} for task in inserted]
        await insert_new(self._db[docs.METADATA], mirrors)
        entries = [
            docs.history_document(entry, task.version, index)
            for task in inserted
            for index, entry in enumerate(history_by_task.get(task.task_id, []))
        ]
        await insert_new(self._db[docs.HISTORY], entries)
        return sorted(skipped)

    @store_operation("write")
    async def update_tasks(
        self, updates: Sequence[tuple[TaskRecord, int]], history: Sequence[HistoryEntry]
    ) -> list[str]:
        history_by_task = _history_by_task(history, {task.task_id for task, _ in updates})
        writes = [
            TaskWrite(
                task.task_id, expected_version, docs.task_fields(task), docs.metadata_fields(task),
                metadata_upsert=True, history=history_by_task.get(task.task_id, []),
            )
            for task, expected_version in updates
        ]
        result = await self._writer.write(writes)
        return sorted(result.stale + result.blocked)

    @store_operation("write")
    async def set_missing(self, service_url: str, task_ids: Sequence[str], missing: bool, at: float) -> int:
        changed = 0
        pending = list(dict.fromkeys(task_ids))
        for _ in range(MAX_WRITE_ATTEMPTS):
            cursor = self._db[docs.MANAGEMENT].find(
                {"_id": {"$in": pending}, "service_url": service_url, "missing": {"$ne": missing}}, {"version": 1}
            )
            writes = [
                TaskWrite(
                    document["_id"], document["version"], {"missing": missing, "updated_at": at}, {"missing": missing}
                )
                for document in await cursor.to_list()
            ]
            if not writes:
                return changed
            result = await self._writer.write(writes)
            changed += len(result.written)
            pending = result.stale + result.blocked
            if not pending:
                return changed
        # The flags stay as they are; the next poll of the service sets them again.
        log.warning("task_missing_flag_contended", service_url=service_url, count=len(pending), examples=pending[:5])
        return changed

    @store_operation("write")
    async def change_owner(self, request: ClaimRequest) -> tuple[str, TaskRecord | None]:
        """Give a task to `request.user` through a task lock (see `locks`).

        Raises StoreWriteFailed when other writes keep the task locked or keep changing it.

        NOTE: the per-user limit is counted before the lock is taken. This process
        serialises one user's limited claims, but claims of one user through
        several instances at once can pass the limit by the number in flight.
        """
        if not request.max_in_work:
            return await self._change_owner(request)
        async with self._claim_locks[hash(request.user) % USER_LOCK_STRIPES]:
            return await self._change_owner(request)

    async def _change_owner(self, request: ClaimRequest) -> tuple[str, TaskRecord | None]:
        for _ in range(MAX_WRITE_ATTEMPTS):
            document = await self._db[docs.MANAGEMENT].find_one({"_id": request.task_id})
            if document is None:
                return ClaimOutcome.NOT_FOUND, None
            task = docs.task_from_document(document)
            rejected = _rejected_outcome(request, task)
            if rejected is not None:
                return rejected, task

            if request.max_in_work and task.user != request.user:
                in_work = await self._db[docs.MANAGEMENT].count_documents(
                    {"user": request.user, "status": RUNNING, "missing": False}
                )
                if in_work >= request.max_in_work:
                    return ClaimOutcome.LIMIT_REACHED, task

            changes = {
                "status": RUNNING, "user": request.user, "checker": request.checker, "group_id": request.group_id,
                "claimed_at": request.at, "updated_at": request.at,
            }
            entry = HistoryEntry(task.task_id, request.at, request.actor, "user", task.status, RUNNING, request.reason)
            write = TaskWrite(task.task_id, task.version, changes, history=[entry])
            result = await self._writer.write([write], wait=False)
            if result.written:
                task.status, task.user, task.checker, task.group_id = (
                    RUNNING, request.user, request.checker, request.group_id
                )
                task.claimed_at, task.updated_at, task.version = request.at, request.at, task.version + 1
                return ClaimOutcome.DONE, task
            if result.contended:
                # Another write of this version will land (see pending_changes). If the task as it will be
                # rejects the request, as when another user's claim holds the lock, return that outcome now
                # rather than after that write lands.
                pending = await self._writer.pending_changes(task.task_id, task.version)
                if pending is not None:
                    upcoming = docs.task_from_document({**document, **pending, "version": task.version + 1})
                    rejected = _rejected_outcome(request, upcoming)
                    if rejected is not None:
                        return rejected, upcoming
                if await self._writer.wait_for({task.task_id: task.version}):
                    raise StoreWriteFailed(
                        f"changing the owner of task {request.task_id!r} failed: another write has held it for "
                        f"more than {self._writer.lock_wait:g} s; try again"
                    )
            # Another write landed first: read the task again and decide anew.
        raise StoreWriteFailed(
            f"changing the owner of task {request.task_id!r} failed: it changed concurrently "
            f"{MAX_WRITE_ATTEMPTS} times; try again"
        )

    @store_operation("read")
    async def task_columns(self, query: TaskQuery, columns: Sequence[str]) -> list[tuple]:
        unknown = set(columns) - TASK_COLUMNS
        if unknown:
            raise ValueError(f"unknown task columns {sorted(unknown)}")
        fields = [docs.task_field(column) for column in columns]
        cursor = self._db[docs.MANAGEMENT].find(task_filter(query), {field: 1 for field in fields})
        documents = await cursor.sort([("seq", 1), ("_id", 1)]).to_list()
        return [tuple(_column_value(field, document[field]) for field in fields) for document in documents]

    @store_operation("read")
    async def find_tasks(
        self, query: TaskQuery, sort: TaskSort, limit: int, after_cursor: str | None = None
    ) -> tuple[list[TaskRecord], str | None]:
        clauses = [task_filter(query)]
        if after_cursor:
            clauses.append(after_cursor_filter(sort, after_cursor))
        task_filter_after = combine([clause for clause in clauses if clause])
        # Reading one task past the page shows whether another page follows.
        cursor = self._db[docs.MANAGEMENT].find(task_filter_after).sort(sort_spec(sort)).limit(limit + 1)
        tasks = [docs.task_from_document(document) for document in await cursor.to_list()]
        if len(tasks) <= limit:
            return tasks, None
        del tasks[limit:]
        return tasks, encode_cursor(sort, tasks[-1])

    async def task_json_page(
        self, query: TaskQuery, sort: TaskSort, limit: int, after_cursor: str | None = None
    ) -> TaskJsonPage:
        # NOTE: MongoDB reads the page and the total separately, so a write between them can make them disagree.
        (tasks, next_cursor), total = await asyncio.gather(
            self.find_tasks(query, sort, limit, after_cursor), self.count_tasks(query)
        )
        return TaskJsonPage([task_json(task) for task in tasks], next_cursor, total)

    @store_operation("read")
    async def count_tasks(self, query: TaskQuery) -> int:
        return await self._db[docs.MANAGEMENT].count_documents(task_filter(query))

    @store_operation("read")
    async def task_history(self, task_id: str) -> list[HistoryEntry]:
        cursor = self._db[docs.HISTORY].find({"task_id": task_id}).sort([("version", 1), ("index", 1)])
        return [docs.history_from_document(document) for document in await cursor.to_list()]

    @store_operation("read")
    async def count_tasks_by(self, query: TaskQuery, columns: Sequence[str]) -> list[tuple]:
        unknown = set(columns) - TASK_COLUMNS
        if unknown or not columns:
            raise ValueError(f"invalid grouping columns {list(columns)}: use names from TASK_COLUMNS")
        fields = [docs.task_field(column) for column in columns]
        group_key = {f"c{index}": f"${field}" for index, field in enumerate(fields)}
        pipeline = [{"$match": task_filter(query)}, {"$group": {"_id": group_key, "count": {"$sum": 1}}}]
        groups = await (await self._db[docs.MANAGEMENT].aggregate(pipeline)).to_list()
        rows = [
            (*(_column_value(field, group["_id"][f"c{index}"]) for index, field in enumerate(fields)), group["count"])
            for group in groups
        ]
        # Sorted here rather than by the server, so that the order is Python's, as for SQLite's BINARY collation.
        return sorted(rows, key=lambda row: row[:-1])

    @store_operation("read")
    async def finished_per_day(self, query: TaskQuery, since: float) -> list[tuple[str, int]]:
        """Count finished tasks per UTC day from the history, then keep the tasks that match `query`.

        FerretDB 1.24 has neither `$lookup` nor date operators, so the join and the
        day happen here. NOTE: this reads every move to `finish` since `since`.
        """
        cursor = self._db[docs.HISTORY].find(
            {"to_status": FINISH, "from_status": {"$ne": FINISH}, "at": {"$gte": since}}, {"task_id": 1, "at": 1}
        )
        entries = await cursor.to_list()
        task_ids = sorted({entry["task_id"] for entry in entries})
        matching: set[str] = set()
        for start in range(0, len(task_ids), ID_CHUNK):
            chunk_filter = combine([task_filter(query), {"_id": {"$in": task_ids[start:start + ID_CHUNK]}}])
            matching.update(document["_id"] for document in await self._db[docs.MANAGEMENT].find(
                chunk_filter, {"_id": 1}).to_list())

        tasks_per_day: dict[str, set[str]] = {}
        for entry in entries:
            if entry["task_id"] in matching:
                tasks_per_day.setdefault(_utc_day(entry["at"]), set()).add(entry["task_id"])
        return [(day, len(task_ids_of_day)) for day, task_ids_of_day in sorted(tasks_per_day.items())]


def _column_value(field: str, value: Any) -> Any:
    # SQLite returns `missing` as 0 or 1; the same here keeps rows equal across backends.
    return int(value) if field == "missing" else value
