"""SQLite implementation of the transfer protocol (see `taskdash.store.transfer`).

One connection serves every call, on a worker thread, one call at a time.
A source is opened read-only. A target gets TaskDash's schema first, and
each batch commits together with the progress record in one transaction,
so an interrupted copy leaves whole batches and a progress record that
matches them.

Tasks are exported in rowid order, which is the order of first insertion
that the legacy task lists use, and a target appends new tasks in the
order it receives them. History entries have no key but their row id, so
a target appends them. The progress record commits with them, which keeps
a resumed copy from appending them twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson
import structlog

from taskdash.errors import StoreReadFailed, StoreWriteFailed
from taskdash.store.records import DeadLetter, HistoryEntry, ServiceRecord, Session, TaskRecord, User
from taskdash.store.sqlite.reads import BUSY_TIMEOUT_MS
from taskdash.store.sqlite.repository import database_path
from taskdash.store.sqlite.schema import MIGRATIONS, migrate
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

log = structlog.get_logger("taskdash.store.sqlite")

T = TypeVar("T")

PROGRESS_TABLE = "migration_progress"

_SERVICE_COLUMNS = (
    "url", "name", "type", "reserved", "extra", "registered", "first_seen_at", "registered_at",
    "last_heartbeat_at", "last_heartbeat_received_at", "last_sender_time", "last_poll_at", "last_poll_ok",
    "last_poll_error", "poll_failures", "archived",
)
# The columns of `task` in the order of TaskRecord's fields.
_TASK_COLUMNS = tuple(field.name for field in dataclasses.fields(TaskRecord))
_HISTORY_COLUMNS = ("task_id", "at", "actor", "actor_kind", "from_status", "to_status", "reason")
_USER_COLUMNS = ("username", "display_name", "password_hash", "roles", "groups", "disabled", "created_at")
_SESSION_COLUMNS = ("token_hash", "username", "created_at", "expires_at")
_DEAD_LETTER_COLUMNS = ("id", "topic", "source", "body", "reason", "received_at")

_GROUP_NAMES = "SELECT DISTINCT g.value AS name FROM account a, json_each(a.groups) g"

_COUNT_SQL = {
    Kind.SERVICES: "SELECT count(*) FROM service",
    Kind.TASKS: "SELECT count(*) FROM task",
    Kind.HISTORY: "SELECT count(*) FROM task_history",
    Kind.USERS: "SELECT count(*) FROM account",
    # Groups are not stored apart: a group exists while at least one account lists it.
    Kind.GROUPS: f"SELECT count(*) FROM ({_GROUP_NAMES})",
    Kind.SESSIONS: "SELECT count(*) FROM session",
    Kind.DEAD_LETTERS: "SELECT count(*) FROM dead_letter",
}

# Tables that `clear` empties: every kind's, and the poll leases.
_CLEARED_TABLES = ("service", "task", "task_history", "account", "session", "dead_letter", "poll_lease")


def _columns(columns: Sequence[str]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


def _upsert_sql(table: str, columns: Sequence[str], key: str) -> str:
    """Return an INSERT of `columns` that overwrites every other column of the row with the same `key`."""
    placeholders = ", ".join("?" * len(columns))
    updates = ", ".join(f'"{column}" = excluded."{column}"' for column in columns if column != key)
    return f"INSERT INTO {table} ({_columns(columns)}) VALUES ({placeholders}) ON CONFLICT ({key}) DO UPDATE SET {updates}"


_SERVICE_UPSERT = _upsert_sql("service", _SERVICE_COLUMNS, "url")
_TASK_UPSERT = _upsert_sql("task", _TASK_COLUMNS, "task_id")
_HISTORY_INSERT = f"INSERT INTO task_history ({_columns(_HISTORY_COLUMNS)}) VALUES ({', '.join('?' * 7)})"
_USER_UPSERT = _upsert_sql("account", _USER_COLUMNS, "username")
_SESSION_UPSERT = _upsert_sql("session", _SESSION_COLUMNS, "token_hash")
_DEAD_LETTER_UPSERT = _upsert_sql("dead_letter", _DEAD_LETTER_COLUMNS, "id")


def _keyset(select: str, key: str, after: Key | None, limit: int) -> tuple[str, list[Any]]:
    """Return `select` restricted to the rows whose `key` follows `after`, in key order, and its parameters."""
    if after is None:
        return f"{select} ORDER BY {key} LIMIT ?", [limit]
    return f"{select} WHERE {key} > ? ORDER BY {key} LIMIT ?", [after, limit]


def _service_from_row(row: Sequence[Any]) -> ServiceRecord:
    service = ServiceRecord(*row)
    service.extra = orjson.loads(service.extra)
    service.registered = bool(service.registered)
    service.last_poll_ok = None if service.last_poll_ok is None else bool(service.last_poll_ok)
    service.archived = bool(service.archived)
    return service


def _service_params(service: ServiceRecord) -> tuple[Any, ...]:
    return (
        service.url, service.name, service.type, service.reserved, orjson.dumps(service.extra).decode(),
        int(service.registered), service.first_seen_at, service.registered_at, service.last_heartbeat_at,
        service.last_heartbeat_received_at, service.last_sender_time, service.last_poll_at,
        None if service.last_poll_ok is None else int(service.last_poll_ok), service.last_poll_error,
        service.poll_failures, int(service.archived),
    )


def _task_from_row(row: Sequence[Any]) -> TaskRecord:
    task = TaskRecord(*row)
    task.extra = orjson.loads(task.extra)
    task.missing = bool(task.missing)
    return task


def _task_params(task: TaskRecord) -> tuple[Any, ...]:
    params = [getattr(task, column) for column in _TASK_COLUMNS]
    params[_TASK_COLUMNS.index("extra")] = orjson.dumps(task.extra).decode()
    params[_TASK_COLUMNS.index("missing")] = int(task.missing)
    return tuple(params)


def _user_from_row(row: Sequence[Any]) -> User:
    return User(
        username=row[0], display_name=row[1], password_hash=row[2], roles=tuple(orjson.loads(row[3])),
        groups=tuple(orjson.loads(row[4])), disabled=bool(row[5]), created_at=row[6],
    )


def _user_params(user: User) -> tuple[Any, ...]:
    return (
        user.username, user.display_name, user.password_hash, orjson.dumps(sorted(user.roles)).decode(),
        orjson.dumps(sorted(user.groups)).decode(), int(user.disabled), user.created_at,
    )


def _check_schema(connection: sqlite3.Connection, path: Path, role: str) -> None:
    """Raise StoreUnusable unless the database at `path` has TaskDash's schema, at a version this TaskDash supports."""
    try:
        (version,) = connection.execute("SELECT max(version) FROM schema_migration").fetchone()
    except sqlite3.OperationalError:
        raise StoreUnusable(
            f"the {role} {path} is not a TaskDash database: it has no schema_migration table; check the path"
        ) from None
    newest_known = MIGRATIONS[-1][0]
    if version is not None and version > newest_known:
        raise StoreUnusable(
            f"the {role} {path} has schema version {version}, newer than this TaskDash ({newest_known}): "
            "run the migration with a TaskDash at least as new as the one that wrote it"
        )


