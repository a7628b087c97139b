"""Release, submit, approve, reject and set checker: changes of a claimed task, with their permission rules.

- release  running  -> notget: the task's user, a manager who shares a group
  with that user, or an admin. The task loses its user, checker and group.
- submit   running  -> checking: the task's user only. A task submitted
  without a checker waits for a manager or an admin to set one.
- approve  checking -> finish: the task's checker, or an admin.
- reject   checking -> running: the task's checker, or an admin, with a reason.
- set checker (status unchanged, `running` or `checking`): a manager for a
  task of their groups, or an admin. The checker needs the checker role and
  is never the task's user.

Each change is a version-checked write. When another writer (a poll, another
user) got there first, the task is reloaded and the permission and status
checks run again, so a change that makes the action invalid raises
InvalidStateChange or PermissionDenied instead of being overwritten.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog

from taskdash.accounts.roles import Role, has_role
from taskdash.errors import (
    CheckerIsEditor,
    InvalidRequest,
    InvalidStateChange,
    PermissionDenied,
    StoreWriteFailed,
    TaskNotFound,
    UserNotFound,
)
from taskdash.store.protocol import Repository
from taskdash.store.records import HistoryEntry, TaskRecord, User
from taskdash.tasks.listing import is_visible, visibility_for
from taskdash.tasks.status import CHECKING, RUNNING, TRANSITIONS, Action, next_status

log = structlog.get_logger("taskdash.tasks")

MAX_REASON_LENGTH = 500
MAX_WRITE_ATTEMPTS = 5

PermissionCheck = Callable[[TaskRecord], Awaitable[None]]
FieldChange = Callable[[TaskRecord], None]
TargetStatus = Callable[[TaskRecord], str]

CHECKER_STATUSES = frozenset({RUNNING, CHECKING})


def check_reason(reason: str) -> str:
    """Return `reason` without surrounding spaces; raise InvalidRequest if it is empty or too long."""
    reason = reason.strip()
    if not reason:
        raise InvalidRequest("field 'reason' is missing: a rejection needs a reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidRequest(f"field 'reason' is longer than {MAX_REASON_LENGTH} characters")
    return reason


async def release(store: Repository, actor: User, task_id: str) -> TaskRecord:
    """Return the running task `task_id` to the unclaimed pool."""

    async def check(task: TaskRecord) -> None:
        if (task.user and task.user == actor.username) or has_role(actor, Role.ADMIN):
            return
        if has_role(actor, Role.MANAGER) and task.user:
            owner = await store.get_user(task.user)
            if owner is not None and set(owner.groups) & set(actor.groups):
                return
        raise PermissionDenied(
            f"user {actor.username!r} may not release task {task.task_id!r}: only its user {task.user!r}, "
            "a manager sharing a group with that user, or an admin may release it"
        )

    def clear_owner(task: TaskRecord) -> None:
        task.user = task.checker = task.group_id = ""
        task.claimed_at = None

    return await _change_status(store, actor, task_id, Action.RELEASE, check, clear_owner, "released")


async def submit(store: Repository, actor: User, task_id: str) -> TaskRecord:
    """Hand the running task `task_id` to its checker for review."""

    async def check(task: TaskRecord) -> None:
        if not task.user or task.user != actor.username:
            raise PermissionDenied(
                f"user {actor.username!r} may not submit task {task.task_id!r}: only its user {task.user!r} may"
            )

    return await _change_status(store, actor, task_id, Action.SUBMIT, check, _no_change, "submitted")


async def approve(store: Repository, actor: User, task_id: str) -> TaskRecord:
    """Finish the task `task_id` that is waiting for its checker."""
    check = _checker_or_admin(actor, "approve")
    return await _change_status(store, actor, task_id, Action.APPROVE, check, _no_change, "approved")


async def reject(store: Repository, actor: User, task_id: str, reason: str) -> TaskRecord:
    """Send the task `task_id` back to its user; `reason` (1 to 500 characters) goes into the history."""
    reason = check_reason(reason)
    check = _checker_or_admin(actor, "reject")
    return await _change_status(store, actor, task_id, Action.REJECT, check, _no_change, reason)


async def set_checker(store: Repository, actor: User, task_id: str, checker: str) -> TaskRecord:
    """Make `checker` the checker of the task `task_id` in `running` or `checking`, keeping its status."""
    # Checked before any lookup, so users who may not set checkers cannot probe which usernames exist.
    if not has_role(actor, Role.MANAGER, Role.ADMIN):
        raise PermissionDenied(f"user {actor.username!r} is not a manager and cannot set checkers")
    checker_user = await store.get_user(checker)
    if checker_user is None or checker_user.disabled:
        raise UserNotFound(f"checker {checker!r} not found or disabled")
    if not has_role(checker_user, Role.CHECKER):
        raise PermissionDenied(f"user {checker!r} is not a checker: give them the checker role first")
    if not has_role(actor, Role.ADMIN) and not set(actor.groups) & set(checker_user.groups):
        raise PermissionDenied(f"manager {actor.username!r} shares no group with checker {checker!r}")

    async def check(task: TaskRecord) -> None:
        if task.user == checker:
            raise CheckerIsEditor(f"user {checker!r} works on task {task.task_id!r} and cannot check it")
        if has_role(actor, Role.ADMIN) or task.group_id in actor.groups:
            return
        if task.user:
            owner = await store.get_user(task.user)
            if owner is not None and set(owner.groups) & set(actor.groups):
                return
        raise PermissionDenied(
            f"manager {actor.username!r} may not set the checker of task {task.task_id!r}: "
            "it is neither in one of their groups nor worked on by a member of one"
        )

    def keep_status(task: TaskRecord) -> str:
        if task.status not in CHECKER_STATUSES:
            raise InvalidStateChange(
                f"cannot set the checker of task {task.task_id!r} in status {task.status!r}: "
                f"allowed in {sorted(CHECKER_STATUSES)}"
            )
        return task.status

    def change(task: TaskRecord) -> None:
        task.checker = checker

    return await _write_task(
        store, actor, task_id, "set_checker", check, keep_status, change, f"checker set to {checker}"
    )


def _checker_or_admin(actor: User, verb: str) -> PermissionCheck:
    async def check(task: TaskRecord) -> None:
        if has_role(actor, Role.ADMIN) or (task.checker and task.checker == actor.username):
            return
        raise PermissionDenied(
            f"user {actor.username!r} may not {verb} task {task.task_id!r}: only its checker "
            f"{task.checker!r} or an admin may"
        )

    return check


def _no_change(task: TaskRecord) -> None:
    return None


async def _change_status(
    store: Repository, actor: User, task_id: str, action: Action, check: PermissionCheck, change: FieldChange,
    reason: str,
) -> TaskRecord:
    """Apply `action` to the stored task with a version-checked write, reloading after a lost race."""

    def target_status(task: TaskRecord) -> str:
        try:
            return next_status(action, task.status)
        except InvalidStateChange:
            allowed = sorted(TRANSITIONS[action][0])
            raise InvalidStateChange(
                f"cannot {action} task {task_id!r} in status {task.status!r}: allowed from {allowed}"
            ) from None

    return await _write_task(store, actor, task_id, str(action), check, target_status, change, reason)


async def _write_task(
    store: Repository, actor: User, task_id: str, action: str, check: PermissionCheck, target_status: TargetStatus,
    change: FieldChange, reason: str,
) -> TaskRecord:
    """Change the stored task with a version-checked write, reloading and checking again after a lost race."""
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        task = await store.get_task(task_id)
        if task is None or task.missing:
            raise TaskNotFound(f"task {task_id!r} not found")
        # A task the actor may not see is reported as not found, so no action reveals who works on it.
        if not is_visible(await visibility_for(store, actor), task):
            raise TaskNotFound(f"task {task_id!r} not found")
        await check(task)
        from_status = task.status
        target = target_status(task)

        version = task.version
        now = time.time()
        change(task)
        task.status = target
        task.updated_at = now
        entry = HistoryEntry(task_id, now, actor.username, "user", from_status, target, reason)
        if not await store.update_tasks([(task, version)], [entry]):
            task.version = version + 1
            log.info("task_status_changed", task_id=task_id, action=action, user=actor.username,
                     from_status=from_status, to_status=target)
            return task
        log.info("task_write_conflict", task_id=task_id, action=action, attempt=attempt)

    raise StoreWriteFailed(
        f"task {task_id!r} changed concurrently {MAX_WRITE_ATTEMPTS} times while trying to {action} it; try again"
    )
