"""Bulk assignment against a real SQLite store: selection, filter, round-robin, dry run and per-task errors."""

from __future__ import annotations

import pytest

from taskdash.errors import ErrId, InvalidRequest, PermissionDenied, TaskNotFound, UserNotFound
from taskdash.store.records import TaskQuery, TaskRecord, User
from taskdash.store.sqlite.repository import SQLiteRepository
from taskdash.tasks.bulk import MAX_BULK_TASKS, BulkTarget
from taskdash.tasks.status import CHECKING, NOTGET, RUNNING
from taskdash.tasks.workflow import Workflow

URL = "http://127.0.0.1:8001/rpost/a"
T0 = 1_700_000_000.0

# username -> (roles, groups, disabled)
ACCOUNTS = {
    "alice": (("editor",), ("g1",), False),
    "bob": (("editor",), ("g1",), False),
    "cleo": (("editor",), ("g1",), False),
    "dora": (("editor",), ("g1",), True),
    "carol": (("editor",), ("g2",), False),
    "vera": (("checker", "editor"), ("g1",), False),
    "mia": (("manager",), ("g1",), False),
    "max": (("manager",), ("g2",), False),
    "eve": (("editor",), ("g1",), False),
    "root": (("admin",), (), False),
}
G1_EDITORS = ["alice", "bob", "cleo", "eve", "vera"]


def account(username: str) -> User:
    roles, groups, disabled = ACCOUNTS[username]
    return User(username=username, password_hash="unused", roles=roles, groups=groups, disabled=disabled, created_at=T0)


def task(number: int, status: str = NOTGET, **fields: object) -> TaskRecord:
    at = T0 + number
    return TaskRecord(
        task_id=f"t{number:03d}", service_url=URL, status=status, data_type="2", created_at=at, updated_at=at, **fields
    )


@pytest.fixture
async def workflow(store: SQLiteRepository) -> Workflow:
    for username in ACCOUNTS:
        await store.add_user(account(username))
    assert await store.insert_tasks([task(number) for number in range(10)], []) == []
    return Workflow(store)


def planned(plan) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {item.task_id: item.user for item in plan.items if item.ok}


async def test_dry_run_assigns_nothing(workflow: Workflow, store: SQLiteRepository) -> None:
    plan = await workflow.bulk_assign(account("mia"), BulkTarget(user="alice"), task_ids=["t000", "t001"], dry_run=True)

    assert planned(plan) == {"t000": "alice", "t001": "alice"}
    assert (await store.get_task("t000")).status == NOTGET


async def test_selection_assigned_to_user(workflow: Workflow, store: SQLiteRepository) -> None:
    plan = await workflow.bulk_assign(account("mia"), BulkTarget(user="alice", checker="vera", group="g1"),
                                      task_ids=["t000", "t001"])

    stored = await store.get_task("t001")
    assert planned(plan) == {"t000": "alice", "t001": "alice"}
    assert stored.status == RUNNING
    assert stored.user == "alice"
    assert stored.checker == "vera"
    assert stored.group_id == "g1"


async def test_round_robin_balances_editors(workflow: Workflow) -> None:
    target = BulkTarget(round_robin_group="g1")

    plan = await workflow.bulk_assign(account("mia"), target, query=TaskQuery(status=NOTGET), dry_run=True)

    assert [item.user for item in plan.items] == G1_EDITORS + G1_EDITORS
    assert dict(plan.per_user) == {editor: 2 for editor in G1_EDITORS}


async def test_round_robin_fills_least_loaded(workflow: Workflow, store: SQLiteRepository) -> None:
    await workflow.claim(account("alice"), "t009")
    await workflow.claim(account("alice"), "t008")
    await workflow.claim(account("bob"), "t007")

    plan = await workflow.bulk_assign(account("mia"), BulkTarget(round_robin_group="g1"), task_ids=["t000", "t001", "t002", "t003"],
                                      dry_run=True)

    assert [item.user for item in plan.items] == ["cleo", "eve", "vera", "bob"]


async def test_round_robin_skips_checker(workflow: Workflow) -> None:
    plan = await workflow.bulk_assign(
        account("mia"), BulkTarget(round_robin_group="g1", checker="vera"), query=TaskQuery(status=NOTGET), dry_run=True
    )

    assert "vera" not in plan.per_user
    assert set(plan.per_user) == {"alice", "bob", "cleo", "eve"}


async def test_round_robin_writes_group(workflow: Workflow, store: SQLiteRepository) -> None:
    await workflow.bulk_assign(account("mia"), BulkTarget(round_robin_group="g1"), task_ids=["t000"])

    assert (await store.get_task("t000")).group_id == "g1"


