"""REST routes for task statistics and their CSV export."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from taskdash.api import csv_export
from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.tasks.stats import FINISHED_DAYS, StatusCounts, TaskStats
from taskdash.tasks.status import CHECKING, FINISH, NOTGET, RUNNING

router = APIRouter(prefix="/api/v1", tags=["stats"])

# Status columns of the breakdown tables start with the workflow statuses, even at zero, in workflow order.
# Statuses that services report follow, sorted. The dashboard's overview orders its columns the same way.
WORKFLOW_STATUSES = (NOTGET, RUNNING, CHECKING, FINISH)


class DayCount(BaseModel):
    date: str = Field(description="UTC date, YYYY-MM-DD")
    count: int = Field(ge=0)


class StatsOut(BaseModel):
    by_status: dict[str, int] = Field(description="status -> number of tasks")
    by_user: dict[str, dict[str, int]] = Field(description="username -> status -> number of tasks; unclaimed tasks left out")
    by_group: dict[str, dict[str, int]] = Field(description="group -> status -> number of tasks; tasks without a group left out")
    by_service: dict[str, dict[str, int]] = Field(description="service URL -> status -> number of tasks")
    finished_per_day: list[DayCount] = Field(
        description=f"Tasks moved to finish on each of the last {FINISHED_DAYS} UTC days, oldest first, today last"
    )


class StatsTable(StrEnum):
    """One table of the statistics, as the CSV export writes it."""

    BY_STATUS = "by_status"
    BY_USER = "by_user"
    BY_GROUP = "by_group"
    BY_SERVICE = "by_service"
    FINISHED_PER_DAY = "finished_per_day"


STATS_TABLE_DESCRIPTION = f"""The columns depend on `table`:

- `by_status`: `status`, `count`, one row per status;
- `by_user`, `by_group`: `user` or `group`, one column per status, `total`;
- `by_service`: `service_url`, `service_name`, one column per status, `total`;
- `finished_per_day`: `date` (UTC, YYYY-MM-DD), `finished`, for each of the last {FINISHED_DAYS} days, oldest first.

The status columns, and the rows of `by_status`, are {", ".join(WORKFLOW_STATUSES)}, then every other status in
the statistics, sorted. Breakdown rows are ordered by `total`, largest first, then by name. Admins get every task,
managers the tasks of their groups, everyone else their own tasks, as in `GET /api/v1/stats`."""


def status_columns(stats: TaskStats) -> list[str]:
    found = set(stats.by_status)
    for breakdown in (stats.by_user, stats.by_group, stats.by_service):
        for counts in breakdown.values():
            found.update(counts)
    return [*WORKFLOW_STATUSES, *sorted(found.difference(WORKFLOW_STATUSES))]


def breakdown_rows(
    breakdown: dict[str, StatusCounts], statuses: list[str], labels: dict[str, str] | None = None
) -> list[list[str]]:
    """Return one row per name: the name, its label when `labels` is given, its count per status, and its total."""
    totals = {name: sum(counts.values()) for name, counts in breakdown.items()}
    rows = []
    for name in sorted(breakdown, key=lambda name: (-totals[name], name)):
        cells = [csv_export.safe_cell(name)]
        if labels is not None:
            cells.append(csv_export.safe_cell(labels.get(name, "")))
        cells.extend(str(breakdown[name].get(status, 0)) for status in statuses)
        cells.append(str(totals[name]))
        rows.append(cells)
    return rows


def stats_table(
    stats: TaskStats, table: StatsTable, service_names: dict[str, str]
) -> tuple[list[str], list[list[str]]]:
    """Return the header and the rows of one table of `stats`; `service_names` maps service URLs to names."""
    statuses = status_columns(stats)
    # Services report statuses of their own, so status names in the header are free text too.
    status_cells = [csv_export.safe_cell(status) for status in statuses]

    if table is StatsTable.BY_STATUS:
        counts = [str(stats.by_status.get(status, 0)) for status in statuses]
        return ["status", "count"], [list(pair) for pair in zip(status_cells, counts)]
    if table is StatsTable.BY_USER:
        return ["user", *status_cells, "total"], breakdown_rows(stats.by_user, statuses)
    if table is StatsTable.BY_GROUP:
        return ["group", *status_cells, "total"], breakdown_rows(stats.by_group, statuses)
    if table is StatsTable.BY_SERVICE:
        rows = breakdown_rows(stats.by_service, statuses, labels=service_names)
        return ["service_url", "service_name", *status_cells, "total"], rows
    return ["date", "finished"], [[day, str(count)] for day, count in stats.finished_per_day]


@router.get(
    "/stats",
    summary="Task counts by status, per user, per group and per service, and tasks finished per day",
    description="Admins get every task, managers the tasks of their groups, everyone else their own tasks.",
)
async def get_stats(runtime: RuntimeDep, actor: CurrentUser) -> StatsOut:
    stats = await runtime.workflow.task_stats(actor, time.time())
    return StatsOut(
        by_status=stats.by_status, by_user=stats.by_user, by_group=stats.by_group, by_service=stats.by_service,
        finished_per_day=[DayCount(date=day, count=count) for day, count in stats.finished_per_day],
    )


@router.get(
    "/stats/export.csv",
    summary="Export one table of the task statistics as CSV",
    description=STATS_TABLE_DESCRIPTION,
    response_class=StreamingResponse,
    responses=csv_export.CSV_RESPONSES,
)
async def export_stats(
    runtime: RuntimeDep,
    actor: CurrentUser,
    table: Annotated[StatsTable, Query(description="The table to export")],
) -> StreamingResponse:
    stats = await runtime.workflow.task_stats(actor, time.time())
    service_names: dict[str, str] = {}
    if table is StatsTable.BY_SERVICE:
        services = await runtime.store.list_services(include_archived=True)
        service_names = {service.url: service.name for service in services}

    columns, rows = stats_table(stats, table, service_names)
    filename = "tasks-" + table.value.replace("_", "-") + ".csv"
    return csv_export.csv_response(csv_export.table_chunks(columns, rows, lambda row: row), filename)
