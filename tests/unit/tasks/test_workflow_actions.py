"""Workflow actions, claim next, visibility and task lists against a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import orjson
import pytest

from taskdash.errors import (
    AlreadyClaimed,
    ErrId,
    InvalidRequest,
    InvalidStateChange,
    PermissionDenied,
    TaskDashError,
    TaskLimitReached,
    TaskNotFound,
)
from taskdash.store.records import HistoryEntry, TaskQuery, TaskRecord, TaskSort, TaskSortField, User
from taskdash.store.sqlite.repository import SQLiteRepository
from taskdash.store.task_json import TaskJsonPage
from taskdash.tasks.status import CHECKING, FINISH, NOTGET, RUNNING
from taskdash.tasks.workflow import Workflow

URL_A = "http://127.0.0.1:8001/rpost/a"
URL_B = "http://127.0.0.1:8002/rpost/b"
T0 = 1_700_000_000.0
STATUSES = (NOTGET, RUNNING, CHECKING, FINISH, "shutdown")

# username -> (roles, groups)
ACCOUNTS = {
    "alice": (("editor",), ("g1",)),
    "bob": (("editor",), ("g1",)),
    "carol": (("editor",), ("g2",)),
    "vera": (("checker",), ("g1",)),
    "otto": (("checker",), ("g1",)),
    "mia": (("manager",), ("g1",)),
    "max": (("manager",), ("g2",)),
    "root": (("admin",), ()),
}

Call = Callable[[Workflow, User, str], Awaitable[TaskRecord]]


def account(username: str) -> User:
    roles, groups = ACCOUNTS[username]
    return User(username=username, password_hash="unused", roles=roles, groups=groups, created_at=T0)


@pytest.fixture
async def workflow(store: SQLiteRepository) -> Workflow:
    for username in ACCOUNTS:
        await store.add_user(account(username))
    return Workflow(store)


def task(task_id: str, status: str = NOTGET, service_url: str = URL_A, created_at: float = T0, **fields: object) -> TaskRecord:
    return TaskRecord(
        task_id=task_id, service_url=service_url, status=status, created_at=created_at, updated_at=created_at,
        **fields,
    )


async def put(store: SQLiteRepository, *tasks: TaskRecord) -> None:
    assert await store.insert_tasks(list(tasks), []) == []


def worked_task(task_id: str, status: str) -> TaskRecord:
    """A task of alice in group g1, checked by vera."""
    return task(task_id, status, user="alice", checker="vera", group_id="g1", claimed_at=T0)


ACTIONS: dict[str, Call] = {
    "release": lambda wf, actor, task_id: wf.release(actor, task_id),
    "submit": lambda wf, actor, task_id: wf.submit(actor, task_id),
    "approve": lambda wf, actor, task_id: wf.approve(actor, task_id),
    "reject": lambda wf, actor, task_id: wf.reject(actor, task_id, "boxes are misaligned"),
    "claim": lambda wf, actor, task_id: wf.claim(actor, task_id),
    "assign": lambda wf, actor, task_id: wf.assign(actor, task_id, "alice"),
}

# action -> (status the action leaves from, status it reaches)
TRANSITION = {
    "release": (RUNNING, NOTGET),
    "submit": (RUNNING, CHECKING),
    "approve": (CHECKING, FINISH),
    "reject": (CHECKING, RUNNING),
}

# An actor permitted by the rules, so each transition test checks the status only.
PERMITTED_ACTOR = {"release": "root", "submit": "alice", "approve": "vera", "reject": "vera"}


# Transitions: every status for each action.


@pytest.mark.parametrize("action", list(TRANSITION))
@pytest.mark.parametrize("status", STATUSES)
async def test_action_transition(workflow: Workflow, store: SQLiteRepository, action: str, status: str) -> None:
    await put(store, worked_task("t1", status))
    allowed_from, target = TRANSITION[action]
    actor = account(PERMITTED_ACTOR[action])

    if status == allowed_from:
        result = await ACTIONS[action](workflow, actor, "t1")
        stored = await store.get_task("t1")
        assert result.status == target
        assert stored is not None
        assert stored.status == target
        assert stored.version == 2
        assert result.version == stored.version
        return

    with pytest.raises(InvalidStateChange) as raised:
        await ACTIONS[action](workflow, actor, "t1")
    assert raised.value.errid is ErrId.INVALID_STATE_CHANGE
    assert repr(status) in raised.value.detail
    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.status == status
    assert stored.version == 1
    assert await store.task_history("t1") == []


@pytest.mark.parametrize("action", list(TRANSITION))
async def test_action_unknown_task(workflow: Workflow, action: str) -> None:
    with pytest.raises(TaskNotFound):
        await ACTIONS[action](workflow, account("root"), "nope")


@pytest.mark.parametrize("action", list(TRANSITION))
async def test_action_missing_task(workflow: Workflow, store: SQLiteRepository, action: str) -> None:
    await put(store, worked_task("t1", TRANSITION[action][0]))
    await store.set_missing(URL_A, ["t1"], True, T0 + 1)

    with pytest.raises(TaskNotFound):
        await ACTIONS[action](workflow, account("root"), "t1")


async def test_release_clears_owner(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", RUNNING))

    await workflow.release(account("alice"), "t1")

    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.status == NOTGET
    assert stored.user == ""
    assert stored.checker == ""
    assert stored.group_id == ""
    assert stored.claimed_at is None


async def test_submit_without_checker_stays_checking(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, task("t1", RUNNING, user="alice"))

    await workflow.submit(account("alice"), "t1")

    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.status == CHECKING
    assert stored.checker == ""


async def test_reject_keeps_user_and_checker(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", CHECKING))

    await workflow.reject(account("vera"), "t1", "redo frame 3")

    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.status == RUNNING
    assert stored.user == "alice"
    assert stored.checker == "vera"


async def test_full_cycle_history(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, task("t1"))
    alice, vera = account("alice"), account("vera")

    await workflow.assign(account("mia"), "t1", "alice", checker="vera", group="g1")
    await workflow.submit(alice, "t1")
    await workflow.reject(vera, "t1", "  label the second car  ")
    await workflow.submit(alice, "t1")
    await workflow.approve(vera, "t1")

    history = await store.task_history("t1")
    steps = [(entry.actor, entry.actor_kind, entry.from_status, entry.to_status) for entry in history]
    assert steps == [
        ("mia", "user", NOTGET, RUNNING),
        ("alice", "user", RUNNING, CHECKING),
        ("vera", "user", CHECKING, RUNNING),
        ("alice", "user", RUNNING, CHECKING),
        ("vera", "user", CHECKING, FINISH),
    ]
    assert history[2].reason == "label the second car"
    assert [entry.at for entry in history] == sorted(entry.at for entry in history)


# Permissions: role x action.

ACTORS = ("alice", "bob", "vera", "otto", "mia", "max", "root")

# action -> actors allowed on a task of alice (group g1, checker vera) in the action's start status.
ALLOWED_ACTORS = {
    "release": {"alice", "mia", "root"},
    "submit": {"alice"},
    "approve": {"vera", "root"},
    "reject": {"vera", "root"},
    "claim": {"alice", "bob", "root"},
    "assign": {"mia", "root"},
}
START_TASK = {
    "release": worked_task("t1", RUNNING),
    "submit": worked_task("t1", RUNNING),
    "approve": worked_task("t1", CHECKING),
    "reject": worked_task("t1", CHECKING),
    "claim": task("t1"),
    "assign": task("t1"),
}
MATRIX = [(action, actor) for action in ALLOWED_ACTORS for actor in ACTORS]
# Actors who cannot see alice's worked task: for them it does not exist.
CANNOT_SEE_WORKED_TASK = {"bob", "otto", "max"}


@pytest.mark.parametrize(("action", "actor"), MATRIX, ids=[f"{action}-{actor}" for action, actor in MATRIX])
async def test_permission_matrix(workflow: Workflow, store: SQLiteRepository, action: str, actor: str) -> None:
    await put(store, START_TASK[action])

    if actor in ALLOWED_ACTORS[action]:
        await ACTIONS[action](workflow, account(actor), "t1")
        stored = await store.get_task("t1")
        assert stored is not None
        assert stored.version == 2
        return

    expected = TaskNotFound if START_TASK[action].user and actor in CANNOT_SEE_WORKED_TASK else PermissionDenied
    with pytest.raises(expected) as raised:
        await ACTIONS[action](workflow, account(actor), "t1")
    if expected is PermissionDenied:
        assert raised.value.errid is ErrId.PERMISSION_DENIED
        assert repr(actor) in raised.value.detail
    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.version == 1


@pytest.mark.parametrize("actor", ACTORS)
async def test_permission_claim_next(workflow: Workflow, store: SQLiteRepository, actor: str) -> None:
    await put(store, task("t1"))

    if actor in ALLOWED_ACTORS["claim"]:
        claimed = await workflow.claim_next(account(actor))
        assert claimed.user == actor
        return
    with pytest.raises(PermissionDenied):
        await workflow.claim_next(account(actor))


async def test_release_unclaimed_running_task_admin_only(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, task("t1", RUNNING))

    with pytest.raises(TaskNotFound):
        await workflow.release(account("mia"), "t1")
    await workflow.release(account("root"), "t1")


# Reject reasons.


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
async def test_reject_invalid_reason(workflow: Workflow, store: SQLiteRepository, reason: str) -> None:
    await put(store, worked_task("t1", CHECKING))

    with pytest.raises(InvalidRequest) as raised:
        await workflow.reject(account("vera"), "t1", reason)
    assert raised.value.errid is ErrId.BAD_REQUEST
    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.status == CHECKING


async def test_reject_max_length_reason(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", CHECKING))

    await workflow.reject(account("vera"), "t1", "x" * 500)

    history = await store.task_history("t1")
    assert history[-1].reason == "x" * 500


# Races between an action and a concurrent write.


class RacingStore:
    """Delegates to a real store, but runs `interleave` once, just before the first `update_tasks` write."""

    def __init__(self, store: SQLiteRepository, interleave: Callable[[], Awaitable[object]]) -> None:
        self._store = store
        self._interleave: Callable[[], Awaitable[object]] | None = interleave

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def update_tasks(self, updates: Sequence[tuple[TaskRecord, int]], history: Sequence[HistoryEntry]) -> list[str]:
        if self._interleave is not None:
            interleave, self._interleave = self._interleave, None
            await interleave()
        return await self._store.update_tasks(updates, history)


async def test_race_makes_action_invalid(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", CHECKING))
    racing = Workflow(RacingStore(store, lambda: workflow.reject(account("vera"), "t1", "too late")))  # type: ignore[arg-type]

    with pytest.raises(InvalidStateChange):
        await racing.approve(account("root"), "t1")

    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.status == RUNNING
    assert [entry.to_status for entry in await store.task_history("t1")] == [RUNNING]


async def test_race_keeps_action_valid(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", RUNNING))

    async def poll_changes_description() -> None:
        current = await store.get_task("t1")
        assert current is not None
        version = current.version
        current.description = "new description"
        assert await store.update_tasks([(current, version)], []) == []

    racing = Workflow(RacingStore(store, poll_changes_description))  # type: ignore[arg-type]
    await racing.submit(account("alice"), "t1")

    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.status == CHECKING
    assert stored.description == "new description"
    assert stored.version == 3


# Claim next.


async def test_claim_next_oldest(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(
        store,
        task("c", created_at=T0 + 2),
        task("b", created_at=T0 + 1),
        task("a2", created_at=T0 + 1),
        task("z", RUNNING, created_at=T0, user="bob"),
    )

    first = await workflow.claim_next(account("alice"))
    second = await workflow.claim_next(account("alice"))

    assert first.task_id == "a2"
    assert second.task_id == "b"
    assert first.status == RUNNING
    assert first.user == "alice"
    history = await store.task_history("a2")
    assert (history[-1].actor, history[-1].from_status, history[-1].to_status) == ("alice", NOTGET, RUNNING)


async def test_claim_next_filters(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(
        store,
        task("a-img", created_at=T0, data_type="image"),
        task("a-txt", created_at=T0 + 1, data_type="text"),
        task("b-txt", service_url=URL_B, created_at=T0 + 2, data_type="text"),
    )
    alice = account("alice")

    by_type = await workflow.claim_next(alice, data_type="text")
    by_service = await workflow.claim_next(alice, service_url=URL_B)

    assert by_type.task_id == "a-txt"
    assert by_service.task_id == "b-txt"


async def test_claim_next_text_filter(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(
        store,
        task("street-1", created_at=T0, description="street scene"),
        task("forest-1", created_at=T0 + 1, description="forest trail"),
    )

    claimed = await workflow.claim_next(account("alice"), text="forest")

    assert claimed.task_id == "forest-1"


async def test_data_types_counted_for_visible(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(
        store,
        task("img-1", data_type="image"),
        task("img-2", data_type="image"),
        task("txt-1", data_type="text"),
        task("txt-2", RUNNING, data_type="text", user="carol", claimed_at=T0),
    )

    assert await workflow.data_types(account("alice")) == [("image", 2), ("text", 1)]
    assert await workflow.data_types(account("root")) == [("image", 2), ("text", 2)]


async def test_claim_next_live_services_only(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, task("a1", created_at=T0), task("b1", service_url=URL_B, created_at=T0 + 1))

    claimed = await workflow.claim_next(account("alice"), live_service_urls=[URL_B])

    assert claimed.task_id == "b1"
    with pytest.raises(TaskNotFound):
        await workflow.claim_next(account("alice"), service_url=URL_A, live_service_urls=[URL_B])


async def test_claim_next_none_left(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, task("t1", RUNNING, user="bob"))

    with pytest.raises(TaskNotFound) as raised:
        await workflow.claim_next(account("alice"), data_type="video")
    assert "video" in raised.value.detail


async def test_claim_next_skips_missing(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, task("old", created_at=T0), task("new", created_at=T0 + 1))
    await store.set_missing(URL_A, ["old"], True, T0 + 2)

    claimed = await workflow.claim_next(account("alice"))

    assert claimed.task_id == "new"


async def test_claim_next_limit_reached(store: SQLiteRepository) -> None:
    await store.add_user(account("alice"))
    await put(store, task("t1", created_at=T0), task("t2", created_at=T0 + 1))
    limited = Workflow(store, max_tasks_in_work=1)

    await limited.claim_next(account("alice"))
    with pytest.raises(TaskLimitReached):
        await limited.claim_next(account("alice"))


async def test_claim_next_concurrent_unique(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, *(task(f"t{i:02}", created_at=T0 + i) for i in range(30)))
    editors = [User(username=f"e{i}", password_hash="unused", roles=("editor",)) for i in range(20)]

    claimed = await asyncio.gather(*(workflow.claim_next(editor) for editor in editors))

    ids = [item.task_id for item in claimed]
    assert len(set(ids)) == 20
    assert sorted(ids) == [f"t{i:02}" for i in range(20)]
    for item in claimed:
        stored = await store.get_task(item.task_id)
        assert stored is not None
        assert stored.user == item.user


async def test_claim_next_concurrent_fewer_tasks(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, *(task(f"t{i:02}", created_at=T0 + i) for i in range(8)))
    editors = [User(username=f"e{i}", password_hash="unused", roles=("editor",)) for i in range(20)]

    results = await asyncio.gather(*(workflow.claim_next(editor) for editor in editors), return_exceptions=True)

    claimed = [result for result in results if isinstance(result, TaskRecord)]
    failures = [result for result in results if not isinstance(result, TaskRecord)]
    assert len({item.task_id for item in claimed}) == len(claimed) == 8
    assert len(failures) == 12
    assert all(isinstance(failure, (TaskNotFound, AlreadyClaimed)) for failure in failures)


# Visibility, lists and pagination.


def page_task_ids(page: TaskJsonPage) -> list[str]:
    return [orjson.loads(task)["task_id"] for task in page.tasks]


async def visible_ids(workflow: Workflow, actor: str, query: TaskQuery | None = None) -> set[str]:
    page = await workflow.list_tasks(account(actor), query or TaskQuery(), TaskSort(), 500)
    return set(page_task_ids(page))


async def put_visibility_tasks(store: SQLiteRepository) -> None:
    await put(
        store,
        task("free"),
        task("alice-own", RUNNING, user="alice", group_id="g1"),
        task("bob-checked-by-vera", CHECKING, user="bob", checker="vera"),
        task("carol-own", RUNNING, user="carol", group_id="g2"),
        task("nobody-in-g1", "shutdown", group_id="g1"),
        task("done", FINISH, user="carol"),
    )


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("alice", {"free", "alice-own"}),
        ("vera", {"free", "bob-checked-by-vera"}),
        ("otto", {"free"}),
        ("mia", {"free", "alice-own", "bob-checked-by-vera", "nobody-in-g1"}),
        ("max", {"free", "carol-own", "done"}),
        ("root", {"free", "alice-own", "bob-checked-by-vera", "carol-own", "nobody-in-g1", "done"}),
    ],
)
async def test_list_visibility(workflow: Workflow, store: SQLiteRepository, actor: str, expected: set[str]) -> None:
    await put_visibility_tasks(store)

    assert await visible_ids(workflow, actor) == expected


@pytest.mark.parametrize(("actor", "task_id"), [("alice", "carol-own"), ("vera", "alice-own"), ("max", "alice-own")])
async def test_detail_invisible_not_found(workflow: Workflow, store: SQLiteRepository, actor: str, task_id: str) -> None:
    await put_visibility_tasks(store)

    with pytest.raises(TaskNotFound):
        await workflow.task_detail(account(actor), task_id)


async def test_detail_history_order(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, task("t1"))
    await workflow.claim(account("alice"), "t1")
    await workflow.release(account("alice"), "t1")
    await workflow.claim(account("bob"), "t1")

    found, history = await workflow.task_detail(account("bob"), "t1")

    assert found.user == "bob"
    assert [(entry.actor, entry.to_status) for entry in history] == [
        ("alice", RUNNING), ("alice", NOTGET), ("bob", RUNNING)
    ]


async def test_list_filters_and_totals(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(
        store,
        task("img-1", data_type="image", description="Street scene"),
        task("img-2", RUNNING, data_type="image", user="alice", checker="vera", group_id="g1"),
        task("txt-1", service_url=URL_B, data_type="text", description="50% done_maybe"),
        task("gone", data_type="image"),
    )
    await store.set_missing(URL_A, ["gone"], True, T0 + 1)
    root = account("root")
    cases = [
        (TaskQuery(status=NOTGET), {"img-1", "txt-1"}),
        (TaskQuery(data_type="image"), {"img-1", "img-2"}),
        (TaskQuery(data_type="image", include_missing=True), {"img-1", "img-2", "gone"}),
        (TaskQuery(service_urls=(URL_B,)), {"txt-1"}),
        (TaskQuery(user="alice"), {"img-2"}),
        (TaskQuery(checker="vera"), {"img-2"}),
        (TaskQuery(group_id="g1"), {"img-2"}),
        (TaskQuery(text="street"), {"img-1"}),
        (TaskQuery(text="IMG-"), {"img-1", "img-2"}),
        (TaskQuery(text="50%"), {"txt-1"}),
        (TaskQuery(text="%"), {"txt-1"}),
        (TaskQuery(text="e_m"), {"txt-1"}),
    ]

    for query, expected in cases:
        page = await workflow.list_tasks(root, query, TaskSort(), 50)
        assert set(page_task_ids(page)) == expected, query
        assert page.total == len(expected), query


async def test_list_total_counts_all_pages(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, *(task(f"t{i:03}", created_at=T0 + i) for i in range(12)))

    page = await workflow.list_tasks(account("alice"), TaskQuery(), TaskSort(), 5)

    assert len(page.tasks) == 5
    assert page.total == 12
    assert page.next_cursor is not None


async def read_all(workflow: Workflow, sort: TaskSort, between_pages: Callable[[int], Awaitable[None]] | None = None) -> list[str]:
    ids: list[str] = []
    cursor = None
    for page_number in range(100):
        page = await workflow.list_tasks(account("root"), TaskQuery(), sort, 50, cursor)
        ids.extend(page_task_ids(page))
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor
        if between_pages is not None:
            await between_pages(page_number)
    raise AssertionError("pagination did not end within 100 pages")


SORTS = [TaskSort(key, descending) for key in TaskSortField for descending in (False, True)]


@pytest.mark.parametrize("sort", SORTS, ids=[f"{sort.key}-{'desc' if sort.descending else 'asc'}" for sort in SORTS])
async def test_pagination_complete(workflow: Workflow, store: SQLiteRepository, sort: TaskSort) -> None:
    # Groups of three tasks share created_at and updated_at, so ties are broken by task id.
    await put(store, *(task(f"t{i:03}", created_at=T0 + i // 3) for i in range(120)))

    ids = await read_all(workflow, sort)

    assert len(ids) == 120
    assert len(set(ids)) == 120
    if sort.key is TaskSortField.TASK_ID:
        assert ids == sorted(ids, reverse=sort.descending)
    else:
        assert ids == sorted(ids, key=lambda task_id: (int(task_id[1:]) // 3, task_id), reverse=sort.descending)


@pytest.mark.parametrize("descending", [False, True])
async def test_pagination_inserts_between_pages(workflow: Workflow, store: SQLiteRepository, descending: bool) -> None:
    await put(store, *(task(f"t{i:03}", created_at=T0 + i) for i in range(120)))
    inserted: list[str] = []

    async def insert_more(page_number: int) -> None:
        # One new task sorts before the pages already read, one among them, one after all of them.
        batch = [
            task(f"new-early-{page_number}", created_at=T0 - 10 - page_number),
            task(f"new-middle-{page_number}", created_at=T0 + 60.5),
            task(f"new-late-{page_number}", created_at=T0 + 1000 + page_number),
        ]
        await put(store, *batch)
        inserted.extend(item.task_id for item in batch)

    ids = await read_all(workflow, TaskSort(TaskSortField.CREATED_AT, descending), insert_more)

    assert len(ids) == len(set(ids))
    assert {f"t{i:03}" for i in range(120)} <= set(ids)
    assert set(ids) <= {f"t{i:03}" for i in range(120)} | set(inserted)


async def test_pagination_cursor_other_sort(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, *(task(f"t{i:03}", created_at=T0 + i) for i in range(3)))
    root = account("root")
    page = await workflow.list_tasks(root, TaskQuery(), TaskSort(), 1)
    assert page.next_cursor is not None

    with pytest.raises(InvalidRequest):
        await workflow.list_tasks(root, TaskQuery(), TaskSort(TaskSortField.TASK_ID), 1, page.next_cursor)
    with pytest.raises(InvalidRequest):
        await workflow.list_tasks(root, TaskQuery(), TaskSort(descending=True), 1, page.next_cursor)


@pytest.mark.parametrize("cursor", ["not base64!", "e30", "W10", "eyJrZXkiOiJjcmVhdGVkX2F0In0", "x" * 3000])
async def test_pagination_invalid_cursor(workflow: Workflow, cursor: str) -> None:
    with pytest.raises(InvalidRequest):
        await workflow.list_tasks(account("root"), TaskQuery(), TaskSort(), 10, cursor)


@pytest.mark.parametrize("limit", [0, 501])
async def test_list_invalid_limit(workflow: Workflow, limit: int) -> None:
    with pytest.raises(TaskDashError) as raised:
        await workflow.list_tasks(account("root"), TaskQuery(), TaskSort(), limit)
    assert raised.value.errid is ErrId.BAD_REQUEST
