"""SQLite task lists: the indexes their queries use, and the task counts that triggers keep."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from taskdash.store.records import ClaimRequest, TaskQuery, TaskRecord, TaskSort, TaskSortField, TaskVisibility
from taskdash.store.sqlite.repository import SQLiteRepository, _count_sql, _find_sql
from taskdash.store.sqlite.schema import MIGRATIONS, migrate, split_statements
from taskdash.store.sqlite.task_json import TaskJsonCache, page_keys_select

URL_A = "http://127.0.0.1:8001/rpost/a"
T0 = 1_700_000_000.0
EDITOR_VISIBILITY = TaskVisibility(unclaimed=True, users=("alice",))


def task(task_id: str, status: str = "notget", data_type: str = "2", **fields: object) -> TaskRecord:
    values = {"service_url": URL_A, "created_at": T0, "updated_at": T0, **fields}
    return TaskRecord(task_id=task_id, status=status, data_type=data_type, **values)


def query_plan(path: Path, sql: str, params: list[object]) -> str:
    with sqlite3.connect(path) as connection:
        return " | ".join(row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, params))


def counted_by_scan(path: Path, where: str = "", params: tuple[object, ...] = ()) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT count(*) FROM task {where}", params).fetchone()[0]


@pytest.fixture
async def lists_store(tmp_path: Path) -> SQLiteRepository:
    repository = await SQLiteRepository.open(f"sqlite:///{tmp_path}/lists.db")
    yield repository
    await repository.close()


# Query plans.


@pytest.mark.parametrize(
    ("sort_key", "index"),
    [
        (TaskSortField.CREATED_AT, "task_status_type_created_idx"),
        (TaskSortField.UPDATED_AT, "task_status_type_updated_idx"),
        (TaskSortField.TASK_ID, "task_status_type_id_idx"),
    ],
)
async def test_unclaimed_page_uses_type_index(
    lists_store: SQLiteRepository, sort_key: TaskSortField, index: str
) -> None:
    query = TaskQuery(status="notget", data_type="2", visible=EDITOR_VISIBILITY)

    sql, params = _find_sql(query, TaskSort(sort_key, descending=True), 51, None)
    plan = query_plan(lists_store.path, sql, params)

    assert index in plan
    assert "TEMP B-TREE" not in plan


async def test_json_page_keys_read_from_type_index_alone(lists_store: SQLiteRepository) -> None:
    query = TaskQuery(status="notget", data_type="2", visible=EDITOR_VISIBILITY)
    sort = TaskSort(TaskSortField.UPDATED_AT, descending=True)

    sql, params = _find_sql(query, sort, 51, None, page_keys_select(sort))
    plan = query_plan(lists_store.path, sql, params)

    assert "COVERING INDEX task_status_type_updated_idx" in plan
    assert "TEMP B-TREE" not in plan


async def test_unclaimed_page_after_cursor_uses_type_index(lists_store: SQLiteRepository) -> None:
    await lists_store.insert_tasks([task(f"t{number}", updated_at=T0 + number) for number in range(5)], [])
    query = TaskQuery(status="notget", data_type="2", visible=EDITOR_VISIBILITY)
    sort = TaskSort(TaskSortField.UPDATED_AT, descending=True)
    _, cursor = await lists_store.find_tasks(query, sort, 2)
    assert cursor is not None

    sql, params = _find_sql(query, sort, 3, cursor)
    plan = query_plan(lists_store.path, sql, params)

    assert "task_status_type_updated_idx" in plan
    assert "TEMP B-TREE" not in plan


async def test_unclaimed_filter_drops_visibility_clause(lists_store: SQLiteRepository) -> None:
    """A list of unclaimed tasks is visible to every user, so its SQL needs no visibility clause."""
    await lists_store.insert_tasks(
        [task("free"), task("mine", status="running", user="alice"), task("other", status="running", user="bob")], []
    )
    query = TaskQuery(status="notget", visible=EDITOR_VISIBILITY)

    sql, _ = _find_sql(query, TaskSort(), 10, None)
    found, _ = await lists_store.find_tasks(query, TaskSort(), 10)

    assert "json_each" not in sql
    assert [record.task_id for record in found] == ["free"]


async def test_running_filter_keeps_visibility_clause(lists_store: SQLiteRepository) -> None:
    await lists_store.insert_tasks(
        [task("free"), task("mine", status="running", user="alice"), task("other", status="running", user="bob")], []
    )
    query = TaskQuery(status="running", visible=EDITOR_VISIBILITY)

    found, _ = await lists_store.find_tasks(query, TaskSort(), 10)

    assert [record.task_id for record in found] == ["mine"]
    assert await lists_store.count_tasks(query) == 1


# Counts kept by triggers.


@pytest.mark.parametrize(
    "query",
    [
        TaskQuery(),
        TaskQuery(status="notget"),
        TaskQuery(status="notget", data_type="2"),
        TaskQuery(data_type="3", include_missing=True),
        TaskQuery(status="notget", data_type="2", visible=EDITOR_VISIBILITY),
    ],
)
def test_count_sql_reads_task_count(query: TaskQuery) -> None:
    sql, _ = _count_sql(query)

    assert "FROM task_count" in sql


@pytest.mark.parametrize(
    "query",
    [
        TaskQuery(status="notget", user="alice"),
        TaskQuery(status="notget", text="x"),
        TaskQuery(service_urls=(URL_A,)),
        TaskQuery(status="running", visible=EDITOR_VISIBILITY),
        TaskQuery(visible=EDITOR_VISIBILITY),
    ],
)
def test_count_sql_scans_other_filters(query: TaskQuery) -> None:
    sql, _ = _count_sql(query)

    assert "FROM task WHERE" in sql


async def test_task_count_follows_writes(lists_store: SQLiteRepository) -> None:
    path = lists_store.path
    await lists_store.insert_tasks(
        [task(f"a{number}") for number in range(6)] + [task(f"b{number}", data_type="3") for number in range(4)], []
    )
    claimed = ClaimRequest(task_id="a0", user="alice", actor="alice", at=T0 + 1)
    await lists_store.change_owner(claimed)
    await lists_store.set_missing(URL_A, ["a1", "b0"], True, T0 + 2)
    [moved] = await lists_store.get_tasks(["b1"])
    moved.data_type, moved.status = "2", "finish"
    assert await lists_store.update_tasks([(moved, moved.version)], []) == []

    expected = [
        (TaskQuery(), 8),
        (TaskQuery(include_missing=True), 10),
        (TaskQuery(status="notget"), 6),
        (TaskQuery(status="notget", data_type="2"), 4),
        (TaskQuery(status="notget", data_type="3"), 2),
        (TaskQuery(status="running", data_type="2"), 1),
        (TaskQuery(status="finish"), 1),
        (TaskQuery(status="notget", include_missing=True), 8),
    ]
    for query, count in expected:
        assert await lists_store.count_tasks(query) == count, query
    assert counted_by_scan(path, "WHERE missing = 0") == 8


async def test_migration_counts_existing_tasks(tmp_path: Path) -> None:
    """Migration 3 fills task_count from the tasks a database already contains."""
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for _, _, script in MIGRATIONS[:2]:
            for statement in split_statements(script):
                connection.execute(statement)
        connection.execute(
            "CREATE TABLE schema_migration "
            "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        connection.executemany("INSERT INTO schema_migration VALUES (?, ?, 0)", [(1, "one"), (2, "two")])
        connection.executemany(
            "INSERT INTO task (task_id, service_url, status, data_type, missing, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [("x1", URL_A, "notget", "2", 0, T0, T0), ("x2", URL_A, "notget", "2", 0, T0, T0),
             ("x3", URL_A, "running", "2", 0, T0, T0), ("x4", URL_A, "notget", "2", 1, T0, T0)],
        )

        assert migrate(connection)[0] == 3
        rows = connection.execute("SELECT status, data_type, missing, tasks FROM task_count ORDER BY 1, 3").fetchall()
    finally:
        connection.close()

    assert rows == [("notget", "2", 0, 2), ("notget", "2", 1, 1), ("running", "2", 0, 1)]


# Migration scripts.


def test_split_statements_keeps_trigger_whole() -> None:
    script = """
        CREATE TABLE a (x);
        CREATE TRIGGER a_insert AFTER INSERT ON a BEGIN
            UPDATE a SET x = 1;
            UPDATE a SET x = 2;
        END;
    """

    statements = split_statements(script)

    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")


def test_split_statements_incomplete_rejected() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1;")


# The JSON cache of task pages.


def test_json_cache_key_must_match() -> None:
    cache = TaskJsonCache()
    cache.put("t1", (2, T0), b'{"v":2}')

    assert cache.get("t1", (2, T0)) == b'{"v":2}'
    assert cache.get("t1", (3, T0)) is None
    assert cache.get("t1", (2, T0 + 1)) is None
    assert cache.get("t2", (2, T0)) is None


def test_json_cache_evicts_first_stored() -> None:
    cache = TaskJsonCache(max_bytes=4)
    cache.put("t1", (1, T0), b"1")
    cache.put("t2", (1, T0), b"22")
    cache.put("t1", (2, T0), b"1b")

    cache.put("t3", (1, T0), b"3")

    assert cache.size == 3
    assert cache.get("t2", (1, T0)) is None
    assert cache.get("t1", (2, T0)) == b"1b"
    assert cache.get("t3", (1, T0)) == b"3"


def test_json_cache_skips_oversized_document() -> None:
    cache = TaskJsonCache(max_bytes=4)
    cache.put("small", (1, T0), b"1")

    cache.put("large", (1, T0), b"12345")

    assert cache.get("large", (1, T0)) is None
    assert cache.get("small", (1, T0)) == b"1"
    assert cache.size == 1


def quick_reads_on_loop() -> float:
    return REGISTRY.get_sample_value("taskdash_sqlite_quick_reads_total", {"outcome": "on_loop"}) or 0.0


async def test_json_page_with_text_filter_reads_on_thread(lists_store: SQLiteRepository) -> None:
    await lists_store.insert_tasks([task("t1", description="find me")], [])
    sort = TaskSort(TaskSortField.CREATED_AT)
    before = quick_reads_on_loop()

    plain = await lists_store.task_json_page(TaskQuery(), sort, 10)
    after_plain = quick_reads_on_loop()
    searched = await lists_store.task_json_page(TaskQuery(text="find"), sort, 10)

    assert plain.total == 1
    assert searched.total == 1
    assert after_plain == before + 1
    assert quick_reads_on_loop() == after_plain
