"""The SQL expression that builds a task row's JSON object inside SQLite (see taskdash.store.task_json)."""

from __future__ import annotations

from taskdash.store.records import TaskSort
from taskdash.store.task_json import TASK_JSON_FIELDS


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


def task_json_select(sort: TaskSort) -> str:
    """Return the SELECT clause of a task page: each task's JSON object, its value of the sort key and its id."""
    return f'SELECT {TASK_JSON_SQL}, "{sort.key.value}", task_id FROM task'
