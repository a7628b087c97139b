"""Bulk export and import of whole records, by kind, for `taskdash migrate`.

The repository protocol reads and writes what the domain needs. A transfer
store instead reads every record of one kind in a stable key order, batch
by batch, and writes whole records as they were stored, with their
versions, timestamps and ids. Each backend implements `TransferStore`; the
migration command (`taskdash.migration`) depends on this module only.

Poll leases and task locks are not records of any kind here: both are
short-lived coordination between running instances, and a copy never
needs them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from taskdash.store.records import HistoryEntry, TaskRecord

# Position of a record in its kind's export order, as the source defines it: a string, an integer or a
# list of them. It is stored in the target's progress record, so it must survive a JSON round trip.
Key = Any


class StoreUnusable(Exception):
    """Raised when a store cannot be the source or target of a migration.

    The store is missing, is not TaskDash's, or has a newer schema than this TaskDash.
    The message names the store and what to do.
    """


class Kind(StrEnum):
    """A kind of record that a migration copies, in the order it copies them."""

    SERVICES = "services"
    TASKS = "tasks"
    HISTORY = "history"
    USERS = "users"
    GROUPS = "groups"
    SESSIONS = "sessions"
    DEAD_LETTERS = "dead_letters"


KINDS: tuple[Kind, ...] = tuple(Kind)


@dataclass(slots=True)
class StoredTask:
    """A task with its place in the order of first insertion (SQLite's rowid, MongoDB's `seq`).

    `TaskRecord` leaves that place out, but the legacy task lists are sorted by it.
    """

    task: TaskRecord
    position: int


@dataclass(slots=True)
class StoredHistoryEntry:
    """A history entry with the MongoDB identity of the write that made it.

    On MongoDB an entry's `_id` is derived from the task's version after that
    write and the entry's index within it. SQLite keeps no version, so its
    entries export version 0 and their row id as the index. Version 0 sorts
    before every write TaskDash makes later, because task versions start at 1.
    """

    entry: HistoryEntry
    version: int
    index: int


@dataclass(slots=True)
class Group:
    """A group with the sorted usernames of its members."""

    name: str
    members: tuple[str, ...]


@dataclass(slots=True)
class Batch:
    """Up to `limit` records of one kind in key order, and the key of the last one (None when empty)."""

    records: list[Any]
    last_key: Key | None


@dataclass(slots=True)
class KindProgress:
    """How far a migration has copied one kind."""

    # Key of the last record written, or None before the first batch.
    after: Key | None = None
    copied: int = 0
    done: bool = False


@dataclass(slots=True)
class Progress:
    """The progress record that a migration keeps on its target, so that a rerun resumes.

    `source` is the source's identity (`taskdash.migration.urls.StoreUrl.identity`):
    no credentials and no options, so a rerun with other credentials still matches.
    """

    source: str
    started_at: float = field(default_factory=time.time)
    complete: bool = False
    kinds: dict[str, KindProgress] = field(default_factory=dict)

    def of(self, kind: Kind) -> KindProgress:
        return self.kinds.setdefault(kind.value, KindProgress())

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "started_at": self.started_at, "complete": self.complete,
            "kinds": {
                name: {"after": state.after, "copied": state.copied, "done": state.done}
                for name, state in self.kinds.items()
            },
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Progress:
        kinds = {
            name: KindProgress(state["after"], state["copied"], state["done"])
            for name, state in document["kinds"].items()
        }
        return cls(document["source"], document["started_at"], document["complete"], kinds)


class TransferStore(Protocol):
    """Batched export, bulk upsert and counts of every kind, plus the progress record of a migration.

    Driver failures raise StoreReadFailed or StoreWriteFailed (from
    `taskdash.errors`), as in the repository protocol. A store opened as a
    source is never written.
    """

    async def count(self, kind: Kind) -> int:
        """Return the number of stored records of `kind`."""

    async def read_batch(self, kind: Kind, after: Key | None, limit: int) -> Batch:
        """Return up to `limit` records of `kind` that follow the key `after` (from the start when None).

        Records are StoredTask for tasks, StoredHistoryEntry for history,
        Group for groups, and ServiceRecord, User, Session and DeadLetter for
        the others. ServiceRecord.task_count is 0: it is derived from the tasks.
        """

    async def write_batch(self, kind: Kind, records: Sequence[Any], progress: Progress) -> None:
        """Upsert `records` of `kind` by their identity, then store `progress`.

        Writing the same records twice stores each once, except history entries
        on SQLite, which have no key there and are appended. On SQLite the
        records and the progress commit in one transaction, so a resumed copy
        never writes a batch twice. On MongoDB the records come first, so after
        a crash the progress never claims records that are missing.
        """

    async def read_progress(self) -> Progress | None:
        """Return the progress record of the migration into this store, or None if there is none."""

    async def write_progress(self, progress: Progress) -> None: ...

    async def clear(self) -> None:
        """Delete every record of every kind, the poll leases, the task locks and the progress record."""

    async def set_mark(self, token: str | None) -> None:
        """Store `token` where `has_mark` of any URL of this store finds it; None removes it.

        Two URLs that differ can name one store, for example two host names of
        one MongoDB server, and a migration must never use a store as its own
        target. SQLite files are compared by inode before they are opened, so the
        SQLite store stores nothing here.
        """

    async def has_mark(self, token: str) -> bool:
        """Return whether `set_mark(token)` was called on this store, through any URL."""

    async def close(self) -> None: ...


async def open_transfer(url: str, *, target: bool) -> TransferStore:
    """Open the store that `url` names, as the target of a migration or else as a read-only source.

    A source must exist and contain TaskDash's schema or collections. A target
    is created when missing, and gets TaskDash's schema or indexes.
    """
    if url.startswith("sqlite:///"):
        from taskdash.store.sqlite.transfer import SQLiteTransfer

        return await SQLiteTransfer.open(url, target=target)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from taskdash.store.mongo.transfer import MongoTransfer

        return await MongoTransfer.open(url, target=target)
    # The URL may carry a password, so the message leaves it out.
    raise ValueError("unsupported store URL: expected sqlite:///PATH or mongodb://HOST:PORT/DATABASE")
