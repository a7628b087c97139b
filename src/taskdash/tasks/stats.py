"""Task statistics: counts by status, per user, per group and per service, and tasks finished per day.

Statistics cover only the tasks a user is responsible for: admins see every
task, managers the tasks of their groups and of the members of their groups,
checkers also the tasks they check, and everyone their own tasks. Unlike in
task lists, the pool of unclaimed tasks counts only for admins. Tasks that
their service no longer lists are left out.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from taskdash.store.protocol import Repository
from taskdash.store.records import TaskQuery, User
from taskdash.tasks.listing import visibility_for

FINISHED_DAYS = 30

StatusCounts = dict[str, int]


@dataclass(slots=True)
class TaskStats:
    """Task counts. `by_user`, `by_group` and `by_service` map each name to its counts by status."""

    by_status: StatusCounts
    by_user: dict[str, StatusCounts]
    by_group: dict[str, StatusCounts]
    by_service: dict[str, StatusCounts]
    finished_per_day: list[tuple[str, int]]


async def task_stats(store: Repository, actor: User, now: float) -> TaskStats:
    """Return the statistics of the tasks `actor` is responsible for, as of Unix time `now` in seconds.

    `finished_per_day` has one (YYYY-MM-DD, count) entry for each of the last
    FINISHED_DAYS UTC dates, oldest first and today last, zero where no task finished.
    """
    visible = await visibility_for(store, actor)
    query = TaskQuery(visible=None if visible is None else replace(visible, unclaimed=False))
    today = datetime.fromtimestamp(now, UTC).date()
    days = [today - timedelta(days=back) for back in range(FINISHED_DAYS - 1, -1, -1)]
    since = datetime(days[0].year, days[0].month, days[0].day, tzinfo=UTC).timestamp()

    by_status, by_user, by_group, by_service, finished = await asyncio.gather(
        store.count_tasks_by(query, ("status",)),
        store.count_tasks_by(query, ("user", "status")),
        store.count_tasks_by(query, ("group_id", "status")),
        store.count_tasks_by(query, ("service_url", "status")),
        store.finished_per_day(query, since),
    )
    finished_by_day = dict(finished)
    return TaskStats(
        by_status={status: count for status, count in by_status},
        by_user=_nest(by_user),
        by_group=_nest(by_group),
        by_service=_nest(by_service),
        finished_per_day=[(day.isoformat(), finished_by_day.get(day.isoformat(), 0)) for day in days],
    )


def _nest(rows: list[tuple]) -> dict[str, StatusCounts]:
    """Return name -> status -> count from (name, status, count) rows, leaving out the empty name."""
    nested: dict[str, StatusCounts] = defaultdict(dict)
    for name, status, count in rows:
        if name:
            nested[name][status] = count
    return dict(nested)
