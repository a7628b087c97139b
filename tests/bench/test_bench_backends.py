"""bench.backends: the store of a scenario on each backend, and the prefill through insert_tasks."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psutil
import pytest
from pymongo import MongoClient

from bench.backends import FERRETDB, FERRETDB_SOCKET_TIMEOUT_MS, SQLITE, fresh_store, prefill_tasks
from taskdash.store.mongo import documents as docs
from taskdash.store.mongo.schema import INDEXES
from taskdash.store.records import TaskRecord

SERVICE_URL = "http://127.0.0.1:9/rpost/bench-test"


def tasks(count: int, prefix: str = "t-") -> list[TaskRecord]:
    now = time.time()
    return [
        TaskRecord(task_id=f"{prefix}{index}", service_url=SERVICE_URL, status="notget", data_type="2",
                   description=f"task {index}", service_status="notget", reserved="no", created_at=now,
                   updated_at=now)
        for index in range(count)
    ]


def test_fresh_store_sqlite_is_a_file_in_workdir(tmp_path: Path) -> None:
    with fresh_store(SQLITE, tmp_path, "scenario") as store:
        assert store.database_url == f"sqlite:///{tmp_path / 'scenario.db'}"
        assert store.ferretdb_pid is None
        assert store.label == "SQLite"
        assert store.shown_url("PREFILLED") == "sqlite:///PREFILLED.db"


def test_fresh_store_ferretdb_stops_after_block(tmp_path: Path) -> None:
    with fresh_store(FERRETDB, tmp_path, "scenario") as store:
        pid = store.ferretdb_pid
        assert pid is not None
        assert psutil.pid_exists(pid)
        assert store.database_url.startswith("mongodb://127.0.0.1:")
        assert store.database_url.endswith(f"/scenario?socketTimeoutMS={FERRETDB_SOCKET_TIMEOUT_MS}")
        assert store.shown_url("FRESH") == f"mongodb://FERRETDB/FRESH?socketTimeoutMS={FERRETDB_SOCKET_TIMEOUT_MS}"

    assert not psutil.pid_exists(pid)


def test_fresh_store_rejects_unknown_backend(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown backend 'postgres'"):
        with fresh_store("postgres", tmp_path, "scenario"):
            pass


def test_prefill_sqlite_stores_every_task(tmp_path: Path) -> None:
    with fresh_store(SQLITE, tmp_path, "scenario") as store:
        prefill_tasks(store.database_url, iter(tasks(25)), batch=10)

    with sqlite3.connect(tmp_path / "scenario.db") as connection:
        assert connection.execute("SELECT count(*) FROM task").fetchone()[0] == 25


def test_prefill_ferretdb_uses_mongo_store_layout(tmp_path: Path) -> None:
    written = tasks(25)
    with fresh_store(FERRETDB, tmp_path, "scenario") as store:
        prefill_tasks(store.database_url, iter(written), batch=10)

        client: MongoClient = MongoClient(store.database_url)
        try:
            database = client.get_default_database()
            stored = database[docs.MANAGEMENT].find_one({"_id": "t-7"})
            mirrored = database[docs.METADATA].find_one({"_id": "t-7"})
            management_count = database[docs.MANAGEMENT].count_documents({})
            metadata_count = database[docs.METADATA].count_documents({})
            index_names = {
                collection: {index["name"] for index in database[collection].list_indexes()}
                for collection in INDEXES
            }
        finally:
            client.close()

    assert management_count == 25
    assert metadata_count == 25
    expected = docs.task_document(written[7], seq=0)
    assert set(stored) == set(expected)
    assert {key: stored[key] for key in docs.task_fields(written[7])} == docs.task_fields(written[7])
    assert mirrored == {"_id": "t-7", **docs.metadata_fields(written[7])}
    for collection, indexes in INDEXES.items():
        assert {index.document["name"] for index in indexes} <= index_names[collection], collection


def test_prefill_rejects_taken_task_ids(tmp_path: Path) -> None:
    with fresh_store(SQLITE, tmp_path, "scenario") as store:
        prefill_tasks(store.database_url, iter(tasks(3)))

        with pytest.raises(RuntimeError, match="3 task ids are taken already, the first 't-0'"):
            prefill_tasks(store.database_url, iter(tasks(3)))


def test_prefill_rejects_store_with_other_tasks(tmp_path: Path) -> None:
    with fresh_store(SQLITE, tmp_path, "scenario") as store:
        prefill_tasks(store.database_url, iter(tasks(3, prefix="old-")))

        with pytest.raises(RuntimeError, match="it inserted 2 tasks, but the store counts 5"):
            prefill_tasks(store.database_url, iter(tasks(2)))
