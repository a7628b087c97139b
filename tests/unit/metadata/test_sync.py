"""sync_service_tasks against the real SQLite store."""

from __future__ import annotations

from taskdash.metadata.sync import sync_service_tasks
from taskdash.store.protocol import ClaimOutcome
from taskdash.store.records import ClaimRequest, ReportedTask, TaskQuery
from taskdash.store.sqlite.repository import SQLiteRepository

URL_A = "http://127.0.0.1:8001/rpost/a"
URL_B = "http://127.0.0.1:8002/rpost/b"
T0 = 1_700_000_000.0


def reported(task_id: str, status: str = "notget", **fields: object) -> ReportedTask:
    return ReportedTask(task_id=task_id, data_type="2", status=status, **fields)


async def claim(store: SQLiteRepository, task_id: str, user: str, checker: str = "") -> None:
    outcome, _ = await store.change_owner(
        ClaimRequest(task_id=task_id, user=user, actor=user, at=T0 + 1, checker=checker, reason="claimed")
    )
    assert outcome == ClaimOutcome.DONE


async def test_sync_first_poll_creates(store: SQLiteRepository) -> None:
    result = await sync_service_tasks(store, URL_A, [reported("t1"), reported("t2", description="d")], T0)

    assert result.created == 2
    assert result.updated == 0
    assert result.unchanged == 0
    stored = await store.get_task("t2")
    assert stored.service_url == URL_A
    assert stored.status == "notget"
    assert stored.service_status == "notget"
    assert stored.description == "d"
    assert stored.data_type == "2"
    assert stored.created_at == T0


async def test_sync_empty_status_starts_notget(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1", status="")], T0)

    assert (await store.get_task("t1")).status == "notget"


async def test_sync_unchanged_poll_writes_nothing(store: SQLiteRepository) -> None:
    tasks = [reported("t1"), reported("t2", extra={"priority": 3})]
    await sync_service_tasks(store, URL_A, tasks, T0)
    before = await store.get_tasks(["t1", "t2"])

    result = await sync_service_tasks(store, URL_A, tasks, T0 + 10)

    assert result.unchanged == 2
    assert result.created == 0
    assert result.updated == 0
    assert result.missing == 0
    assert await store.get_tasks(["t1", "t2"]) == before


async def test_sync_changed_metadata_updates(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1"), reported("t2")], T0)

    result = await sync_service_tasks(store, URL_A, [reported("t1", description="new"), reported("t2")], T0 + 10)

    stored = await store.get_task("t1")
    assert result.updated == 1
    assert result.unchanged == 1
    assert stored.description == "new"
    assert stored.version == 2
    assert stored.updated_at == T0 + 10


async def test_sync_vanished_task_missing(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1"), reported("t2")], T0)

    result = await sync_service_tasks(store, URL_A, [reported("t1")], T0 + 10)

    assert result.missing == 1
    assert (await store.get_task("t2")).missing is True
    assert await store.task_columns(TaskQuery(), ["task_id"]) == [("t1",)]


async def test_sync_missing_counted_once(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1"), reported("t2")], T0)
    await sync_service_tasks(store, URL_A, [reported("t1")], T0 + 10)

    result = await sync_service_tasks(store, URL_A, [reported("t1")], T0 + 20)

    assert result.missing == 0
    assert result.unchanged == 1


async def test_sync_reappeared_task_not_missing(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1"), reported("t2")], T0)
    await sync_service_tasks(store, URL_A, [reported("t1")], T0 + 10)

    result = await sync_service_tasks(store, URL_A, [reported("t1"), reported("t2")], T0 + 20)

    assert result.updated == 1
    assert result.created == 0
    assert (await store.get_task("t2")).missing is False


async def test_sync_repeated_notget_keeps_claim(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1")], T0)
    await claim(store, "t1", "alice")

    await sync_service_tasks(store, URL_A, [reported("t1", description="edited")], T0 + 10)

    stored = await store.get_task("t1")
    assert stored.status == "running"
    assert stored.user == "alice"
    assert stored.description == "edited"


async def test_sync_new_notget_keeps_claim(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1")], T0)
    await claim(store, "t1", "alice")
    await sync_service_tasks(store, URL_A, [reported("t1", status="restart")], T0 + 10)

    await sync_service_tasks(store, URL_A, [reported("t1", status="notget")], T0 + 20)

    stored = await store.get_task("t1")
    assert stored.status == "restart"
    assert stored.service_status == "notget"
    assert stored.user == "alice"


async def test_sync_finish_with_checker_is_checking(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1")], T0)
    await claim(store, "t1", "alice", checker="bob")

    await sync_service_tasks(store, URL_A, [reported("t1", status="finish")], T0 + 10)

    stored = await store.get_task("t1")
    assert stored.status == "checking"
    assert stored.service_status == "finish"


async def test_sync_finish_without_checker_is_finish(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1")], T0)
    await claim(store, "t1", "alice")

    await sync_service_tasks(store, URL_A, [reported("t1", status="finish")], T0 + 10)

    assert (await store.get_task("t1")).status == "finish"


async def test_sync_task_of_other_service_conflict(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("shared")], T0)

    result = await sync_service_tasks(store, URL_B, [reported("shared"), reported("own")], T0 + 10)

    assert result.conflicts == 1
    assert result.created == 1
    assert (await store.get_task("shared")).service_url == URL_A
    assert len(await store.task_history("shared")) == 1


async def test_sync_other_service_never_marks_missing(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("a1")], T0)

    await sync_service_tasks(store, URL_B, [], T0 + 10)

    assert (await store.get_task("a1")).missing is False


async def test_sync_history_entries(store: SQLiteRepository) -> None:
    await sync_service_tasks(store, URL_A, [reported("t1")], T0)
    await sync_service_tasks(store, URL_A, [reported("t1", status="shutdown")], T0 + 10)
    await sync_service_tasks(store, URL_A, [reported("t1", status="shutdown", description="d")], T0 + 20)

    history = await store.task_history("t1")

    assert [(entry.from_status, entry.to_status) for entry in history] == [("", "notget"), ("notget", "shutdown")]
    assert {entry.actor for entry in history} == {URL_A}
    assert {entry.actor_kind for entry in history} == {"service"}
    assert history[0].at == T0
    assert history[1].at == T0 + 10
    assert "shutdown" in history[1].reason
