"""Plain records that cross the repository protocol.

Times are Unix seconds (float) on TaskDash's own clock unless a name says
otherwise. Records carry no behaviour; the domain modules hold the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(slots=True)
class Registration:
    """A task service announcing itself; `url` is its identity."""

    url: str
    name: str
    type: str
    reserved: str
    extra: dict[str, Any]
    seen_at: float


@dataclass(slots=True)
class Heartbeat:
    """A liveness signal. `seen_at` is the server-side time (nsqd's timestamp capped by receipt)."""

    url: str
    seen_at: float
    sender_time: float | None
    received_at: float


@dataclass(slots=True)
class DeadLetter:
    """A message that can never be processed, kept with the reason it was rejected."""

    topic: str
    source: str
    body: bytes
    reason: str
    received_at: float
    id: int | None = None


@dataclass(slots=True)
class ServiceRecord:
    """One task service in the catalogue, with its liveness and polling fields."""

    url: str
    name: str = ""
    type: str = ""
    reserved: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    registered: bool = False
    first_seen_at: float = 0.0
    registered_at: float | None = None
    last_heartbeat_at: float | None = None
    last_heartbeat_received_at: float | None = None
    last_sender_time: float | None = None
    last_poll_at: float | None = None
    last_poll_ok: bool | None = None
    last_poll_error: str = ""
    poll_failures: int = 0
    archived: bool = False
    task_count: int = 0

    @property
    def clock_skew(self) -> float | None:
        """Sender clock minus server clock at the last heartbeat, in seconds."""
        if self.last_sender_time is None or self.last_heartbeat_at is None:
            return None
        return self.last_sender_time - self.last_heartbeat_at


@dataclass(slots=True)
class ReportedTask:
    """Task metadata as one service reported it, already normalised."""

    task_id: str
    data_type: str = ""
    status: str = ""
    description: str = ""
    reserved: str = ""
    project_id: str = ""
    instance_id: str = ""
    url: str = ""
    create_time: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class TaskRecord:
    """A stored task: the service's metadata plus TaskDash's management fields.

    `version` grows by one on every write; updates compare it so that a poll
    and a user action never overwrite each other unnoticed.
    """

    task_id: str
    service_url: str
    status: str
    data_type: str = ""
    description: str = ""
    service_status: str = ""
    reserved: str = ""
    project_id: str = ""
    instance_id: str = ""
    url: str = ""
    create_time: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    user: str = ""
    checker: str = ""
    group_id: str = ""
    missing: bool = False
    fingerprint: str = ""
    version: int = 1
    created_at: float = 0.0
    updated_at: float = 0.0
    claimed_at: float | None = None


@dataclass(slots=True)
class HistoryEntry:
    """One status or ownership change of a task."""

    task_id: str
    at: float
    actor: str
    actor_kind: str
    from_status: str
    to_status: str
    reason: str = ""


@dataclass(slots=True, frozen=True)
class TaskVisibility:
    """The tasks one user may see: every task that matches at least one of the parts.

    An empty visibility matches no task. A query without one (`None`) matches every task.
    """

    unclaimed: bool = False
    users: tuple[str, ...] = ()
    checkers: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class TaskQuery:
    """Filter for task lists. Empty fields do not filter; set fields must all match.

    `text` matches a case-insensitive (ASCII only) substring of the task id or the description.
    """

    status: str = ""
    user: str = ""
    users: tuple[str, ...] | None = None
    service_urls: tuple[str, ...] | None = None
    include_missing: bool = False
    data_type: str = ""
    checker: str = ""
    group_id: str = ""
    text: str = ""
    visible: TaskVisibility | None = None


class TaskSortField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TASK_ID = "task_id"


@dataclass(slots=True, frozen=True)
class TaskSort:
    """Order of a task list. Ties are broken by task id in the same direction."""

    key: TaskSortField = TaskSortField.CREATED_AT
    descending: bool = False


@dataclass(slots=True)
class User:
    """An account. `roles` and `groups` are sorted tuples of names."""

    username: str
    password_hash: str
    roles: tuple[str, ...]
    groups: tuple[str, ...] = ()
    display_name: str = ""
    disabled: bool = False
    created_at: float = 0.0


@dataclass(slots=True)
class Session:
    """A server-side login session; only the SHA-256 of its token is stored."""

    token_hash: str
    username: str
    created_at: float
    expires_at: float


@dataclass(slots=True)
class ClaimRequest:
    """An atomic change of owner: claim (editor takes a free task) or assignment."""

    task_id: str
    user: str
    actor: str
    at: float
    checker: str = ""
    group_id: str = ""
    max_in_work: int = 0
    allow_reassign: bool = False
    reason: str = ""


@dataclass(slots=True)
class TaskSyncResult:
    """Counts of the changes one poll made in the store."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0
    conflicts: int = 0
