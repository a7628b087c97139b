"""Bulk assignment: a selection or a filtered list of tasks, to one user or spread over a group's editors.

The plan is computed first and is the same for a dry run and for the real
run. Spreading over a group is a balanced round-robin: each task goes to
the group's editor with the fewest tasks in work at that point of the plan,
ties broken by username, and never to the task's checker. So splitting a
plan into chunks by assignee and sending each chunk with `user` set gives
the assignments that the preview showed. Each task succeeds or fails on its
own, and a failure names its cause.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from taskdash.accounts.roles import Role, has_role
from taskdash.errors import (
    InvalidRequest,
    InvalidStateChange,
    PermissionDenied,
    TaskDashError,
    TaskLimitReached,
    TaskNotFound,
)
from taskdash.store.protocol import Repository
from taskdash.store.records import TaskQuery, TaskRecord, TaskSort, User
from taskdash.tasks import listing
from taskdash.tasks.status import NOTGET, RUNNING

log = structlog.get_logger("taskdash.tasks")

MAX_BULK_TASKS = 1000
ASSIGNABLE_STATUSES = frozenset({NOTGET, RUNNING})


@dataclass(frozen=True, slots=True)
class BulkTarget:
    """The assignees of a bulk request: `user`, or the editors of `round_robin_group`. Exactly one of the two is set."""

    user: str = ""
    round_robin_group: str = ""
    checker: str = ""
    group: str = ""

    @property
    def task_group(self) -> str:
        """Return the group written on each task: `group`, else the round-robin group."""
        return self.group or self.round_robin_group


@dataclass(slots=True)
class BulkItem:
    task_id: str
    user: str = ""
    error: TaskDashError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class BulkPlan:
    """The assignments of a bulk request; `total_matching` counts the tasks of a filter, past the limit too."""

    items: list[BulkItem]
    total_matching: int
    per_user: Counter[str] = field(default_factory=Counter)


async def select_tasks(
    store: Repository, actor: User, task_ids: Sequence[str] | None, query: TaskQuery | None, limit: int
) -> tuple[list[BulkItem], list[TaskRecord], int]:
    """Return the items rejected at selection, the assignable tasks, and the number of tasks that matched."""
    if (task_ids is None) == (query is None):
        raise InvalidRequest("give either task_ids or filter, not both and not neither")
    if not 1 <= limit <= MAX_BULK_TASKS:
        raise InvalidRequest(f"invalid limit {limit}: use 1 to {MAX_BULK_TASKS}")

    if query is not None:
        visible_query = await listing.restrict_to_visible(store, actor, query)
        found, _cursor = await store.find_tasks(visible_query, TaskSort(), limit)
        refused = [_status_error(task) for task in found if task.status not in ASSIGNABLE_STATUSES]
        tasks = [task for task in found if task.status in ASSIGNABLE_STATUSES]
        return refused, tasks, await store.count_tasks(visible_query)

    unique = list(dict.fromkeys(task_ids or ()))
    if len(unique) > MAX_BULK_TASKS:
        raise InvalidRequest(f"too many task ids ({len(unique)}): send at most {MAX_BULK_TASKS} per request")
    visible = await listing.visibility_for(store, actor)
    found_by_id = {task.task_id: task for task in await store.get_tasks(unique)}
    refused, tasks = [], []
    for task_id in unique:
        task = found_by_id.get(task_id)
        if task is None or task.missing or not listing.is_visible(visible, task):
            refused.append(BulkItem(task_id, error=TaskNotFound(f"task {task_id!r} not found")))
        elif task.status not in ASSIGNABLE_STATUSES:
            refused.append(_status_error(task))
        else:
            tasks.append(task)
    return refused, tasks, len(unique)


def _status_error(task: TaskRecord) -> BulkItem:
    return BulkItem(task.task_id, error=InvalidStateChange(
        f"cannot assign task {task.task_id!r} in status {task.status!r}: allowed from {sorted(ASSIGNABLE_STATUSES)}"
    ))


async def group_editors(store: Repository, actor: User, group: str, checker: str) -> list[str]:
    """Return the enabled editors of `group` other than `checker`, sorted. A manager must belong to `group`."""
    if not has_role(actor, Role.ADMIN) and group not in actor.groups:
        raise PermissionDenied(f"manager {actor.username!r} is not a member of group {group!r}")
    editors = sorted(
        user.username for user in await store.list_users()
        if group in user.groups and not user.disabled and has_role(user, Role.EDITOR) and user.username != checker
    )
    if not editors:
        raise InvalidRequest(
            f"group {group!r} has no enabled editor to assign to (the checker {checker!r} is left out): "
            "add editors to the group or choose one user"
        )
    return editors


async def plan_assignments(
    store: Repository, tasks: Sequence[TaskRecord], editors: Sequence[str], max_in_work: int
) -> list[BulkItem]:
    """Give each task to the editor with the fewest tasks in work so far, ties by username."""
    load = {editor: await store.count_tasks(TaskQuery(status=RUNNING, user=editor)) for editor in editors}
    items = []
    for task in tasks:
        open_editors = [editor for editor in editors if not max_in_work or load[editor] < max_in_work]
        if task.user in editors and task.status == RUNNING:
            # Reassigning a task to its own user changes nothing, so it stays where it is.
            items.append(BulkItem(task.task_id, task.user))
            continue
        if not open_editors:
            items.append(BulkItem(task.task_id, error=TaskLimitReached(
                f"every candidate already has {max_in_work} tasks in work; task {task.task_id!r} was not planned"
            )))
            continue
        chosen = min(open_editors, key=lambda editor: (load[editor], editor))
        load[chosen] += 1
        items.append(BulkItem(task.task_id, chosen))
    return items


def summarize(items: list[BulkItem], total_matching: int) -> BulkPlan:
    plan = BulkPlan(items, total_matching)
    plan.per_user.update(item.user for item in items if item.ok)
    return plan


def log_result(actor: User, target: BulkTarget, plan: BulkPlan, dry_run: bool) -> None:
    failed = sum(1 for item in plan.items if not item.ok)
    log.info(
        "bulk_assign_planned" if dry_run else "bulk_assign_done", actor=actor.username, user=target.user or None,
        round_robin_group=target.round_robin_group or None, tasks=len(plan.items), failed=failed,
        per_user=dict(plan.per_user),
    )
