"""Claims, assignments and task lists, with their permission rules.

Permissions are checked here, in the domain, so every adapter (legacy
endpoint, REST API, CLI) enforces the same rules:

- editors claim free tasks and see their own tasks;
- managers assign tasks to members of their groups and see those members' tasks;
- admins do everything.

Release, submit, approve, reject and set checker live in `taskdash.tasks.actions`. The
visibility rules of task lists live in `taskdash.tasks.listing`. Adapters
call all of them through `Workflow`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import structlog

from taskdash.accounts.roles import Role
from taskdash.events.bus import TASK, EventBus
from taskdash.errors import (
    AlreadyClaimed,
    CheckerIsEditor,
    InvalidRequest,
    InvalidStateChange,
    PermissionDenied,
    TaskDashError,
    TaskLimitReached,
    TaskNotFound,
    UserNotFound,
)
from taskdash.store.protocol import ClaimOutcome, Repository
from taskdash.store.records import ClaimRequest, HistoryEntry, TaskQuery, TaskRecord, TaskSort, User
from taskdash.store.task_json import TaskJsonPage
from taskdash.tasks import actions, bulk, listing, stats
from taskdash.tasks.status import CHECKING, NOTGET, RUNNING

log = structlog.get_logger("taskdash.tasks")

# Claim next tries up to CLAIM_NEXT_ROUNDS x CLAIM_NEXT_CANDIDATES tasks before it reports a lost race.
CLAIM_NEXT_CANDIDATES = 20
CLAIM_NEXT_ROUNDS = 5


def _has(user: User, *roles: Role) -> bool:
    return any(role.value in user.roles for role in roles)


def _raise_for(outcome: str, task_id: str, user: str, limit: int) -> None:
    if outcome == ClaimOutcome.NOT_FOUND:
        raise TaskNotFound(f"task {task_id!r} not found")
    if outcome == ClaimOutcome.ALREADY_CLAIMED:
        raise AlreadyClaimed(f"task {task_id!r} is already claimed")
    if outcome == ClaimOutcome.LIMIT_REACHED:
        raise TaskLimitReached(f"user {user!r} already has {limit} tasks in work")
    if outcome == ClaimOutcome.INVALID_STATUS:
        raise InvalidStateChange(f"task {task_id!r} is not in status notget")


@dataclass(frozen=True, slots=True)
class Owners:
    """The owner fields of a task, for change events."""

    user: str = ""
    checker: str = ""
    group_id: str = ""


# A claimed task was unclaimed before, without owners.
UNCLAIMED = Owners()


class Workflow:
    """The workflow operations; each successful change is published to `events` when it is given."""

    def __init__(self, store: Repository, max_tasks_in_work: int = 0, events: EventBus | None = None) -> None:
        self._store = store
        self._max_in_work = max_tasks_in_work
        self._events = events

    async def claim(self, actor: User, task_id: str) -> TaskRecord:
        """Give the free task `task_id` to `actor` and return it; of concurrent claims exactly one succeeds."""
        if not _has(actor, Role.EDITOR, Role.ADMIN):
            raise PermissionDenied(f"user {actor.username!r} is not an editor and cannot claim tasks")
        request = ClaimRequest(
            task_id=task_id, user=actor.username, actor=actor.username, at=time.time(),
            max_in_work=self._max_in_work, reason="claimed",
        )
        outcome, task = await self._store.change_owner(request)
        _raise_for(outcome, task_id, actor.username, self._max_in_work)
        log.info("task_claimed", task_id=task_id, user=actor.username)
        assert task is not None
        self._publish(task, "claim", actor, NOTGET, UNCLAIMED)
        return task

    async def assign(
        self, actor: User, task_id: str, username: str, checker: str = "", group: str = ""
    ) -> TaskRecord:
        """Assign `task_id` to `username`, optionally with a checker and a group, and return the task.

        Managers may assign only to members of their own groups, and only
        within a group they belong to; admins may assign anywhere.
        """
        await self._check_assignment(actor, username, checker, group)
        before = await self._store.get_task(task_id)
        # A task the actor may not see is reported as not found, so that no manager moves, or learns about,
        # the tasks of other groups. The event below also needs the previous owners.
        if before is None or not listing.is_visible(await listing.visibility_for(self._store, actor), before):
            raise TaskNotFound(f"task {task_id!r} not found")

        request = ClaimRequest(
            task_id=task_id, user=username, actor=actor.username, at=time.time(), checker=checker,
            group_id=group, max_in_work=self._max_in_work, allow_reassign=True,
            reason=f"assigned by {actor.username}",
        )
        outcome, task = await self._store.change_owner(request)
        _raise_for(outcome, task_id, username, self._max_in_work)
        log.info("task_assigned", task_id=task_id, user=username, checker=checker, group=group, actor=actor.username)
        assert task is not None
        self._publish(task, "assign", actor, before.status, before)
        return task

    async def claim_next(
        self, actor: User, data_type: str = "", service_url: str = "", live_service_urls: Sequence[str] | None = None,
        text: str = "",
    ) -> TaskRecord:
        """Claim the oldest unclaimed task that matches the filter, and return it.

        Only tasks of `live_service_urls` are offered when it is given. A claim
        lost to a concurrent one moves on to the next candidate, for at most
        CLAIM_NEXT_ROUNDS queries of CLAIM_NEXT_CANDIDATES candidates each.
        """
        if not _has(actor, Role.EDITOR, Role.ADMIN):
            raise PermissionDenied(f"user {actor.username!r} is not an editor and cannot claim tasks")
        service_urls = None if live_service_urls is None else tuple(live_service_urls)
        if service_url:
            service_urls = (service_url,) if service_urls is None or service_url in service_urls else ()
        # Every user may see unclaimed tasks, so the query needs no visibility filter.
        query = TaskQuery(status=NOTGET, data_type=data_type, service_urls=service_urls, text=text)
        listing.check_text_filter(query)

        lost = 0
        for _ in range(CLAIM_NEXT_ROUNDS):
            candidates, _cursor = await self._store.find_tasks(query, TaskSort(), CLAIM_NEXT_CANDIDATES)
            if not candidates:
                raise TaskNotFound(
                    f"no unclaimed task of a live service matches data_type={data_type!r}, "
                    f"service_url={service_url!r}, text={text!r}"
                )
            for candidate in candidates:
                request = ClaimRequest(
                    task_id=candidate.task_id, user=actor.username, actor=actor.username, at=time.time(),
                    max_in_work=self._max_in_work, reason="claimed as next task",
                )
                outcome, task = await self._store.change_owner(request)
                if outcome == ClaimOutcome.DONE and task is not None:
                    log.info("task_claimed", task_id=task.task_id, user=actor.username, next_task=True, lost=lost)
                    self._publish(task, "claim", actor, NOTGET, UNCLAIMED)
                    return task
                if outcome == ClaimOutcome.LIMIT_REACHED:
                    _raise_for(outcome, candidate.task_id, actor.username, self._max_in_work)
                lost += 1
        raise AlreadyClaimed(f"other users claimed each of the {lost} matching tasks tried first; try again")

    async def release(self, actor: User, task_id: str) -> TaskRecord:
        # Read for the change event only: release clears the owners that the event reports as previous.
        before = await self._store.get_task(task_id) if self._events else None
        task = await actions.release(self._store, actor, task_id)
        self._publish(task, "release", actor, RUNNING, before)
        return task

    async def submit(self, actor: User, task_id: str) -> TaskRecord:
        task = await actions.submit(self._store, actor, task_id)
        self._publish(task, "submit", actor, RUNNING)
        return task

    async def approve(self, actor: User, task_id: str) -> TaskRecord:
        task = await actions.approve(self._store, actor, task_id)
        self._publish(task, "approve", actor, CHECKING)
        return task

    async def reject(self, actor: User, task_id: str, reason: str) -> TaskRecord:
        task = await actions.reject(self._store, actor, task_id, reason)
        self._publish(task, "reject", actor, CHECKING)
        return task

    async def set_checker(self, actor: User, task_id: str, checker: str) -> TaskRecord:
        before = await self._store.get_task(task_id) if self._events else None
        task = await actions.set_checker(self._store, actor, task_id, checker)
        self._publish(task, "set_checker", actor, task.status, before)
        return task

    def _publish(
        self, task: TaskRecord, action: str, actor: User, previous_status: str,
        before: TaskRecord | Owners | None = None,
    ) -> None:
        """Publish the change of `task`; `before` gives its previous owners when the action changed them."""
        if self._events is None:
            return
        previous: TaskRecord | Owners = before or task
        self._events.publish(TASK, {
            "task_id": task.task_id, "service_url": task.service_url, "status": task.status, "user": task.user,
            "checker": task.checker, "group_id": task.group_id, "version": task.version, "action": action,
            "actor": actor.username, "at": task.updated_at, "previous_status": previous_status,
            "previous_user": previous.user, "previous_checker": previous.checker,
            "previous_group_id": previous.group_id,
        })

    async def list_tasks(
        self, actor: User, query: TaskQuery, sort: TaskSort, limit: int, cursor: str | None = None
    ) -> TaskJsonPage:
        return await listing.list_tasks(self._store, actor, query, sort, limit, cursor)

    def task_pages(self, actor: User, query: TaskQuery, sort: TaskSort) -> AsyncIterator[list[TaskRecord]]:
        return listing.task_pages(self._store, actor, query, sort)

    async def task_stats(self, actor: User, now: float) -> stats.TaskStats:
        return await stats.task_stats(self._store, actor, now)

    async def data_types(self, actor: User) -> list[tuple[str, int]]:
        """Return (data type, number of tasks) for the tasks `actor` may see, ordered by data type."""
        query = await listing.restrict_to_visible(self._store, actor, TaskQuery())
        return [(data_type, count) for data_type, count in await self._store.count_tasks_by(query, ["data_type"])]

    async def task_detail(self, actor: User, task_id: str) -> tuple[TaskRecord, list[HistoryEntry]]:
        return await listing.task_detail(self._store, actor, task_id)

    async def _check_assignment(self, actor: User, username: str, checker: str, group: str) -> None:
        """Raise unless `actor` may assign tasks to `username`, with `checker` and `group`."""
        # Checked before any lookup, so users who may not assign cannot probe which usernames exist.
        if not _has(actor, Role.MANAGER, Role.ADMIN):
            raise PermissionDenied(f"user {actor.username!r} is not a manager and cannot assign tasks")
        assignee = await self._store.get_user(username)
        if assignee is None or assignee.disabled:
            raise UserNotFound(f"user {username!r} not found or disabled")
        if not _has(assignee, Role.EDITOR, Role.ADMIN):
            raise PermissionDenied(f"user {username!r} is not an editor: give them the editor role first")
        if checker:
            checker_user = await self._store.get_user(checker)
            if checker_user is None or checker_user.disabled:
                raise UserNotFound(f"checker {checker!r} not found or disabled")
            if checker == username:
                raise CheckerIsEditor(f"user {username!r} cannot check their own task")
            if not _has(checker_user, Role.CHECKER, Role.ADMIN):
                raise PermissionDenied(f"user {checker!r} is not a checker: give them the checker role first")
        self._check_may_assign(actor, assignee, group)

    async def bulk_assign(
        self, actor: User, target: bulk.BulkTarget, task_ids: Sequence[str] | None = None,
        query: TaskQuery | None = None, limit: int = bulk.MAX_BULK_TASKS, dry_run: bool = False,
    ) -> bulk.BulkPlan:
        """Assign a selection (`task_ids`) or the oldest `limit` tasks of `query`, or only plan it when `dry_run`.

        Errors of the request as a whole (no permission, unknown user,
        invalid target) raise. Errors of single tasks are reported on their
        items, and the other tasks are still assigned.
        """
        if bool(target.user) == bool(target.round_robin_group):
            raise InvalidRequest("give either user or round_robin_group, not both and not neither")
        if not _has(actor, Role.MANAGER, Role.ADMIN):
            raise PermissionDenied(f"user {actor.username!r} is not a manager and cannot assign tasks")
        if target.user:
            editors = [target.user]
        else:
            editors = await bulk.group_editors(self._store, actor, target.round_robin_group, target.checker)
        for editor in editors:
            await self._check_assignment(actor, editor, target.checker, target.task_group)

        refused, tasks, total = await bulk.select_tasks(self._store, actor, task_ids, query, limit)
        planned = await bulk.plan_assignments(self._store, tasks, editors, self._max_in_work)
        plan = bulk.summarize(refused + planned, total)
        if not dry_run:
            for item in plan.items:
                if item.ok:
                    await self._assign_item(actor, item, target)
            plan = bulk.summarize(plan.items, total)
        bulk.log_result(actor, target, plan, dry_run)
        return plan

    async def _assign_item(self, actor: User, item: bulk.BulkItem, target: bulk.BulkTarget) -> None:
        try:
            await self.assign(actor, item.task_id, item.user, checker=target.checker, group=target.task_group)
        except TaskDashError as error:
            item.error = error

    def _check_may_assign(self, actor: User, assignee: User, group: str) -> None:
        if _has(actor, Role.ADMIN):
            return
        if group and group not in actor.groups:
            raise PermissionDenied(f"manager {actor.username!r} is not a member of group {group!r}")
        shared = set(actor.groups) & set(assignee.groups)
        if group:
            shared &= {group}
        if not shared:
            raise PermissionDenied(
                f"manager {actor.username!r} shares no group with {assignee.username!r}"
            )

    async def visible_users(self, actor: User, username: str) -> bool:
        """Return whether `actor` may list the tasks of `username`."""
        if username == actor.username or _has(actor, Role.ADMIN):
            return True
        if not _has(actor, Role.MANAGER):
            return False
        owner = await self._store.get_user(username)
        return owner is not None and bool(set(owner.groups) & set(actor.groups))

    async def user_task_rows(self, actor: User, username: str, columns: Sequence[str]) -> list[tuple]:
        """Return the task columns of the tasks `username` works on, if `actor` may see them."""
        if not await self.visible_users(actor, username):
            raise PermissionDenied(f"user {actor.username!r} may not list the tasks of {username!r}")
        return await self._store.task_columns(TaskQuery(user=username), columns)

    async def task_rows_by_status(self, status: str, service_urls: Sequence[str], columns: Sequence[str]) -> list[tuple]:
        """Return the task columns of tasks in `status` that belong to the given services."""
        return await self._store.task_columns(TaskQuery(status=status, service_urls=tuple(service_urls)), columns)
