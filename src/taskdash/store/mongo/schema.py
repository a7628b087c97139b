"""Indexes of the MongoDB store, created at every start.

`createIndexes` with a name and key that already exist does nothing, so
starting again, or several instances starting at once, is harmless. Changing
the key of an existing name fails: give a changed index a new name.
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from taskdash.store.mongo.documents import HISTORY, MANAGEMENT, METADATA, POLL_LEASE, SESSION, USER

INDEXES: dict[str, list[IndexModel]] = {
    MANAGEMENT: [
        # Task lists, claim next and counts by status, in each sort order.
        IndexModel([("status", ASCENDING), ("missing", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                   name="status_created"),
        IndexModel([("status", ASCENDING), ("type", ASCENDING), ("missing", ASCENDING), ("created_at", ASCENDING),
                    ("_id", ASCENDING)], name="status_type_created"),
        IndexModel([("created_at", ASCENDING), ("_id", ASCENDING)], name="created"),
        IndexModel([("updated_at", ASCENDING), ("_id", ASCENDING)], name="updated"),
        IndexModel([("service_url", ASCENDING)], name="service_url"),
        IndexModel([("user", ASCENDING), ("status", ASCENDING)], name="user_status"),
        IndexModel([("checker", ASCENDING), ("status", ASCENDING)], name="checker_status"),
        IndexModel([("group_id", ASCENDING), ("status", ASCENDING)], name="group_status"),
        IndexModel([("seq", ASCENDING)], name="seq"),
    ],
    METADATA: [IndexModel([("service_url", ASCENDING)], name="service_url")],
    HISTORY: [
        IndexModel([("task_id", ASCENDING), ("version", ASCENDING), ("index", ASCENDING)], name="task_order"),
        IndexModel([("to_status", ASCENDING), ("at", ASCENDING)], name="to_status_at"),
    ],
    USER: [IndexModel([("groups", ASCENDING)], name="groups")],
    SESSION: [
        IndexModel([("username", ASCENDING)], name="username"),
        IndexModel([("expires_at", ASCENDING)], name="expires_at"),
    ],
    POLL_LEASE: [IndexModel([("term", ASCENDING), ("owner", ASCENDING)], name="term_owner")],
}


async def create_indexes(database: AsyncDatabase) -> None:
    """Create every index in INDEXES that `database` lacks."""
    for collection, indexes in INDEXES.items():
        # One index per command: FerretDB 1.24.2 panics and drops the connection on a createIndexes
        # command that lists two or more indexes which all exist already.
        for index in indexes:
            await database[collection].create_indexes([index])
