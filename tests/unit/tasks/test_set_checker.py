"""Setting the checker of a task, against a real SQLite store."""

from __future__ import annotations

import pytest

from taskdash.errors import CheckerIsEditor, InvalidStateChange, PermissionDenied, TaskNotFound, UserNotFound
from taskdash.store.records import TaskRecord, User
from taskdash.store.sqlite.repository import SQLiteRepository
from taskdash.tasks.status import CHECKING, FINISH, NOTGET, RUNNING
from taskdash.tasks.workflow import Workflow

URL = "http://127.0.0.1:8001/rpost/a"
T0 = 1_700_000_000.0

# username -> (roles, groups, disabled)
ACCOUNTS = {
    "alice": (("editor",), ("g1",), False),
    "carol": (("editor",), ("g2",), False),
    "vera": (("checker",), ("g1",), False),
    "otto": (("checker",), ("g1",), False),
    "cleo": (("checker",), ("g2",), False),
    "gone": (("checker",), ("g1",), True),
    "mia": (("manager",), ("g1",), False),
    "root": (("admin",), (), False),
}


def account(username: str) -> User:
    roles, groups, disabled = ACCOUNTS[username]
    return User(username=username, password_hash="unused", roles=roles, groups=groups, disabled=disabled,
                created_at=T0)


@pytest.fixture
async def workflow(store: SQLiteRepository) -> Workflow:
    for username in ACCOUNTS:
        await store.add_user(account(username))
    return Workflow(store)


def worked_task(task_id: str, status: str, user: str = "alice", checker: str = "", group_id: str = "g1") -> TaskRecord:
    return TaskRecord(
        task_id=task_id, service_url=URL, status=status, user=user, checker=checker, group_id=group_id,
        created_at=T0, updated_at=T0, claimed_at=T0,
    )


async def put(store: SQLiteRepository, task: TaskRecord) -> None:
    assert await store.insert_tasks([task], []) == []


@pytest.mark.parametrize("status", [RUNNING, CHECKING])
async def test_set_checker_keeps_status(workflow: Workflow, store: SQLiteRepository, status: str) -> None:
    await put(store, worked_task("t1", status, checker="otto"))

    result = await workflow.set_checker(account("mia"), "t1", "vera")

    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.checker == "vera"
    assert stored.status == status
    assert stored.version == 2
    assert result.version == 2
    history = await store.task_history("t1")
    assert len(history) == 1
    assert history[0].actor == "mia"
    assert history[0].from_status == status
    assert history[0].to_status == status
    assert history[0].reason == "checker set to vera"


async def test_set_checker_lets_checker_approve(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", CHECKING))

    await workflow.set_checker(account("root"), "t1", "vera")
    result = await workflow.approve(account("vera"), "t1")

    assert result.status == FINISH


@pytest.mark.parametrize("status", [NOTGET, FINISH, "shutdown"])
async def test_set_checker_wrong_status(workflow: Workflow, store: SQLiteRepository, status: str) -> None:
    await put(store, worked_task("t1", status))

    with pytest.raises(InvalidStateChange) as raised:
        await workflow.set_checker(account("root"), "t1", "vera")

    assert repr(status) in raised.value.detail
    stored = await store.get_task("t1")
    assert stored is not None
    assert stored.checker == ""


async def test_set_checker_to_editor_rejected(workflow: Workflow, store: SQLiteRepository) -> None:
    await store.add_user(User("ed", "unused", ("checker", "editor"), ("g1",), created_at=T0))
    await put(store, worked_task("t1", RUNNING, user="ed"))

    with pytest.raises(CheckerIsEditor):
        await workflow.set_checker(account("root"), "t1", "ed")


@pytest.mark.parametrize(
    ("checker", "error"),
    [("nobody", UserNotFound), ("gone", UserNotFound), ("alice", PermissionDenied), ("mia", PermissionDenied)],
)
async def test_set_checker_invalid_checker(
    workflow: Workflow, store: SQLiteRepository, checker: str, error: type[Exception]
) -> None:
    await put(store, worked_task("t1", RUNNING))

    with pytest.raises(error):
        await workflow.set_checker(account("root"), "t1", checker)


@pytest.mark.parametrize("actor", ["alice", "vera", "carol"])
async def test_set_checker_needs_manager(workflow: Workflow, store: SQLiteRepository, actor: str) -> None:
    await put(store, worked_task("t1", RUNNING))

    with pytest.raises(PermissionDenied):
        await workflow.set_checker(account(actor), "t1", "otto")


async def test_set_checker_manager_other_group_checker(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", RUNNING))

    with pytest.raises(PermissionDenied):
        await workflow.set_checker(account("mia"), "t1", "cleo")


async def test_set_checker_manager_other_group_task(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", RUNNING, user="carol", group_id="g2"))

    with pytest.raises(TaskNotFound):
        await workflow.set_checker(account("mia"), "t1", "vera")


async def test_set_checker_manager_via_group_member(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", CHECKING, group_id=""))

    result = await workflow.set_checker(account("mia"), "t1", "vera")

    assert result.checker == "vera"


async def test_set_checker_admin_anywhere(workflow: Workflow, store: SQLiteRepository) -> None:
    await put(store, worked_task("t1", RUNNING, user="carol", group_id="g2"))

    result = await workflow.set_checker(account("root"), "t1", "vera")

    assert result.checker == "vera"


async def test_set_checker_unknown_task(workflow: Workflow) -> None:
    with pytest.raises(TaskNotFound):
        await workflow.set_checker(account("root"), "no-such-task", "vera")
