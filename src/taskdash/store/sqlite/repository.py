"""SQLite implementation of the repository protocol.

Writes run on one dedicated thread with one connection, inside
`BEGIN IMMEDIATE` transactions, so writes are serialised and a claim's
check-and-set is atomic. Writes that queue up share one transaction, each
in its own savepoint (see `taskdash.store.sqlite.writer`). Small writes of
user actions, such as claims, commit on the event loop's own connection
instead, and take the writer thread's way only when the database is locked
(see `taskdash.store.sqlite.loop_writes`). SQLite's write lock serialises
the two. Reads run on a
small pool of threads with their own connections, or on the event loop
when they are short (see `taskdash.store.sqlite.reads`); WAL mode lets them
proceed while a write is open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson
import structlog

from taskdash.errors import InvalidRequest, StoreWriteFailed, UserNotFound
from taskdash.store.protocol import TASK_COLUMNS, ClaimOutcome
from taskdash.store.records import (
    ClaimRequest,
    DeadLetter,
    Heartbeat,
    HistoryEntry,
    Registration,
    ServiceRecord,
    Session,
    TaskQuery,
    TaskRecord,
    TaskSort,
    TaskSortField,
    TaskVisibility,
    User,
)
from taskdash.store.paging import cursor_after, decode_cursor, encode_cursor
from taskdash.store.sqlite.loop_writes import LoopWriter
from taskdash.store.sqlite.reads import SQLiteReads, connect
from taskdash.store.sqlite.schema import migrate
from taskdash.store.sqlite.task_json import TaskJsonCache, page_keys_select, read_json_page
from taskdash.store.sqlite.writer import BatchWriter
from taskdash.store.task_json import TaskJsonPage
from taskdash.tasks.status import FINISH, NOTGET, RUNNING

log = structlog.get_logger("taskdash.store.sqlite")

T = TypeVar("T")

# Task updates that `update_tasks` runs as one quick write on the event loop; more go to the writer thread.
QUICK_UPDATE_TASKS = 4

# Ids bound per statement; SQLite 3.32 and later allow 32,766 parameters.
ID_CHUNK = 500

# The columns of `task` in the order of TaskRecord's fields, so that a selected row unpacks into a TaskRecord.
_TASK_SELECT = "SELECT " + ", ".join(f'"{field.name}"' for field in dataclasses.fields(TaskRecord)) + " FROM task"

_USER_SELECT = "SELECT username, display_name, password_hash, roles, groups, disabled, created_at FROM account"

_SERVICE_SELECT = (
    "SELECT s.url, s.name, s.type, s.reserved, s.extra, s.registered, s.first_seen_at, s.registered_at, "
    "s.last_heartbeat_at, s.last_heartbeat_received_at, s.last_sender_time, s.last_poll_at, s.last_poll_ok, "
    "s.last_poll_error, s.poll_failures, s.archived, "
    "(SELECT count(*) FROM task t WHERE t.service_url = s.url AND t.missing = 0) "
    "FROM service s"
)


def database_path(url: str) -> Path:
    """Return the file path of a `sqlite:///PATH` URL (`sqlite:////abs/path` for absolute paths)."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"invalid SQLite URL {url!r}: expected sqlite:///PATH")
    path = url.removeprefix("sqlite:///")
    if not path:
        raise ValueError(f"invalid SQLite URL {url!r}: the path is empty; expected sqlite:///PATH")
    return Path(path)


def _task_from_row(row: Sequence[Any]) -> TaskRecord:
    """Return the TaskRecord of a row selected with _TASK_SELECT."""
    # Positional arguments take a third of the time of keywords, which counts on lists of hundreds of tasks.
    task = TaskRecord(*row)
    # SQLite returns `extra` as JSON text and `missing` as 0 or 1.
    task.extra = orjson.loads(task.extra)
    task.missing = bool(task.missing)
    return task


def _id_chunks(ids: Sequence[str]) -> Iterator[tuple[str, Sequence[str]]]:
    """Yield the chunks of `ids` with their placeholders, for `task_id IN (placeholders)`.

    Ids are bound one parameter each, not passed as a JSON array through
    json_each, because json_each cuts a string at a NUL character.
    """
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start:start + ID_CHUNK]
        yield ", ".join("?" * len(chunk)), chunk


