"""The repository contract for task lists, keyset pages, counts and statistics, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from taskdash.errors import InvalidRequest
from taskdash.store.protocol import Repository
from taskdash.store.records import (
    ClaimRequest,
    HistoryEntry,
    TaskQuery,
    TaskRecord,
    TaskSort,
    TaskSortField,
    TaskVisibility,
)
from taskdash.store.task_json import task_json

URL_A = "http://127.0.0.1:8001/rpost/a"
URL_B = "http://127.0.0.1:8002/rpost/b"
T0 = 1_700_000_000.0
DAY = 86_400.0
# 2023-11-14 22:13:20 UTC, so T0 + 2 h is on the next UTC day.
T0_DAY = "2023-11-14"


def task(task_id: str, created_at: float = T0, **fields: object) -> TaskRecord:
    values = {"service_url": URL_A, "status": "notget", "created_at": created_at, "updated_at": created_at, **fields}
    return TaskRecord(task_id=task_id, **values)


async def all_pages(store: Repository, query: TaskQuery, sort: TaskSort, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(100):
        tasks, cursor = await store.find_tasks(query, sort, limit, cursor)
        pages.append([record.task_id for record in tasks])
        if cursor is None:
            return pages
    raise AssertionError("find_tasks returned a next cursor 100 times")


async def ids(store: Repository, query: TaskQuery) -> list[str]:
    tasks, _ = await store.find_tasks(query, TaskSort(TaskSortField.TASK_ID), 100)
    return [record.task_id for record in tasks]


# Keyset pages.


async def test_find_tasks_pages_created_order(store: Repository) -> None:
    await store.insert_tasks([task(f"t{i:02d}", created_at=T0 + i) for i in range(7)], [])

    pages = await all_pages(store, TaskQuery(), TaskSort(), limit=3)

    assert pages == [["t00", "t01", "t02"], ["t03", "t04", "t05"], ["t06"]]


async def test_find_tasks_exact_last_page_has_no_cursor(store: Repository) -> None:
    await store.insert_tasks([task(f"t{i}", created_at=T0 + i) for i in range(4)], [])

    first, cursor = await store.find_tasks(TaskQuery(), TaskSort(), 2)
    second, last_cursor = await store.find_tasks(TaskQuery(), TaskSort(), 2, cursor)

    assert [record.task_id for record in first + second] == ["t0", "t1", "t2", "t3"]
    assert last_cursor is None


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (TaskSort(TaskSortField.CREATED_AT, descending=True), ["c2", "b1", "a1", "b0", "a0"]),
        (TaskSort(TaskSortField.TASK_ID), ["a0", "a1", "b0", "b1", "c2"]),
        (TaskSort(TaskSortField.TASK_ID, descending=True), ["c2", "b1", "b0", "a1", "a0"]),
        (TaskSort(TaskSortField.UPDATED_AT), ["a0", "b0", "a1", "b1", "c2"]),
    ],
    ids=["created-desc", "id-asc", "id-desc", "updated-asc"],
)
async def test_find_tasks_sort_orders(store: Repository, sort: TaskSort, expected: list[str]) -> None:
    # Two tasks per creation time, so ties are broken by task id in the sort's direction.
    await store.insert_tasks(
        [task("b0", T0), task("a0", T0), task("b1", T0 + 1), task("a1", T0 + 1), task("c2", T0 + 2)], []
    )

    pages = await all_pages(store, TaskQuery(), sort, limit=2)

    assert [task_id for page in pages for task_id in page] == expected
    assert [len(page) for page in pages] == [2, 2, 1]


async def test_find_tasks_insert_between_pages(store: Repository) -> None:
    await store.insert_tasks([task(f"t{i}", created_at=T0 + 10 * i) for i in range(4)], [])
    first, cursor = await store.find_tasks(TaskQuery(), TaskSort(), 2)

    # One task sorts before the cursor and one after it.
    await store.insert_tasks([task("early", created_at=T0 + 5), task("late", created_at=T0 + 25)], [])
    rest, next_cursor = await store.find_tasks(TaskQuery(), TaskSort(), 10, cursor)

    assert [record.task_id for record in first] == ["t0", "t1"]
    assert [record.task_id for record in rest] == ["t2", "late", "t3"]
    assert next_cursor is None


async def test_find_tasks_fractional_times(store: Repository) -> None:
    times = [T0 + 0.1, T0 + 0.2, T0 + 0.30000000000000004, T0 + 1 / 3]
    await store.insert_tasks([task(f"t{i}", created_at=at) for i, at in enumerate(times)], [])

    pages = await all_pages(store, TaskQuery(), TaskSort(), limit=1)

    assert pages == [["t0"], ["t1"], ["t2"], ["t3"]]


async def test_find_tasks_cursor_other_sort_rejected(store: Repository) -> None:
    await store.insert_tasks([task("t1"), task("t2")], [])
    _, cursor = await store.find_tasks(TaskQuery(), TaskSort(), 1)

    with pytest.raises(InvalidRequest, match="sorted by"):
        await store.find_tasks(TaskQuery(), TaskSort(TaskSortField.TASK_ID), 1, cursor)


async def test_find_tasks_invalid_cursor_rejected(store: Repository) -> None:
    with pytest.raises(InvalidRequest, match="invalid cursor"):
        await store.find_tasks(TaskQuery(), TaskSort(), 1, "not-a-cursor")


async def test_find_tasks_returns_whole_records(store: Repository) -> None:
    record = task("t1", data_type="2", description="d", extra={"k": [1, "二"]}, fingerprint="f", reserved="r")
    await store.insert_tasks([record], [])

    tasks, _ = await store.find_tasks(TaskQuery(), TaskSort(), 10)

    assert tasks == [record]


async def test_task_json_page_matches_records(store: Repository) -> None:
    records = [
        task("plain"),
        task(
            "full/ü", status="running", data_type="2", description='标注 "quoted" \\ back\tslash\n \x01 control',
            service_status="running", reserved="no", project_id="p1", instance_id="i1", url="http://x.invalid/t",
            create_time="2024-01-01", extra={"nested": {"list": [1, 2.5, None, True]}, "big": 2**62, "float": 0.1},
            user="alice", checker="carol", group_id="g1", missing=True, fingerprint="not exposed", version=7,
            created_at=T0 + 0.123456, updated_at=T0 + 1 / 3, claimed_at=1_764_892_800.1234567,
        ),
    ]
    await store.insert_tasks(records, [])

    page = await store.task_json_page(TaskQuery(include_missing=True), TaskSort(), 10)

    assert [orjson.loads(document) for document in page.tasks] == [orjson.loads(task_json(r)) for r in records]
    assert page.total == 2
    assert page.next_cursor is None


async def test_task_json_page_keeps_float_times_exact(store: Repository) -> None:
    times = [T0 + 0.1, T0 + 0.30000000000000004, T0 + 1 / 3, 1e-7, 1_764_892_800.1234567]
    await store.insert_tasks([task(f"t{i}", created_at=at, claimed_at=at) for i, at in enumerate(times)], [])

    page = await store.task_json_page(TaskQuery(), TaskSort(TaskSortField.TASK_ID), 10)

    assert [orjson.loads(document)["created_at"] for document in page.tasks] == times
    assert [orjson.loads(document)["claimed_at"] for document in page.tasks] == times


async def test_task_json_page_cursor_continues(store: Repository) -> None:
    await store.insert_tasks([task(f"t{i}", created_at=T0 + i, data_type=str(i % 2)) for i in range(7)], [])
    query = TaskQuery(data_type="1")
    sort = TaskSort(TaskSortField.CREATED_AT, descending=True)

    first = await store.task_json_page(query, sort, 2)
    second = await store.task_json_page(query, sort, 2, first.next_cursor)

    assert [orjson.loads(document)["task_id"] for document in first.tasks] == ["t5", "t3"]
    assert [orjson.loads(document)["task_id"] for document in second.tasks] == ["t1"]
    assert (first.total, second.total) == (3, 3)
    assert second.next_cursor is None


async def test_task_json_page_same_cursor_as_find_tasks(store: Repository) -> None:
    await store.insert_tasks([task(f"t{i}", updated_at=T0 + i / 7) for i in range(5)], [])
    sort = TaskSort(TaskSortField.UPDATED_AT)

    page = await store.task_json_page(TaskQuery(), sort, 3)
    _, cursor = await store.find_tasks(TaskQuery(), sort, 3)

    assert page.next_cursor == cursor


async def test_task_json_page_follows_writes(store: Repository) -> None:
    await store.insert_tasks([task("t1"), task("t2", created_at=T0 + 1)], [])
    query = TaskQuery(include_missing=True)
    await store.task_json_page(query, TaskSort(), 10)

    # The same instant as the insert, so only the version distinguishes the claimed task from the stored one.
    await store.change_owner(ClaimRequest(task_id="t1", user="alice", actor="alice", at=T0))
    await store.set_missing(URL_A, ["t2"], True, T0 + 7)
    page = await store.task_json_page(query, TaskSort(), 10)

    records, _ = await store.find_tasks(query, TaskSort(), 10)
    assert [orjson.loads(document) for document in page.tasks] == [orjson.loads(task_json(r)) for r in records]
    assert orjson.loads(page.tasks[0])["user"] == "alice"
    assert orjson.loads(page.tasks[1])["missing"] is True


async def test_task_ids_with_nul_found(store: Repository) -> None:
    ids = ["nul\x00id", "plain"]
    await store.insert_tasks([task(task_id) for task_id in ids], [])

    page = await store.task_json_page(TaskQuery(), TaskSort(TaskSortField.TASK_ID), 10)
    found = await store.get_tasks(ids)
    flagged = await store.set_missing(URL_A, ids, True, T0 + 1)

    assert [orjson.loads(document)["task_id"] for document in page.tasks] == ids
    assert sorted(record.task_id for record in found) == ids
    assert flagged == 2


async def test_task_json_page_invalid_cursor_rejected(store: Repository) -> None:
    with pytest.raises(InvalidRequest, match="invalid cursor"):
        await store.task_json_page(TaskQuery(), TaskSort(), 1, "not-a-cursor")


# Filters and counts.


async def seed_owners(store: Repository) -> None:
    await store.insert_tasks(
        [
            task("free", data_type="2"),
            task("alice-run", status="running", user="alice", group_id="g1", data_type="2"),
            task("bob-check", status="checking", user="bob", checker="vera", group_id="g2"),
            task("carol-run", status="running", user="carol", group_id="g1", service_url=URL_B),
            task("gone", missing=True),
        ],
        [],
    )


async def test_filters_by_fields(store: Repository) -> None:
    await seed_owners(store)

    assert await ids(store, TaskQuery(status="running")) == ["alice-run", "carol-run"]
    assert await ids(store, TaskQuery(data_type="2")) == ["alice-run", "free"]
    assert await ids(store, TaskQuery(checker="vera")) == ["bob-check"]
    assert await ids(store, TaskQuery(group_id="g1")) == ["alice-run", "carol-run"]
    assert await ids(store, TaskQuery(group_id="g1", service_urls=(URL_A,))) == ["alice-run"]
    assert await ids(store, TaskQuery(users=("bob", "carol"))) == ["bob-check", "carol-run"]
    assert await ids(store, TaskQuery(include_missing=True, status="notget")) == ["free", "gone"]


async def test_count_tasks_matches_filters(store: Repository) -> None:
    await seed_owners(store)

    assert await store.count_tasks(TaskQuery()) == 4
    assert await store.count_tasks(TaskQuery(include_missing=True)) == 5
    assert await store.count_tasks(TaskQuery(status="running", group_id="g1")) == 2
    assert await store.count_tasks(TaskQuery(users=())) == 0


async def test_visibility_union_of_parts(store: Repository) -> None:
    await seed_owners(store)
    visible = TaskVisibility(unclaimed=True, users=("carol",), checkers=("vera",))

    assert await ids(store, TaskQuery(visible=visible)) == ["bob-check", "carol-run", "free"]
    assert await ids(store, TaskQuery(visible=TaskVisibility(group_ids=("g1",)))) == ["alice-run", "carol-run"]
    assert await ids(store, TaskQuery(visible=visible, status="running")) == ["carol-run"]
    assert await store.count_tasks(TaskQuery(visible=visible)) == 3


async def test_visibility_empty_matches_nothing(store: Repository) -> None:
    await seed_owners(store)

    assert await ids(store, TaskQuery(visible=TaskVisibility())) == []
    assert await store.count_tasks(TaskQuery(visible=TaskVisibility())) == 0


# Text filter.


async def test_text_matches_id_or_description(store: Repository) -> None:
    await store.insert_tasks([task("sy-hn-1"), task("other", description="from SY-HN"), task("unrelated")], [])

    assert await ids(store, TaskQuery(text="sy-hn")) == ["other", "sy-hn-1"]
    assert await ids(store, TaskQuery(text="Y-h")) == ["other", "sy-hn-1"]


@pytest.mark.parametrize("text", [".", "*", "a.c", "(x", "[y]", "\\", "$", "^", "|", "?", "+", "{2}", "%", "_"])
async def test_text_metacharacters_literal(store: Repository, text: str) -> None:
    await store.insert_tasks([task("plain", description="abc xy 22"), task("exact", description=f"<{text}>")], [])

    assert await ids(store, TaskQuery(text=text)) == ["exact"]


async def test_text_non_ascii_case_sensitive(store: Repository) -> None:
    await store.insert_tasks([task("upper", description="ÉTÉ"), task("lower", description="été 任务")], [])

    assert await ids(store, TaskQuery(text="été")) == ["lower"]
    assert await ids(store, TaskQuery(text="任务")) == ["lower"]
    assert await ids(store, TaskQuery(text="ÉT")) == ["upper"]


async def test_text_control_characters_literal(store: Repository) -> None:
    await store.insert_tasks([task("tab", description="a\tb"), task("space", description="a b")], [])

    assert await ids(store, TaskQuery(text="a\tb")) == ["tab"]


# Column queries and statistics.


async def test_count_tasks_by_sorted_groups(store: Repository) -> None:
    await seed_owners(store)

    assert await store.count_tasks_by(TaskQuery(), ["status"]) == [("checking", 1), ("notget", 1), ("running", 2)]
    assert await store.count_tasks_by(TaskQuery(), ["group_id", "status"]) == [
        ("", "notget", 1), ("g1", "running", 2), ("g2", "checking", 1),
    ]
    assert await store.count_tasks_by(TaskQuery(status="running"), ["service_url"]) == [(URL_A, 1), (URL_B, 1)]


async def test_count_tasks_by_invalid_column_raises(store: Repository) -> None:
    with pytest.raises(ValueError, match="grouping columns"):
        await store.count_tasks_by(TaskQuery(), ["extra"])
    with pytest.raises(ValueError, match="grouping columns"):
        await store.count_tasks_by(TaskQuery(), [])


def finished(task_id: str, at: float, from_status: str = "checking") -> HistoryEntry:
    return HistoryEntry(task_id, at, "root", "user", from_status, "finish")


async def test_finished_per_day_counts_tasks(store: Repository) -> None:
    tasks = [task("a", status="finish"), task("b", status="finish"), task("c", status="finish", service_url=URL_B),
             task("gone", status="finish", missing=True)]
    history = [
        finished("a", T0), finished("a", T0 + 60),
        finished("b", T0 + 2 * 3600),
        finished("c", T0 + 60),
        finished("gone", T0),
        # A repeated report of `finish` is no move to it.
        finished("b", T0 + 60, from_status="finish"),
        # Before `since`.
        finished("a", T0 - DAY),
    ]
    await store.insert_tasks(tasks, history)

    per_day = await store.finished_per_day(TaskQuery(), since=T0 - 1)
    per_day_a = await store.finished_per_day(TaskQuery(service_urls=(URL_A,)), since=T0 - 1)

    next_day = datetime.fromtimestamp(T0 + 2 * 3600, UTC).strftime("%Y-%m-%d")
    assert next_day != T0_DAY
    assert per_day == [(T0_DAY, 2), (next_day, 1)]
    assert per_day_a == [(T0_DAY, 1), (next_day, 1)]


async def test_history_order_across_writes(store: Repository) -> None:
    first = HistoryEntry("t1", T0, URL_A, "service", "", "notget", "first reported")
    await store.insert_tasks([task("t1")], [first])
    await store.change_owner(ClaimRequest(task_id="t1", user="alice", actor="alice", at=T0 - 50))
    loaded = await store.get_task("t1")
    loaded.status = "checking"
    # Two entries in one write, with times out of order: the store keeps the order given.
    entries = [
        HistoryEntry("t1", T0 + 9, "alice", "user", "running", "checking", "second"),
        HistoryEntry("t1", T0 + 1, "alice", "user", "checking", "checking", "third"),
    ]
    assert await store.update_tasks([(loaded, loaded.version)], entries) == []

    history = await store.task_history("t1")

    assert [entry.reason for entry in history] == ["first reported", "", "second", "third"]
