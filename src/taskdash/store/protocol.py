"""The repository protocol that every store backend implements.

Domain modules depend on this protocol only. Backends raise
`StoreReadFailed` or `StoreWriteFailed` (from `taskdash.errors`) for any
driver failure, so callers never see a driver's exception types.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from taskdash.store.records import (
    ClaimRequest,
    DeadLetter,
    Heartbeat,
    HistoryEntry,
    Registration,
    ReportedTask,
    ServiceRecord,
    Session,
    TaskQuery,
    TaskRecord,
    TaskSort,
    User,
)
from taskdash.store.task_json import TaskJsonPage

# Columns that `task_columns` can return, in the caller's order.
TASK_COLUMNS = frozenset(
    {
        "task_id", "service_url", "status", "data_type", "description", "service_status",
        "reserved", "project_id", "instance_id", "url", "create_time", "user", "checker",
        "group_id", "missing", "created_at", "updated_at",
    }
)


class ClaimOutcome:
    """Results of `Repository.change_owner`."""

    DONE = "done"
    NOT_FOUND = "not_found"
    ALREADY_CLAIMED = "already_claimed"
    LIMIT_REACHED = "limit_reached"
    INVALID_STATUS = "invalid_status"


class Repository(Protocol):
    async def ping(self) -> None:
        """Raise StoreReadFailed unless the store executes a trivial query."""

    async def close(self) -> None: ...

    # Services and intake.

    async def apply_intake_batch(
        self,
        registrations: Sequence[Registration],
        heartbeats: Sequence[Heartbeat],
        dead_letters: Sequence[DeadLetter],
    ) -> None:
        """Store one coalesced intake batch atomically.

        Registrations are upserts that an older registration never overrides.
        A heartbeat for an unknown URL creates its service, and no heartbeat
        moves `last_heartbeat_at` backwards.
        """

    async def list_services(self, include_archived: bool = False) -> list[ServiceRecord]:
        """Return every service with its task count, ordered by URL."""

    async def heartbeat_times(self) -> dict[str, float | None]:
        """Return url -> last_heartbeat_at for every service that is not archived."""

    async def claim_poll_terms(self, owner: str, terms: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        """Give `owner` the poll lease of each (service URL, term) that has none; return the ones `owner` holds.

        Of concurrent calls for one service and term, exactly one gets it, on every backend.
        """

    async def delete_poll_terms_before(self, term: int) -> int:
        """Delete the poll leases of terms before `term`; return how many were deleted."""

    async def record_poll(self, url: str, at: float, ok: bool, error: str, failures: int) -> None:
        """Store the outcome of one poll of the service at `url`."""

    async def list_dead_letters(self, limit: int, before_id: int | None = None) -> list[DeadLetter]:
        """Return dead letters, newest first."""

    # Tasks.

    async def task_fingerprints(self, service_url: str) -> dict[str, tuple[str, bool]]:
        """Return task_id -> (fingerprint, missing) for every task of one service."""

    async def get_tasks(self, task_ids: Sequence[str]) -> list[TaskRecord]: ...

    async def get_task(self, task_id: str) -> TaskRecord | None: ...

    async def insert_tasks(self, tasks: Sequence[TaskRecord], history: Sequence[HistoryEntry]) -> list[str]:
        """Insert new tasks and return the ids skipped because another service already owns them."""

    async def update_tasks(
        self, updates: Sequence[tuple[TaskRecord, int]], history: Sequence[HistoryEntry]
    ) -> list[str]:
        """Write each task whose stored version still equals the given one.

        Returns the ids whose version had moved on; those are not written and
        their history entries are dropped, so the caller reloads and retries.
        """

    async def set_missing(self, service_url: str, task_ids: Sequence[str], missing: bool, at: float) -> int: ...

    async def change_owner(self, request: ClaimRequest) -> tuple[str, TaskRecord | None]:
        """Atomically give a task to `request.user`; returns a ClaimOutcome and the stored task.

        Without `allow_reassign` only an unclaimed (`notget`) task can change
        hands, so of concurrent claims exactly one returns DONE.
        """

    async def task_columns(self, query: TaskQuery, columns: Sequence[str]) -> list[tuple]:
        """Return the given columns of matching tasks, in the order they were first stored."""

    async def find_tasks(
        self, query: TaskQuery, sort: TaskSort, limit: int, after_cursor: str | None = None
    ) -> tuple[list[TaskRecord], str | None]:
        """Return up to `limit` matching tasks in `sort` order, and the cursor of the next page.

        The next cursor is None on the last page. `after_cursor` is a cursor
        from an earlier call with the same sort (see `taskdash.store.paging`);
        an invalid one raises InvalidRequest.
        """

    async def task_json_page(
        self, query: TaskQuery, sort: TaskSort, limit: int, after_cursor: str | None = None
    ) -> TaskJsonPage:
        """Return a page of `find_tasks` as JSON objects (see `taskdash.store.task_json`), with `count_tasks`."""

    async def count_tasks(self, query: TaskQuery) -> int:
        """Return the number of tasks that match `query`."""

    async def task_history(self, task_id: str) -> list[HistoryEntry]:
        """Return the history of one task, oldest entry first."""

    async def count_tasks_by(self, query: TaskQuery, columns: Sequence[str]) -> list[tuple]:
        """Return, for each distinct combination of `columns` among matching tasks, its values and its count.

        `columns` are names from TASK_COLUMNS; rows are ordered by those values.
        """

    async def finished_per_day(self, query: TaskQuery, since: float) -> list[tuple[str, int]]:
        """Return (UTC date as YYYY-MM-DD, task count) for each day that matching tasks moved to `finish`.

        A task counts on the day of each history entry at or after `since`
        that moved it from another status to `finish`, at most once per day.
        """

    # Accounts.

    async def add_user(self, user: User) -> None:
        """Insert a user; raise InvalidRequest if the username is taken."""

    async def get_user(self, username: str) -> User | None: ...

    async def list_users(self) -> list[User]: ...

    async def add_session(self, session: Session) -> None: ...

    async def get_session(self, token_hash: str) -> Session | None: ...

    async def delete_session(self, token_hash: str) -> None: ...

    async def delete_expired_sessions(self, now: float) -> int: ...

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
        """Change the given fields of a user (None leaves a field as it is) and return the stored user.

        Raises UserNotFound for an unknown username.
        """

    async def delete_sessions_of(self, username: str) -> int:
        """Delete every session of `username` and return how many there were."""

    async def list_groups(self) -> dict[str, list[str]]:
        """Return group -> sorted usernames of its members, for every group at least one user belongs to."""


def reported_fields(task: ReportedTask) -> dict[str, object]:
    """Return the reported fields of a task as a plain dict, for fingerprints and storage."""
    return {
        "data_type": task.data_type,
        "status": task.status,
        "description": task.description,
        "reserved": task.reserved,
        "project_id": task.project_id,
        "instance_id": task.instance_id,
        "url": task.url,
        "create_time": task.create_time,
        "extra": task.extra,
    }
