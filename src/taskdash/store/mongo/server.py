"""What the MongoDB store adapts to in the server behind its URL: MongoDB itself, or FerretDB.

FerretDB 1.24 with its SQLite handler hands a filter to SQLite only when it
is exactly `{"_id": <string>}`. For any other filter, such as
`{"_id": url, "registered_at": {"$lte": t}}`, it reads and decodes every
document of the collection and filters them itself. Measured here with such
a filter, an update took about 7 ms at 200 documents and 50 ms at 3,000.
Its updates are also not atomic: it reads the matching documents, then
writes them back in a separate step. A condition in an update's filter is
therefore neither fast nor safe against another writer there. Checking it
in this process instead widens the gap between check and write by a round
trip. This process keeps its own writes of one service apart with a lock,
and several instances on one FerretDB are not supported (README.md).

Even `{"_id": <string>}` scans the table in SQLite, because FerretDB
queries `_ferretdb_sjson->'$._id'` while its unique index is on
`_ferretdb_sjson->"_id"` (seen with EXPLAIN QUERY PLAN on its database
file). Every write by `_id` therefore costs time in proportion to the
collection's size there as well, though far less.

On MongoDB a condition in the filter is atomic and uses the `_id` index, so
the store keeps it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


@dataclass(frozen=True, slots=True)
class ServerTraits:
    """The server's name and version, and how the store writes to it."""

    # For logs, such as "MongoDB 7.0.14" or "FerretDB v1.24.2".
    description: str
    # True: conditional updates read the documents by `_id`, check the condition here and update by `_id`
    # alone. False: the condition goes into the update's filter.
    check_conditions_here: bool


async def detect_server(database: AsyncDatabase) -> ServerTraits:
    """Ask the server for its build information and return the traits that follow from it."""
    info = await database.client.admin.command("buildInfo")
    return traits_from_build_info(info)


def traits_from_build_info(info: dict[str, Any]) -> ServerTraits:
    """Return the traits of the server whose `buildInfo` reply is `info`."""
    ferretdb_version = info.get("ferretdbVersion")
    if ferretdb_version:
        # The reads and writes in separate steps are those of FerretDB 1.x. FerretDB 2.x hands commands to
        # PostgreSQL's DocumentDB extension and has not been tried with TaskDash, so it is written to as MongoDB.
        return ServerTraits(f"FerretDB {ferretdb_version}", check_conditions_here=_major(ferretdb_version) < 2)
    return ServerTraits(f"MongoDB {info.get('version', 'unknown version')}", check_conditions_here=False)


def _major(version: str) -> int:
    """Return the major number of a version such as "v1.24.2", or 1 if it has none."""
    head = version.lstrip("v").split(".", 1)[0]
    return int(head) if head.isdigit() else 1


def id_filter(ids: list[Any]) -> dict[str, Any]:
    """Return a filter on `_id` matching `ids`: an equality for one id, which FerretDB reads as one row."""
    if len(ids) == 1:
        return {"_id": ids[0]}
    return {"_id": {"$in": ids}}
