"""The columns of the task export."""

from __future__ import annotations

from collections.abc import Iterable

from taskdash.api.csv_export import encoding
from taskdash.api.csv_export.encoding import iso_utc, safe_cell
from taskdash.store.records import TaskRecord

COLUMNS = (
    "task_id", "service_url", "data_type", "status", "service_status", "user", "checker", "group_id",
    "description", "reserved", "created_at", "updated_at",
)


def header() -> str:
    """Return the byte order mark and the header row of the task export."""
    return encoding.header_with_bom(COLUMNS)


def task_rows(tasks: Iterable[TaskRecord]) -> str:
    """Return the CSV rows of `tasks`, in the order of COLUMNS."""
    return encoding.rows(
        (
            safe_cell(task.task_id), safe_cell(task.service_url), safe_cell(task.data_type),
            safe_cell(task.status), safe_cell(task.service_status), safe_cell(task.user),
            safe_cell(task.checker), safe_cell(task.group_id), safe_cell(task.description),
            safe_cell(task.reserved), iso_utc(task.created_at), iso_utc(task.updated_at),
        )
        for task in tasks
    )
