"""CSV encoding of task lists for spreadsheet programs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime

from taskdash.store.records import TaskRecord

# Excel detects UTF-8 only from this byte order mark; without it, Chinese text opens garbled.
UTF8_BOM = "\ufeff"

COLUMNS = (
    "task_id", "service_url", "data_type", "status", "service_status", "user", "checker", "group_id",
    "description", "reserved", "created_at", "updated_at",
)

# A spreadsheet evaluates a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Return `value` with a leading single quote if a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def iso_utc(timestamp: float) -> str:
    """Return Unix time `timestamp` as ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def header() -> str:
    """Return the byte order mark and the header row."""
    return UTF8_BOM + rows([COLUMNS])


def task_rows(tasks: Iterable[TaskRecord]) -> str:
    """Return the CSV rows of `tasks`, in the order of COLUMNS."""
    return rows(
        (
            safe_cell(task.task_id), safe_cell(task.service_url), safe_cell(task.data_type),
            safe_cell(task.status), safe_cell(task.service_status), safe_cell(task.user),
            safe_cell(task.checker), safe_cell(task.group_id), safe_cell(task.description),
            safe_cell(task.reserved), iso_utc(task.created_at), iso_utc(task.updated_at),
        )
        for task in tasks
    )


def rows(values: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    # RFC 4180 line ends; the csv module quotes cells that contain commas, quotes or line breaks.
    csv.writer(buffer, lineterminator="\r\n").writerows(values)
    return buffer.getvalue()
