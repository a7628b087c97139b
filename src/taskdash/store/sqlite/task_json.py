"""Task pages as JSON on SQLite: the JSON objects built inside SQLite, and a cache of them by task version.

Reading the 21 columns of 50 tasks took about 150 us inside SQLite, and
their ids, versions and update times about 40 us (the page of `make bench`
on a 2-core EPYC, SQLite 3.40). Every write of a task increments its version and
sets its update time, so a JSON object stays valid as long as both match.
A page reads the keys of its rows, takes the JSON of unchanged tasks from
the cache, and builds the others in a second query of the same read
transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from taskdash.store.records import TaskSort
from taskdash.store.task_json import TASK_JSON_FIELDS

# The JSON of the benchmark's tasks is about 0.5 KiB, so this has room for about 30,000 such tasks.
DEFAULT_CACHE_BYTES = 16 * 1024 * 1024


def _real_json(column: str) -> str:
    # json_object writes a REAL with 15 significant digits, which drops the microseconds of a Unix time.
    # NOTE: 17 digits from printf read back as the same double below about 1e100 (tested on SQLite 3.40 with
    # random doubles), but not for every larger double. These columns hold Unix times, far below that bound.
    return f"json(printf('%!.17g', {column}))"


_VALUE_SQL = {
    "extra": "json(extra)",
    "missing": "json(CASE missing WHEN 0 THEN 'false' ELSE 'true' END)",
    "created_at": _real_json("created_at"),
    "updated_at": _real_json("updated_at"),
    "claimed_at": f"CASE WHEN claimed_at IS NULL THEN NULL ELSE {_real_json('claimed_at')} END",
}

def _value_sql(name: str) -> str:
    return _VALUE_SQL.get(name, f'"{name}"')


_PAIRS_SQL = ", ".join(f"'{name}', {_value_sql(name)}" for name in TASK_JSON_FIELDS)
# A BLOB reaches Python as bytes, without the UTF-8 decoding that a TEXT value gets.
TASK_JSON_SQL = f"CAST(json_object({_PAIRS_SQL}) AS BLOB)"


def page_keys_select(sort: TaskSort) -> str:
    """Return the SELECT clause of a task page's keys: task id, version, update time and the value of the sort key."""
    return f'SELECT task_id, version, updated_at, "{sort.key.value}" FROM task'


_JSON_BY_IDS_SQL = f"SELECT task_id, version, updated_at, {TASK_JSON_SQL} FROM task WHERE task_id IN "

CacheKey = tuple[int, float]


class TaskJsonCache:
    """JSON objects of tasks by task id, each valid for the (version, updated_at) it was built from.

    The cache contains at most `max_bytes` of JSON and evicts the entries stored first.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: dict[str, tuple[CacheKey, bytes]] = {}
        # The reader threads share the cache.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, task_id: str, key: CacheKey) -> bytes | None:
        entry = self._entries.get(task_id)
        if entry is None or entry[0] != key:
            return None
        return entry[1]

    def put(self, task_id: str, key: CacheKey, document: bytes) -> None:
        if len(document) > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(task_id, None)
            if previous is not None:
                self.size -= len(previous[1])
            while self._entries and self.size + len(document) > self.max_bytes:
                # Dicts keep insertion order, so this evicts the entry stored first.
                _, evicted = self._entries.pop(next(iter(self._entries)))
                self.size -= len(evicted)
            self._entries[task_id] = (key, document)
            self.size += len(document)


def read_json_page(
    connection: sqlite3.Connection, cache: TaskJsonCache, keys_sql: str, keys_params: Sequence[Any],
    count_sql: str, count_params: Sequence[Any],
) -> tuple[list[bytes], list[tuple[str, int, float, Any]], int]:
    """Return the JSON objects of the rows of `keys_sql` (a `page_keys_select` query), the rows, and the count.

    Everything is read in one read transaction, so the count and the JSON
    objects belong to the same snapshot as the rows.
    """
    connection.execute("BEGIN")
    try:
        rows = connection.execute(keys_sql, keys_params).fetchall()
        total = connection.execute(count_sql, count_params).fetchone()[0]
        documents = [cache.get(task_id, (version, updated_at)) for task_id, version, updated_at, _ in rows]
        stale = [row[0] for row, document in zip(rows, documents) if document is None]
        if stale:
            built = {}
            # One parameter per id (a page has at most 501 rows), because json_each would cut an id at a NUL.
            placeholders = ", ".join("?" * len(stale))
            for task_id, version, updated_at, document in connection.execute(
                f"{_JSON_BY_IDS_SQL}({placeholders})", stale
            ):
                cache.put(task_id, (version, updated_at), document)
                built[task_id] = document
            documents = [document or built[row[0]] for row, document in zip(rows, documents)]
    finally:
        connection.execute("COMMIT")
    return documents, rows, total
