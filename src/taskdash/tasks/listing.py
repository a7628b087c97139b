"""Task lists and task detail, limited to the tasks each user may see.

Every user sees the unclaimed tasks (status `notget`) and the tasks they work
on. Checkers also see the tasks they check. Managers also see the tasks of
the members of their groups and the tasks assigned into their groups. Admins
see every task. A user with several roles gets the union of their rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from taskdash.accounts.roles import Role, has_role
from taskdash.errors import InvalidRequest, TaskNotFound
from taskdash.store.protocol import Repository
from taskdash.store.records import HistoryEntry, TaskQuery, TaskRecord, TaskSort, TaskVisibility, User
from taskdash.store.task_json import TaskJsonPage
from taskdash.tasks.status import NOTGET

MAX_PAGE_SIZE = 500
EXTRA_EXPORT_PAGES = 10


async def visibility_for(store: Repository, actor: User) -> TaskVisibility | None:
    """Return the tasks `actor` may see, or None when `actor` may see every task."""
    if has_role(actor, Role.ADMIN):
        return None
    users = {actor.username}
    checkers: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    if has_role(actor, Role.CHECKER):
        checkers = (actor.username,)
    if has_role(actor, Role.MANAGER) and actor.groups:
        # NOTE: this reads every account; a store query by group is needed once accounts number in the thousands.
        groups = set(actor.groups)
        users.update(user.username for user in await store.list_users() if groups & set(user.groups))
        group_ids = tuple(sorted(groups))
    return TaskVisibility(unclaimed=True, users=tuple(sorted(users)), checkers=checkers, group_ids=group_ids)


def is_visible(visible: TaskVisibility | None, task: TaskRecord) -> bool:
    """Return whether `task` matches `visible`, with the same rules as the store's list filter."""
    return owner_visible(visible, task.status, task.user, task.checker, task.group_id)


def owner_visible(visible: TaskVisibility | None, status: str, user: str, checker: str, group_id: str) -> bool:
    """Return whether a task with this status and these owners matches `visible`."""
    if visible is None:
        return True
    return (
        (visible.unclaimed and status == NOTGET)
        or user in visible.users
        or checker in visible.checkers
        or group_id in visible.group_ids
    )


async def list_tasks(
    store: Repository, actor: User, query: TaskQuery, sort: TaskSort, limit: int, cursor: str | None = None
) -> TaskJsonPage:
    """Return one page of the tasks that match `query` and that `actor` may see, as JSON objects."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"invalid limit {limit}: use 1 to {MAX_PAGE_SIZE}")
    visible_query = await restrict_to_visible(store, actor, query)
    return await store.task_json_page(visible_query, sort, limit, cursor)


async def task_pages(
    store: Repository, actor: User, query: TaskQuery, sort: TaskSort, page_size: int = MAX_PAGE_SIZE
) -> AsyncIterator[list[TaskRecord]]:
    """Yield every task that matches `query` and that `actor` may see, in pages of up to `page_size`.

    The pages follow the keyset cursor, so only one page is in memory at a
    time, and they have the completeness guarantees of `taskdash.store.paging`.
    At most EXTRA_EXPORT_PAGES pages more than the matching tasks filled at
    the start are read, so tasks added meanwhile cannot keep the loop going.
    """
    visible_query = await restrict_to_visible(store, actor, query)
    total = await store.count_tasks(visible_query)
    cursor: str | None = None
    for _ in range(total // page_size + 1 + EXTRA_EXPORT_PAGES):
        tasks, cursor = await store.find_tasks(visible_query, sort, page_size, cursor)
        if tasks:
            yield tasks
        if cursor is None:
            return


async def restrict_to_visible(store: Repository, actor: User, query: TaskQuery) -> TaskQuery:
    """Return `query` limited to the tasks `actor` may see, after checking its text filter."""
    check_text_filter(query)
    return replace(query, visible=await visibility_for(store, actor))


def check_text_filter(query: TaskQuery) -> None:
    """Raise InvalidRequest for a text filter that the store cannot match literally."""
    # SQLite's LIKE stops reading a pattern at a NUL, which would match far more than asked for.
    if "\x00" in query.text:
        raise InvalidRequest("invalid text filter: it contains a NUL character")


async def task_detail(store: Repository, actor: User, task_id: str) -> tuple[TaskRecord, list[HistoryEntry]]:
    """Return the task `task_id` and its history, oldest entry first, if `actor` may see it."""
    task = await store.get_task(task_id)
    if task is None:
        raise TaskNotFound(f"task {task_id!r} not found")
    if not is_visible(await visibility_for(store, actor), task):
        # Reported as not found, so that the response does not confirm that the task exists.
        raise TaskNotFound(f"task {task_id!r} not found")
    return task, await store.task_history(task_id)
