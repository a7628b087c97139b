"""MongoDB filters and sort orders for task lists, with the semantics of the SQLite store's SQL."""

from __future__ import annotations

import string
from typing import Any

from taskdash.store.mongo.documents import task_field
from taskdash.store.paging import decode_cursor
from taskdash.store.records import TaskQuery, TaskSort, TaskSortField, TaskVisibility
from taskdash.tasks.status import NOTGET

# `$in` of an empty list matches no document, on MongoDB and on FerretDB.
MATCH_NOTHING: dict[str, Any] = {"_id": {"$in": []}}


def task_filter(query: TaskQuery) -> dict[str, Any]:
    """Return the `management` filter that selects the tasks matching `query`."""
    clauses: list[dict[str, Any]] = []
    if query.status:
        clauses.append({"status": query.status})
    if query.user:
        clauses.append({"user": query.user})
    if query.users is not None:
        clauses.append({"user": {"$in": list(query.users)}})
    if query.service_urls is not None:
        clauses.append({"service_url": {"$in": list(query.service_urls)}})
    for field, value in (("type", query.data_type), ("checker", query.checker), ("group_id", query.group_id)):
        if value:
            clauses.append({field: value})
    if query.text:
        pattern = literal_pattern(query.text)
        clauses.append({"$or": [{"_id": {"$regex": pattern}}, {"description": {"$regex": pattern}}]})
    if query.visible is not None:
        clauses.append(visibility_filter(query.visible))
    if not query.include_missing:
        clauses.append({"missing": False})
    return combine(clauses)


def combine(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a filter that matches the documents every clause matches."""
    if not clauses:
        return {}
    if len(clauses) == 1:
        return clauses[0]
    return {"$and": clauses}


def visibility_filter(visible: TaskVisibility) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if visible.unclaimed:
        parts.append({"status": NOTGET})
    for field, names in (("user", visible.users), ("checker", visible.checkers), ("group_id", visible.group_ids)):
        if names:
            parts.append({field: {"$in": list(names)}})
    if not parts:
        return MATCH_NOTHING
    return {"$or": parts}


def literal_pattern(text: str) -> str:
    """Return a regular expression that finds `text` as a substring, ASCII letters in either case.

    The case rule is SQLite's LIKE: other letters match only in the same case.
    The pattern avoids the `i` option, because MongoDB (PCRE) and FerretDB
    (Go regexp) both fold non-ASCII letters under it. It uses only escapes that
    both engines read the same way: a backslash before ASCII punctuation, and
    `\\xHH` for control characters, which MongoDB rejects unescaped when it is NUL.
    """
    parts: list[str] = []
    for character in text:
        if character in string.ascii_letters:
            parts.append(f"[{character.lower()}{character.upper()}]")
        elif character in string.punctuation:
            parts.append("\\" + character)
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            parts.append(f"\\x{ord(character):02x}")
        else:
            parts.append(character)
    return "".join(parts)


def sort_spec(sort: TaskSort) -> list[tuple[str, int]]:
    """Return the sort order of `sort`, with ties broken by task id in the same direction."""
    direction = -1 if sort.descending else 1
    if sort.key is TaskSortField.TASK_ID:
        return [("_id", direction)]
    return [(task_field(sort.key.value), direction), ("_id", direction)]


def after_cursor_filter(sort: TaskSort, cursor: str) -> dict[str, Any]:
    """Return the filter that keeps the tasks after `cursor` in `sort` order; raise InvalidRequest if it is invalid."""
    value, last_id = decode_cursor(cursor, sort)
    operator = "$lt" if sort.descending else "$gt"
    if sort.key is TaskSortField.TASK_ID:
        return {"_id": {operator: last_id}}
    field = task_field(sort.key.value)
    return {"$or": [{field: {operator: value}}, {field: value, "_id": {operator: last_id}}]}
