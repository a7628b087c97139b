"""Opaque cursors for keyset pagination of task lists, shared by every backend.

A cursor is URL-safe base64 of a JSON object with the sort key, the
direction, and the last row's sort value and task id. The next page starts
strictly after that (value, task id) pair, so rows inserted between two
requests never shift a page. Sorted by `created_at` or `task_id`, which never
change, no row is returned twice and no row that existed when the first page
was read is skipped. Sorted by `updated_at`, a task written between two
requests moves and can be returned twice or skipped.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from taskdash.errors import InvalidRequest
from taskdash.store.records import TaskRecord, TaskSort, TaskSortField

MAX_CURSOR_LENGTH = 2048


def sort_value(task: TaskRecord, sort: TaskSort) -> float | str:
    """Return the value of `task` that `sort` orders by."""
    return getattr(task, sort.key.value)


def encode_cursor(sort: TaskSort, last: TaskRecord) -> str:
    """Return the cursor of the page that follows the row `last`."""
    return cursor_after(sort, sort_value(last, sort), last.task_id)


def cursor_after(sort: TaskSort, value: float | str, task_id: str) -> str:
    """Return the cursor of the page that follows the row with sort value `value` and id `task_id`."""
    document = {"key": sort.key.value, "desc": sort.descending, "value": value, "id": task_id}
    return base64.urlsafe_b64encode(orjson.dumps(document)).decode().rstrip("=")


def decode_cursor(cursor: str, sort: TaskSort) -> tuple[float | str, str]:
    """Return the (sort value, task id) that `cursor` continues after; raise InvalidRequest if it is invalid."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidRequest(f"invalid cursor: it is longer than {MAX_CURSOR_LENGTH} characters")
    try:
        document = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"invalid cursor {cursor[:64]!r}: pass the next_cursor of the previous page") from None

    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        raise InvalidRequest(f"invalid cursor {cursor[:64]!r}: pass the next_cursor of the previous page")
    if document.get("key") != sort.key.value or document.get("desc") is not sort.descending:
        raise InvalidRequest(
            f"the cursor belongs to a list sorted by {document.get('key')!r} "
            f"{'desc' if document.get('desc') else 'asc'}: request the same sort and order, or start without a cursor"
        )

    value = document.get("value")
    expected = str if sort.key is TaskSortField.TASK_ID else (int, float)
    if isinstance(value, bool) or not isinstance(value, expected):
        raise InvalidRequest(f"invalid cursor {cursor[:64]!r}: its sort value has the wrong type")
    return value, document["id"]
