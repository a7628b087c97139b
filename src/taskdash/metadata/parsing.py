"""Normalisation of the task lists that task services return.

A service returns a JSON array of task objects, or an object holding the
array under `tasks` or `data`. Keys match case-insensitively and in snake or
camel case (`TaskID`, `task_id`, `taskId`). Unknown keys are kept as extras.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from taskdash.store.records import ReportedTask

MAX_TASK_ID_LENGTH = 512

# Normalised key (lower case, no underscores or dashes) -> ReportedTask field.
_KEY_FIELDS = {
    "taskid": "task_id",
    "datatype": "data_type",
    "type": "data_type",
    "tasktype": "data_type",
    "status": "status",
    "description": "description",
    "reserved": "reserved",
    "projectid": "project_id",
    "instanceid": "instance_id",
    "url": "url",
    "createtime": "create_time",
}
# Fallback id keys, used only when no TaskID-like key is present.
_ID_KEYS = ("id", "_id")


class InvalidTaskList(ValueError):
    """Raised when a service's response contains no task list at all."""


@dataclass(slots=True)
class ParsedTaskList:
    tasks: list[ReportedTask]
    warnings: list[str] = field(default_factory=list)


def _normal_key(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return orjson.dumps(value).decode()


def _task_list(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key, value in document.items():
            if key.lower() in ("tasks", "data") and isinstance(value, list):
                return value
        raise InvalidTaskList(
            f"the JSON object has no 'tasks' or 'data' array (keys: {sorted(document)[:10]})"
        )
    raise InvalidTaskList(f"expected a JSON array of tasks, got a JSON {type(document).__name__}")


def parse_task(item: dict[str, Any]) -> ReportedTask | None:
    """Return the ReportedTask for one task object, or None if it has no usable id."""
    values: dict[str, str] = {}
    extra: dict[str, Any] = {}
    fallback_id = ""
    for key, value in item.items():
        normal = _normal_key(key)
        target = _KEY_FIELDS.get(normal)
        if target == "task_id" or (target is None and (key in _ID_KEYS or normal == "id")):
            # Only strings and integers identify a task; arrays, objects, booleans and floats do not.
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                return None
            if target == "task_id":
                values.setdefault("task_id", str(value))
            else:
                fallback_id = fallback_id or str(value)
        elif target is not None and target not in values:
            values[target] = _as_text(value)
        else:
            extra[key] = value

    task_id = (values.pop("task_id", "") or fallback_id).strip()
    if not task_id or len(task_id) > MAX_TASK_ID_LENGTH:
        return None
    try:
        orjson.dumps(extra)
    except (TypeError, orjson.JSONEncodeError):
        return None
    return ReportedTask(task_id=task_id, extra=extra, **values)


def parse_task_list(body: bytes) -> ParsedTaskList:
    """Parse a service's response. Tasks without an id are skipped and counted in the warnings."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidTaskList(f"the response is not valid JSON: {error}") from None

    parsed = ParsedTaskList(tasks=[])
    by_id: dict[str, ReportedTask] = {}
    skipped = duplicates = 0
    for item in _task_list(document):
        task = parse_task(item) if isinstance(item, dict) else None
        if task is None:
            skipped += 1
            continue
        if task.task_id in by_id:
            duplicates += 1
        by_id[task.task_id] = task

    parsed.tasks = list(by_id.values())
    if skipped:
        parsed.warnings.append(f"{skipped} entries skipped: not an object, no valid task id, or extra fields that cannot be stored")
    if duplicates:
        parsed.warnings.append(f"{duplicates} duplicate task ids; the last entry of each was kept")
    return parsed