def _connect(database: str, uri: bool = False) -> sqlite3.Connection:
    connection = sqlite3.connect(database, uri=uri, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection


def _open_source(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreUnusable(f"the source database {path} does not exist: check the path in --from")
    # mode=ro: a source is only read, so opening it never creates or migrates anything.
    connection = _connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        _check_schema(connection, path, "source")
    except BaseException:
        connection.close()
        raise
    return connection


def _open_target(path: Path) -> sqlite3.Connection:
    existed = path.is_file() and path.stat().st_size > 0
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = _connect(str(path))
    try:
        if existed:
            _check_schema(connection, path, "target")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("sqlite_wal_unavailable", path=str(path), journal_mode=mode)
        connection.execute("PRAGMA synchronous = NORMAL")
        applied = migrate(connection)
        if applied:
            log.info("sqlite_migrated", path=str(path), versions=applied)
    except BaseException:
        connection.close()
        raise
    return connection


class SQLiteTransfer:
    """Transfer store on one SQLite database file."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection
        self._readers: dict[Kind, Callable[[sqlite3.Connection, Key | None, int], Batch]] = {
            Kind.SERVICES: self._read_services,
            Kind.TASKS: self._read_tasks,
            Kind.HISTORY: self._read_history,
            Kind.USERS: self._read_users,
            Kind.GROUPS: self._read_groups,
            Kind.SESSIONS: self._read_sessions,
            Kind.DEAD_LETTERS: self._read_dead_letters,
        }

    @classmethod
    async def open(cls, url: str, *, target: bool) -> SQLiteTransfer:
        path = database_path(url)
        opener = _open_target if target else _open_source
        try:
            connection = await asyncio.to_thread(opener, path)
        except RuntimeError as error:
            # `migrate` raises RuntimeError for a database newer than this TaskDash.
            raise StoreUnusable(f"the target {path}: {error}") from None
        except sqlite3.Error as error:
            role = "target" if target else "source"
            raise StoreReadFailed(f"opening the {role} database {path} failed: {error}") from error
        return cls(path, connection)

    async def close(self) -> None:
        await asyncio.to_thread(self._connection.close)

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await asyncio.to_thread(work, self._connection)
        except sqlite3.Error as error:
            log.error("sqlite_read_failed", path=str(self.path), error=str(error))
            raise StoreReadFailed(f"reading {self.path} failed: {error}") from error

    async def _write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """Run `work` in one write transaction."""

        def run(connection: sqlite3.Connection) -> None:
            connection.execute("BEGIN IMMEDIATE")
            try:
                work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

        try:
            await asyncio.to_thread(run, self._connection)
        except sqlite3.Error as error:
            log.error("sqlite_write_failed", path=str(self.path), error=str(error))
            raise StoreWriteFailed(f"writing {self.path} failed: {error}") from error

    # Counts and reads.

    async def count(self, kind: Kind) -> int:
        return await self._read(lambda connection: connection.execute(_COUNT_SQL[kind]).fetchone()[0])

    async def read_batch(self, kind: Kind, after: Key | None, limit: int) -> Batch:
        reader = self._readers[kind]
        return await self._read(lambda connection: reader(connection, after, limit))

    @staticmethod
    def _read_services(connection: sqlite3.Connection, after: Key | None, limit: int) -> Batch:
        sql, params = _keyset(f"SELECT {_columns(_SERVICE_COLUMNS)} FROM service", "url", after, limit)
        services = [_service_from_row(row) for row in connection.execute(sql, params)]
        return Batch(services, services[-1].url if services else None)

    @staticmethod
    def _read_tasks(connection: sqlite3.Connection, after: Key | None, limit: int) -> Batch:
        sql, params = _keyset(f"SELECT rowid, {_columns(_TASK_COLUMNS)} FROM task", "rowid", after, limit)
        tasks = [StoredTask(_task_from_row(row[1:]), row[0]) for row in connection.execute(sql, params)]
        return Batch(tasks, tasks[-1].position if tasks else None)

    @staticmethod
    def _read_history(connection: sqlite3.Connection, after: Key | None, limit: int) -> Batch:
        sql, params = _keyset(f"SELECT id, {_columns(_HISTORY_COLUMNS)} FROM task_history", "id", after, limit)
        entries = [StoredHistoryEntry(HistoryEntry(*row[1:]), 0, row[0]) for row in connection.execute(sql, params)]
        return Batch(entries, entries[-1].index if entries else None)

    @staticmethod
    def _read_users(connection: sqlite3.Connection, after: Key | None, limit: int) -> Batch:
        sql, params = _keyset(f"SELECT {_columns(_USER_COLUMNS)} FROM account", "username", after, limit)
        users = [_user_from_row(row) for row in connection.execute(sql, params)]
        return Batch(users, users[-1].username if users else None)

    @staticmethod
    def _read_groups(connection: sqlite3.Connection, after: Key | None, limit: int) -> Batch:
        sql, params = _keyset(f"SELECT name FROM ({_GROUP_NAMES})", "name", after, limit)
        names = [row[0] for row in connection.execute(sql, params)]
        members: dict[str, list[str]] = {name: [] for name in names}
        rows = connection.execute(
            "SELECT g.value, a.username FROM account a, json_each(a.groups) g "
            "WHERE g.value IN (SELECT value FROM json_each(?)) ORDER BY g.value, a.username",
            (orjson.dumps(names).decode(),),
        )
        for name, username in rows:
            members[name].append(username)
        groups = [Group(name, tuple(members[name])) for name in names]
        return Batch(groups, names[-1] if names else None)

    @staticmethod
    def _read_sessions(connection: sqlite3.Connection, after: Key | None, limit: int) -> Batch:
        sql, params = _keyset(f"SELECT {_columns(_SESSION_COLUMNS)} FROM session", "token_hash", after, limit)
        sessions = [Session(*row) for row in connection.execute(sql, params)]
        return Batch(sessions, sessions[-1].token_hash if sessions else None)

    @staticmethod
    def _read_dead_letters(connection: sqlite3.Connection, after: Key | None, limit: int) -> Batch:
        sql, params = _keyset(f"SELECT {_columns(_DEAD_LETTER_COLUMNS)} FROM dead_letter", "id", after, limit)
        letters = [
            DeadLetter(id=row[0], topic=row[1], source=row[2], body=bytes(row[3]), reason=row[4], received_at=row[5])
            for row in connection.execute(sql, params)
        ]
        return Batch(letters, letters[-1].id if letters else None)

    # Writes.

    async def write_batch(self, kind: Kind, records: Sequence[Any], progress: Progress) -> None:
        def work(connection: sqlite3.Connection) -> None:
            _write_records(connection, kind, records)
            _store_progress(connection, progress)

        await self._write(work)

    async def read_progress(self) -> Progress | None:
        def work(connection: sqlite3.Connection) -> Progress | None:
            exists = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (PROGRESS_TABLE,)
            ).fetchone()
            if exists is None:
                return None
            row = connection.execute(f"SELECT document FROM {PROGRESS_TABLE} WHERE id = 1").fetchone()
            return None if row is None else Progress.from_json(orjson.loads(row[0]))

        return await self._read(work)

    async def write_progress(self, progress: Progress) -> None:
        await self._write(lambda connection: _store_progress(connection, progress))

    async def clear(self) -> None:
        def work(connection: sqlite3.Connection) -> None:
            for table in _CLEARED_TABLES:
                connection.execute(f"DELETE FROM {table}")
            connection.execute(f"DROP TABLE IF EXISTS {PROGRESS_TABLE}")

        await self._write(work)

    async def set_mark(self, token: str | None) -> None:
        # Two paths of one file are found by `os.path.samefile` before the file is opened.
        return None

    async def has_mark(self, token: str) -> bool:
        return False


def _store_progress(connection: sqlite3.Connection, progress: Progress) -> None:
    # The table is not part of TaskDash's schema: only a migration target has one, and TaskDash never reads it.
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL)"
    )
    connection.execute(
        f"INSERT OR REPLACE INTO {PROGRESS_TABLE} (id, document) VALUES (1, ?)",
        (orjson.dumps(progress.to_json()).decode(),),
    )


def _write_records(connection: sqlite3.Connection, kind: Kind, records: Sequence[Any]) -> None:
    if kind is Kind.SERVICES:
        connection.executemany(_SERVICE_UPSERT, [_service_params(service) for service in records])
    elif kind is Kind.TASKS:
        # An upsert keeps the rowid of a task that is already stored, so the order of first insertion holds.
        connection.executemany(_TASK_UPSERT, [_task_params(stored.task) for stored in records])
    elif kind is Kind.HISTORY:
        connection.executemany(
            _HISTORY_INSERT, [[getattr(stored.entry, column) for column in _HISTORY_COLUMNS] for stored in records]
        )
    elif kind is Kind.USERS:
        connection.executemany(_USER_UPSERT, [_user_params(user) for user in records])
    elif kind is Kind.GROUPS:
        # SQLite derives groups from the accounts' `groups` columns, which the users' batches wrote.
        pass
    elif kind is Kind.SESSIONS:
        connection.executemany(
            _SESSION_UPSERT, [(s.token_hash, s.username, s.created_at, s.expires_at) for s in records]
        )
    elif kind is Kind.DEAD_LETTERS:
        connection.executemany(
            _DEAD_LETTER_UPSERT,
            [(d.id, d.topic, d.source, d.body, d.reason, d.received_at) for d in records],
        )
    else:
        raise ValueError(f"unknown kind {kind!r}")