async def test_chunks_by_user_match_preview(workflow: Workflow, store: SQLiteRepository) -> None:
    preview = await workflow.bulk_assign(account("mia"), BulkTarget(round_robin_group="g1"),
                                         query=TaskQuery(status=NOTGET), dry_run=True)

    for user in preview.per_user:
        chunk = [item.task_id for item in preview.items if item.user == user]
        await workflow.bulk_assign(account("mia"), BulkTarget(user=user, group="g1"), task_ids=chunk)

    for item in preview.items:
        assert (await store.get_task(item.task_id)).user == item.user


async def test_filter_limit_counts_all_matches(workflow: Workflow) -> None:
    plan = await workflow.bulk_assign(account("mia"), BulkTarget(user="alice"), query=TaskQuery(status=NOTGET), limit=3,
                                      dry_run=True)

    assert [item.task_id for item in plan.items] == ["t000", "t001", "t002"]
    assert plan.total_matching == 10


async def test_unknown_and_finished_tasks_fail_alone(workflow: Workflow, store: SQLiteRepository) -> None:
    assert await store.insert_tasks([task(50, CHECKING, user="bob")], []) == []

    plan = await workflow.bulk_assign(account("root"), BulkTarget(user="alice"), task_ids=["t000", "nope", "t050"])

    errors = {item.task_id: item.error.errid for item in plan.items if item.error}
    assert errors == {"nope": ErrId.TASK_NOT_FOUND, "t050": ErrId.INVALID_STATE_CHANGE}
    assert (await store.get_task("t000")).user == "alice"


async def test_task_limit_fails_extra_tasks(store: SQLiteRepository) -> None:
    for username in ACCOUNTS:
        await store.add_user(account(username))
    assert await store.insert_tasks([task(number) for number in range(3)], []) == []
    workflow = Workflow(store, max_tasks_in_work=2)

    plan = await workflow.bulk_assign(account("root"), BulkTarget(user="alice"), task_ids=["t000", "t001", "t002"])

    assert [item.ok for item in plan.items] == [True, True, False]
    assert plan.items[2].error.errid == ErrId.TASK_LIMIT_REACHED


async def test_editor_may_not_bulk_assign(workflow: Workflow) -> None:
    with pytest.raises(PermissionDenied):
        await workflow.bulk_assign(account("alice"), BulkTarget(user="alice"), task_ids=["t000"], dry_run=True)


async def test_manager_outside_group_rejected(workflow: Workflow) -> None:
    with pytest.raises(PermissionDenied):
        await workflow.bulk_assign(account("max"), BulkTarget(round_robin_group="g1"), task_ids=["t000"], dry_run=True)


async def test_manager_to_foreign_user_rejected(workflow: Workflow) -> None:
    with pytest.raises(PermissionDenied):
        await workflow.bulk_assign(account("max"), BulkTarget(user="alice"), task_ids=["t000"], dry_run=True)


async def test_non_editor_rejected(workflow: Workflow) -> None:
    with pytest.raises(PermissionDenied, match="not an editor"):
        await workflow.bulk_assign(account("root"), BulkTarget(user="mia"), task_ids=["t000"], dry_run=True)


async def test_single_assign_to_non_editor_rejected(workflow: Workflow) -> None:
    with pytest.raises(PermissionDenied, match="not an editor"):
        await workflow.assign(account("root"), "t000", "mia")


async def test_disabled_user_rejected(workflow: Workflow) -> None:
    with pytest.raises(UserNotFound):
        await workflow.bulk_assign(account("root"), BulkTarget(user="dora"), task_ids=["t000"], dry_run=True)


async def test_group_without_editors_rejected(workflow: Workflow) -> None:
    with pytest.raises(InvalidRequest, match="no enabled editor"):
        await workflow.bulk_assign(account("root"), BulkTarget(round_robin_group="g9"), task_ids=["t000"], dry_run=True)


@pytest.mark.parametrize(
    ("target", "selection"),
    [
        (BulkTarget(), {"task_ids": ["t000"]}),
        (BulkTarget(user="alice", round_robin_group="g1"), {"task_ids": ["t000"]}),
        (BulkTarget(user="alice"), {}),
        (BulkTarget(user="alice"), {"task_ids": ["t000"], "query": TaskQuery()}),
        (BulkTarget(user="alice"), {"task_ids": ["t000"], "limit": MAX_BULK_TASKS + 1}),
    ],
)
async def test_invalid_requests_rejected(workflow: Workflow, target: BulkTarget, selection: dict) -> None:
    with pytest.raises(InvalidRequest):
        await workflow.bulk_assign(account("root"), target, dry_run=True, **selection)


async def test_assign_invisible_task_not_found(workflow: Workflow, store: SQLiteRepository) -> None:
    await workflow.claim(account("carol"), "t000")

    with pytest.raises(TaskNotFound):
        await workflow.assign(account("mia"), "t000", "alice")

    assert (await store.get_task("t000")).user == "carol"