def _task_params(task: TaskRecord) -> tuple[Any, ...]:
    return (
        task.task_id, task.service_url, task.status, task.data_type, task.description,
        task.service_status, task.reserved, task.project_id, task.instance_id, task.url,
        task.create_time, orjson.dumps(task.extra).decode(), task.user, task.checker, task.group_id,
        int(task.missing), task.fingerprint, task.version, task.created_at, task.updated_at,
        task.claimed_at,
    )


def _history_params(entry: HistoryEntry) -> tuple[Any, ...]:
    return (
        entry.task_id, entry.at, entry.actor, entry.actor_kind, entry.from_status,
        entry.to_status, entry.reason,
    )


def _user_from_row(row: Sequence[Any]) -> User:
    return User(
        username=row[0], display_name=row[1], password_hash=row[2],
        roles=tuple(orjson.loads(row[3])), groups=tuple(orjson.loads(row[4])),
        disabled=bool(row[5]), created_at=row[6],
    )


def _where(query: TaskQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.status:
        clauses.append("status = ?")
        params.append(query.status)
    if query.user:
        clauses.append('"user" = ?')
        params.append(query.user)
    if query.users is not None:
        clauses.append('"user" IN (SELECT value FROM json_each(?))')
        params.append(orjson.dumps(list(query.users)).decode())
    if query.service_urls is not None:
        clauses.append("service_url IN (SELECT value FROM json_each(?))")
        params.append(orjson.dumps(list(query.service_urls)).decode())
    for column, value in (("data_type", query.data_type), ("checker", query.checker), ("group_id", query.group_id)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.text:
        pattern = "%" + _escape_like(query.text) + "%"
        clauses.append("(task_id LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')")
        params.extend((pattern, pattern))
    if query.visible is not None and not _filters_imply_visible(query, query.visible):
        clause, visible_params = _visibility_clause(query.visible)
        clauses.append(clause)
        params.extend(visible_params)
    if not query.include_missing:
        clauses.append("missing = 0")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _filters_imply_visible(query: TaskQuery, visible: TaskVisibility) -> bool:
    """Return whether every task that passes the filters of `query` is in `visible`, so its clause can go.

    Without that clause, SQLite can read a list of unclaimed tasks from
    the status indexes alone. With it, it visits every row of the status,
    because the clause is an OR of columns that no single index covers.
    """
    return (
        (visible.unclaimed and query.status == NOTGET)
        or (bool(query.user) and query.user in visible.users)
        or (bool(query.checker) and query.checker in visible.checkers)
        or (bool(query.group_id) and query.group_id in visible.group_ids)
    )


def _find_sql(
    query: TaskQuery, sort: TaskSort, limit: int, after_cursor: str | None, select: str = _TASK_SELECT
) -> tuple[str, list[Any]]:
    """Return the SQL that selects up to `limit` tasks of `query` in `sort` order after `after_cursor`, and its parameters.

    `select` is the SELECT ... FROM task clause, by default the TaskRecord columns.
    """
    where, params = _where(query)
    if after_cursor:
        condition, cursor_params = _after_cursor(sort, after_cursor)
        where += (" AND " if where else " WHERE ") + condition
        params.extend(cursor_params)
    direction = "DESC" if sort.descending else "ASC"
    order = f"task_id {direction}"
    if sort.key is not TaskSortField.TASK_ID:
        order = f"{sort.key.value} {direction}, {order}"
    params.append(limit)
    return f"{select}{where} ORDER BY {order} LIMIT ?", params


def _count_sql(query: TaskQuery) -> tuple[str, list[Any]]:
    """Return the SQL that counts the tasks of `query`, and its parameters.

    When `query` filters on nothing but the status, the data type and the
    missing flag, the count is a sum over the few rows of `task_count`,
    which triggers keep up to date. Otherwise it counts the matching rows
    of `task`.
    """
    bare = TaskQuery(
        status=query.status, data_type=query.data_type, include_missing=query.include_missing, visible=query.visible
    )
    # Comparing with `bare` catches every other filter, including ones added to TaskQuery later.
    if query != bare or (query.visible is not None and not _filters_imply_visible(query, query.visible)):
        where, params = _where(query)
        return f"SELECT count(*) FROM task{where}", params

    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("status", query.status), ("data_type", query.data_type)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if not query.include_missing:
        clauses.append("missing = 0")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return f"SELECT coalesce(sum(tasks), 0) FROM task_count{where}", params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _visibility_clause(visible: TaskVisibility) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    if visible.unclaimed:
        parts.append("status = ?")
        params.append(NOTGET)
    for column, names in (('"user"', visible.users), ("checker", visible.checkers), ("group_id", visible.group_ids)):
        if names:
            parts.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(orjson.dumps(list(names)).decode())
    if not parts:
        return "0", []
    return "(" + " OR ".join(parts) + ")", params


def _after_cursor(sort: TaskSort, cursor: str) -> tuple[str, list[Any]]:
    """Return the condition that keeps the rows after `cursor`, as a row-value comparison."""
    value, last_id = decode_cursor(cursor, sort)
    operator = "<" if sort.descending else ">"
    if sort.key is TaskSortField.TASK_ID:
        return f"task_id {operator} ?", [last_id]
    return f"({sort.key.value}, task_id) {operator} (?, ?)", [value, last_id]


class SQLiteRepository:
    """Repository on one SQLite database file in WAL mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reads = SQLiteReads(path)
        self._task_json_cache = TaskJsonCache()
        self._writer: sqlite3.Connection | None = None
        self._batch_writer = BatchWriter(lambda: self._writer)
        self._loop_writer = LoopWriter(path, self._batch_writer)

    @classmethod
    async def open(cls, url: str) -> SQLiteRepository:
        """Open (creating if needed) the database at `url` and apply pending migrations."""
        repository = cls(database_path(url))
        try:
            await repository._batch_writer.call(repository._open_writer)
        except BaseException:
            repository._batch_writer.stop()
            raise
        return repository

    def _open_writer(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = connect(self.path)
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("sqlite_wal_unavailable", path=str(self.path), journal_mode=mode)
        applied = migrate(connection)
        if applied:
            log.info("sqlite_migrated", path=str(self.path), versions=applied)
        self._writer = connection

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._reads.read(work)

    async def _quick_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` as a quick read on the event loop, as `taskdash.store.sqlite.reads` describes."""
        return await self._reads.quick_read(work)

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` atomically in a write transaction on the writer thread, and return its result once committed."""
        return await self._committed(self._batch_writer.submit(work))

    async def _quick_write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` as a quick write on the event loop, as `taskdash.store.sqlite.loop_writes` describes.

        `work` must change a few indexed rows only, because it blocks the loop while it runs.
        """
        return await self._committed(self._loop_writer.submit(work))

    async def _committed(self, result: asyncio.Future[T]) -> T:
        try:
            return await result
        except sqlite3.Error as error:
            log.error("sqlite_write_failed", path=str(self.path), error=str(error))
            raise StoreWriteFailed(f"writing {self.path} failed: {error}") from error

    async def ping(self) -> None:
        await self._read(lambda connection: connection.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        def close_writer() -> None:
            if self._writer is not None:
                self._writer.close()
            self._writer = None

        # Closing on the writer thread waits for queued writes; readers are idle once the app stops.
        self._loop_writer.close()
        self._reads.close()
        await self._batch_writer.call(close_writer)
        self._batch_writer.stop()

    # Services and intake.

    async def apply_intake_batch(
        self,
        registrations: Sequence[Registration],
        heartbeats: Sequence[Heartbeat],
        dead_letters: Sequence[DeadLetter],
    ) -> None:
        def work(connection: sqlite3.Connection) -> None:
            connection.executemany(
                """
                INSERT INTO service (url, name, type, reserved, extra, registered, first_seen_at, registered_at)
                VALUES (?, ?, ?, ?, ?, 1, ?, ?)
                ON CONFLICT (url) DO UPDATE SET
                    name = excluded.name, type = excluded.type, reserved = excluded.reserved,
                    extra = excluded.extra, registered = 1, registered_at = excluded.registered_at
                WHERE service.registered_at IS NULL OR excluded.registered_at >= service.registered_at
                """,
                [
                    (r.url, r.name, r.type, r.reserved, orjson.dumps(r.extra).decode(), r.seen_at, r.seen_at)
                    for r in registrations
                ],
            )
            # SET expressions read the old row, so the CASE compares against the stored heartbeat.
            connection.executemany(
                """
                INSERT INTO service (url, first_seen_at, last_heartbeat_at, last_heartbeat_received_at,
                                     last_sender_time)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (url) DO UPDATE SET
                    last_sender_time = CASE
                        WHEN service.last_heartbeat_at IS NULL
                             OR excluded.last_heartbeat_at >= service.last_heartbeat_at
                        THEN excluded.last_sender_time ELSE service.last_sender_time END,
                    last_heartbeat_received_at = CASE
                        WHEN service.last_heartbeat_at IS NULL
                             OR excluded.last_heartbeat_at >= service.last_heartbeat_at
                        THEN excluded.last_heartbeat_received_at ELSE service.last_heartbeat_received_at END,
                    last_heartbeat_at = max(coalesce(service.last_heartbeat_at, 0), excluded.last_heartbeat_at)
                """,
                [(h.url, h.seen_at, h.seen_at, h.received_at, h.sender_time) for h in heartbeats],
            )
            connection.executemany(
                "INSERT INTO dead_letter (topic, source, body, reason, received_at) VALUES (?, ?, ?, ?, ?)",
                [(d.topic, d.source, d.body, d.reason, d.received_at) for d in dead_letters],
            )

        await self._write(work)

    async def list_services(self, include_archived: bool = False) -> list[ServiceRecord]:
        sql = _SERVICE_SELECT + ("" if include_archived else " WHERE s.archived = 0") + " ORDER BY s.url"

        def work(connection: sqlite3.Connection) -> list[ServiceRecord]:
            return [
                ServiceRecord(
                    url=row[0], name=row[1], type=row[2], reserved=row[3], extra=orjson.loads(row[4]),
                    registered=bool(row[5]), first_seen_at=row[6], registered_at=row[7],
                    last_heartbeat_at=row[8], last_heartbeat_received_at=row[9], last_sender_time=row[10],
                    last_poll_at=row[11], last_poll_ok=None if row[12] is None else bool(row[12]),
                    last_poll_error=row[13], poll_failures=row[14], archived=bool(row[15]),
                    task_count=row[16],
                )
                for row in connection.execute(sql)
            ]

        return await self._read(work)

    async def heartbeat_times(self) -> dict[str, float | None]:
        def work(connection: sqlite3.Connection) -> dict[str, float | None]:
            return dict(connection.execute("SELECT url, last_heartbeat_at FROM service WHERE archived = 0"))

        return await self._read(work)

    async def record_poll(self, url: str, at: float, ok: bool, error: str, failures: int) -> None:
        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE service SET last_poll_at = ?, last_poll_ok = ?, last_poll_error = ?, poll_failures = ? "
                "WHERE url = ?",
                (at, int(ok), error, failures, url),
            )

        await self._write(work)

    async def claim_poll_terms(self, owner: str, terms: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        if not terms:
            return set()
        wanted = set(terms)
        distinct_terms = sorted({term for _, term in terms})

        def work(connection: sqlite3.Connection) -> set[tuple[str, int]]:
            connection.executemany(
                "INSERT OR IGNORE INTO poll_lease (service_url, term, owner) VALUES (?, ?, ?)",
                [(url, term, owner) for url, term in terms],
            )
            placeholders = ", ".join("?" * len(distinct_terms))
            rows = connection.execute(
                f"SELECT service_url, term FROM poll_lease WHERE owner = ? AND term IN ({placeholders})",
                (owner, *distinct_terms),
            )
            return {(url, term) for url, term in rows} & wanted

        return await self._write(work)

    async def delete_poll_terms_before(self, term: int) -> int:
        def work(connection: sqlite3.Connection) -> int:
            return connection.execute("DELETE FROM poll_lease WHERE term < ?", (term,)).rowcount

        return await self._write(work)

    async def list_dead_letters(self, limit: int, before_id: int | None = None) -> list[DeadLetter]:
        def work(connection: sqlite3.Connection) -> list[DeadLetter]:
            rows = connection.execute(
                "SELECT id, topic, source, body, reason, received_at FROM dead_letter "
                "WHERE id < ? ORDER BY id DESC LIMIT ?",
                (before_id if before_id is not None else 2**62, limit),
            )
            return [
                DeadLetter(id=row[0], topic=row[1], source=row[2], body=bytes(row[3]), reason=row[4],
                           received_at=row[5])
                for row in rows
            ]

        return await self._read(work)

    # Tasks.

    async def task_fingerprints(self, service_url: str) -> dict[str, tuple[str, bool]]:
        def work(connection: sqlite3.Connection) -> dict[str, tuple[str, bool]]:
            rows = connection.execute(
                "SELECT task_id, fingerprint, missing FROM task WHERE service_url = ?", (service_url,)
            )
            return {row[0]: (row[1], bool(row[2])) for row in rows}

        return await self._read(work)

    async def get_tasks(self, task_ids: Sequence[str]) -> list[TaskRecord]:
        def work(connection: sqlite3.Connection) -> list[TaskRecord]:
            tasks = []
            for placeholders, chunk in _id_chunks(task_ids):
                rows = connection.execute(f"{_TASK_SELECT} WHERE task_id IN ({placeholders})", chunk)
                tasks.extend(_task_from_row(row) for row in rows)
            return tasks

        return await self._quick_read(work)

    async def get_task(self, task_id: str) -> TaskRecord | None:
        found = await self.get_tasks([task_id])
        return found[0] if found else None

    async def insert_tasks(self, tasks: Sequence[TaskRecord], history: Sequence[HistoryEntry]) -> list[str]:
        def work(connection: sqlite3.Connection) -> list[str]:
            skipped: set[str] = set()
            for task in tasks:
                cursor = connection.execute(
                    "INSERT INTO task VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (task_id) DO NOTHING",
                    _task_params(task),
                )
                if cursor.rowcount == 0:
                    skipped.add(task.task_id)
            connection.executemany(
                "INSERT INTO task_history (task_id, at, actor, actor_kind, from_status, to_status, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_history_params(entry) for entry in history if entry.task_id not in skipped],
            )
            return sorted(skipped)

        return await self._write(work)

    async def update_tasks(
        self, updates: Sequence[tuple[TaskRecord, int]], history: Sequence[HistoryEntry]
    ) -> list[str]:
        def work(connection: sqlite3.Connection) -> list[str]:
            stale: set[str] = set()
            for task, expected_version in updates:
                params = _task_params(task)
                cursor = connection.execute(
                    'UPDATE task SET service_url = ?, status = ?, data_type = ?, description = ?, '
                    'service_status = ?, reserved = ?, project_id = ?, instance_id = ?, url = ?, '
                    'create_time = ?, extra = ?, "user" = ?, checker = ?, group_id = ?, missing = ?, '
                    "fingerprint = ?, version = version + 1, created_at = ?, updated_at = ?, claimed_at = ? "
                    "WHERE task_id = ? AND version = ?",
                    (*params[1:17], *params[18:21], task.task_id, expected_version),
                )
                if cursor.rowcount == 0:
                    stale.add(task.task_id)
            connection.executemany(
                "INSERT INTO task_history (task_id, at, actor, actor_kind, from_status, to_status, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_history_params(entry) for entry in history if entry.task_id not in stale],
            )
            return sorted(stale)

        # A user's action changes one task. The poller's updates come in batches that would block the loop.
        write = self._quick_write if len(updates) <= QUICK_UPDATE_TASKS else self._write
        return await write(work)

    async def set_missing(self, service_url: str, task_ids: Sequence[str], missing: bool, at: float) -> int:
        def work(connection: sqlite3.Connection) -> int:
            changed = 0
            for placeholders, chunk in _id_chunks(task_ids):
                cursor = connection.execute(
                    "UPDATE task SET missing = ?, updated_at = ?, version = version + 1 "
                    f"WHERE service_url = ? AND missing != ? AND task_id IN ({placeholders})",
                    (int(missing), at, service_url, int(missing), *chunk),
                )
                changed += cursor.rowcount
            return changed

        return await self._write(work)

    async def change_owner(self, request: ClaimRequest) -> tuple[str, TaskRecord | None]:
        def work(connection: sqlite3.Connection) -> tuple[str, TaskRecord | None]:
            row = connection.execute(_TASK_SELECT + " WHERE task_id = ?", (request.task_id,)).fetchone()
            if row is None:
                return ClaimOutcome.NOT_FOUND, None
            task = _task_from_row(row)
            if task.missing:
                return ClaimOutcome.NOT_FOUND, task

            reassign = request.allow_reassign and task.status == RUNNING
            if request.allow_reassign and task.status not in (NOTGET, RUNNING):
                return ClaimOutcome.INVALID_STATUS, task
            if task.status != NOTGET and not reassign:
                taken = task.status == RUNNING or bool(task.user)
                return (ClaimOutcome.ALREADY_CLAIMED if taken else ClaimOutcome.INVALID_STATUS), task

            if request.max_in_work and task.user != request.user:
                (in_work,) = connection.execute(
                    'SELECT count(*) FROM task WHERE "user" = ? AND status = ? AND missing = 0',
                    (request.user, RUNNING),
                ).fetchone()
                if in_work >= request.max_in_work:
                    return ClaimOutcome.LIMIT_REACHED, task

            connection.execute(
                'UPDATE task SET status = ?, "user" = ?, checker = ?, group_id = ?, claimed_at = ?, '
                "updated_at = ?, version = version + 1 WHERE task_id = ?",
                (RUNNING, request.user, request.checker, request.group_id, request.at, request.at, task.task_id),
            )
            connection.execute(
                "INSERT INTO task_history (task_id, at, actor, actor_kind, from_status, to_status, reason) "
                "VALUES (?, ?, ?, 'user', ?, ?, ?)",
                (task.task_id, request.at, request.actor, task.status, RUNNING, request.reason),
            )
            task.status, task.user, task.checker, task.group_id = RUNNING, request.user, request.checker, request.group_id
            task.claimed_at, task.updated_at, task.version = request.at, request.at, task.version + 1
            return ClaimOutcome.DONE, task

        return await self._quick_write(work)

    async def task_columns(self, query: TaskQuery, columns: Sequence[str]) -> list[tuple]:
        unknown = set(columns) - TASK_COLUMNS
        if unknown:
            raise ValueError(f"unknown task columns {sorted(unknown)}")
        where, params = _where(query)
        selected = ", ".join(f'"{column}"' for column in columns)
        sql = f"SELECT {selected} FROM task{where} ORDER BY rowid"

        def work(connection: sqlite3.Connection) -> list[tuple]:
            return connection.execute(sql, params).fetchall()

        return await self._read(work)

    async def find_tasks(
        self, query: TaskQuery, sort: TaskSort, limit: int, after_cursor: str | None = None
    ) -> tuple[list[TaskRecord], str | None]:
        # One row more than the page tells whether another page follows.
        sql, params = _find_sql(query, sort, limit + 1, after_cursor)

        def work(connection: sqlite3.Connection) -> list[TaskRecord]:
            return [_task_from_row(row) for row in connection.execute(sql, params)]

        tasks = await self._read(work)
        if len(tasks) <= limit:
            return tasks, None
        del tasks[limit:]
        return tasks, encode_cursor(sort, tasks[-1])

    async def task_json_page(
        self, query: TaskQuery, sort: TaskSort, limit: int, after_cursor: str | None = None
    ) -> TaskJsonPage:
        # One row more than the page shows whether another page follows.
        keys_sql, keys_params = _find_sql(query, sort, limit + 1, after_cursor, page_keys_select(sort))
        count_sql, count_params = _count_sql(query)

        def work(connection: sqlite3.Connection) -> tuple[list[bytes], list[tuple[str, int, float, Any]], int]:
            return read_json_page(connection, self._task_json_cache, keys_sql, keys_params, count_sql, count_params)

        # LIKE on a long description is one slow step that the quick read's budget cannot interrupt.
        read = self._read if query.text else self._quick_read
        documents, rows, total = await read(work)
        next_cursor = None
        if len(rows) > limit:
            del documents[limit:]
            next_cursor = cursor_after(sort, rows[limit - 1][3], rows[limit - 1][0])
        return TaskJsonPage(documents, next_cursor, total)

    async def count_tasks(self, query: TaskQuery) -> int:
        sql, params = _count_sql(query)

        def work(connection: sqlite3.Connection) -> int:
            return connection.execute(sql, params).fetchone()[0]

        return await self._read(work)

    async def task_history(self, task_id: str) -> list[HistoryEntry]:
        def work(connection: sqlite3.Connection) -> list[HistoryEntry]:
            rows = connection.execute(
                "SELECT task_id, at, actor, actor_kind, from_status, to_status, reason FROM task_history "
                "WHERE task_id = ? ORDER BY id",
                (task_id,),
            )
            return [HistoryEntry(*row) for row in rows]

        return await self._quick_read(work)

    async def count_tasks_by(self, query: TaskQuery, columns: Sequence[str]) -> list[tuple]:
        unknown = set(columns) - TASK_COLUMNS
        if unknown or not columns:
            raise ValueError(f"invalid grouping columns {list(columns)}: use names from TASK_COLUMNS")
        where, params = _where(query)
        grouped = ", ".join(f'"{column}"' for column in columns)
        sql = f"SELECT {grouped}, count(*) FROM task{where} GROUP BY {grouped} ORDER BY {grouped}"

        def work(connection: sqlite3.Connection) -> list[tuple]:
            return connection.execute(sql, params).fetchall()

        return await self._read(work)

    async def finished_per_day(self, query: TaskQuery, since: float) -> list[tuple[str, int]]:
        where, params = _where(query)
        # NOTE: no index covers (to_status, at), so this scans the history rows of the matching tasks.
        sql = (
            "SELECT date(h.at, 'unixepoch') AS day, count(DISTINCT h.task_id) FROM task_history h "
            "WHERE h.to_status = ? AND h.from_status != ? AND h.at >= ? "
            f"AND h.task_id IN (SELECT task_id FROM task{where}) GROUP BY day ORDER BY day"
        )

        def work(connection: sqlite3.Connection) -> list[tuple[str, int]]:
            return connection.execute(sql, [FINISH, FINISH, since, *params]).fetchall()

        return await self._read(work)

    # Accounts.

    async def add_user(self, user: User) -> None:
        def work(connection: sqlite3.Connection) -> None:
            try:
                connection.execute(
                    "INSERT INTO account (username, display_name, password_hash, roles, groups, disabled, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.username, user.display_name, user.password_hash,
                        orjson.dumps(sorted(user.roles)).decode(), orjson.dumps(sorted(user.groups)).decode(),
                        int(user.disabled), user.created_at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise InvalidRequest(f"user {user.username!r} already exists: choose another username") from None

        await self._write(work)

    async def get_user(self, username: str) -> User | None:
        def work(connection: sqlite3.Connection) -> User | None:
            row = connection.execute(
                _USER_SELECT + " WHERE username = ?",
                (username,),
            ).fetchone()
            return None if row is None else _user_from_row(row)

        return await self._quick_read(work)

    async def list_users(self) -> list[User]:
        def work(connection: sqlite3.Connection) -> list[User]:
            rows = connection.execute(
                _USER_SELECT + " ORDER BY username"
            )
            return [_user_from_row(row) for row in rows]

        return await self._read(work)

    async def add_session(self, session: Session) -> None:
        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO session (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (session.token_hash, session.username, session.created_at, session.expires_at),
            )

        await self._write(work)

    async def get_session(self, token_hash: str) -> Session | None:
        def work(connection: sqlite3.Connection) -> Session | None:
            row = connection.execute(
                "SELECT token_hash, username, created_at, expires_at FROM session WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
            return None if row is None else Session(*row)

        return await self._quick_read(work)

    async def delete_session(self, token_hash: str) -> None:
        await self._write(lambda connection: connection.execute("DELETE FROM session WHERE token_hash = ?", (token_hash,)))

    async def delete_expired_sessions(self, now: float) -> int:
        def work(connection: sqlite3.Connection) -> int:
            return connection.execute("DELETE FROM session WHERE expires_at <= ?", (now,)).rowcount

        return await self._write(work)

    async def update_user(
        self,
        username: str,
        *,
        display_name: str | None = None,
        roles: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> User:
        changes: dict[str, Any] = {}
        if display_name is not None:
            changes["display_name"] = display_name
        if roles is not None:
            changes["roles"] = orjson.dumps(sorted(set(roles))).decode()
        if groups is not None:
            changes["groups"] = orjson.dumps(sorted(set(groups))).decode()
        if disabled is not None:
            changes["disabled"] = int(disabled)
        if password_hash is not None:
            changes["password_hash"] = password_hash

        def work(connection: sqlite3.Connection) -> User | None:
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)
                values = (*changes.values(), username)
                connection.execute(f"UPDATE account SET {assignments} WHERE username = ?", values)
            row = connection.execute(_USER_SELECT + " WHERE username = ?", (username,)).fetchone()
            return None if row is None else _user_from_row(row)

        user = await self._write(work)
        if user is None:
            raise UserNotFound(f"user {username!r} not found: check the username with `taskdash user list`")
        return user

    async def delete_sessions_of(self, username: str) -> int:
        def work(connection: sqlite3.Connection) -> int:
            return connection.execute("DELETE FROM session WHERE username = ?", (username,)).rowcount

        return await self._write(work)

    async def list_groups(self) -> dict[str, list[str]]:
        def work(connection: sqlite3.Connection) -> dict[str, list[str]]:
            rows = connection.execute(
                "SELECT g.value, a.username FROM account a, json_each(a.groups) g ORDER BY g.value, a.username"
            )
            groups: dict[str, list[str]] = {}
            for group, username in rows:
                groups.setdefault(group, []).append(username)
            return groups

        return await self._read(work)
