"""REST route for task statistics."""

from __future__ import annotations

import time

from fastapi import APIRouter
from pydantic import BaseModel, Field

from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.tasks.stats import FINISHED_DAYS

router = APIRouter(prefix="/api/v1", tags=["stats"])


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
