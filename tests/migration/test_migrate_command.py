"""`taskdash migrate` in-process through click's CliRunner, on SQLite files and FerretDB (or MongoDB)."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pymongo import MongoClient

from devtools.procs import FerretDB, closed_port
from taskdash.cli import main
from taskdash.store import open_store
from taskdash.store.mongo import documents as docs
from taskdash.store.records import User
from tests.migration.conftest import NewMongoUrl
from tests.store.conftest import drop_database
from tests.migration.data import (
    SERVICE_URLS,
    Snapshot,
    archive_service,
    fill_url,
    run,
    snapshot_url,
    sqlite_rows,
)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put back the root logger's handlers, which the command points at CliRunner's stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def migrate(source: str, target: str, *options: str) -> Result:
    return CliRunner().invoke(main, ["migrate", "--from", source, "--to", target, "--log-format", "json", *options])


def assert_same(expected: Snapshot, actual: Snapshot) -> None:
    """Compare two snapshots kind by kind, so that a failure names the kind."""
    assert actual.services == expected.services
    assert actual.tasks == expected.tasks
    assert actual.insertion_order == expected.insertion_order
    assert actual.history == expected.history
    assert actual.users == expected.users
    assert actual.groups == expected.groups
    assert actual.sessions == expected.sessions
    assert actual.dead_letters == expected.dead_letters


def mongo_database(url: str):  # type: ignore[no-untyped-def]
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=5000)
    return client, client.get_default_database()


def create_empty_store(url: str) -> None:
    async def work() -> None:
        store = await open_store(url)
        await store.close()

    run(work())


def add_user(url: str, username: str) -> None:
    async def work() -> None:
        store = await open_store(url)
        try:
            await store.add_user(User(username, "$argon2id$x", ("admin",), (), "", False, 1.0))
        finally:
            await store.close()

    run(work())


# Full copies.


def test_sqlite_to_mongo_copies_every_field(sqlite_source: str, mongo_url: str) -> None:
    fill_url(sqlite_source)
    archive_service(sqlite_source, SERVICE_URLS[2])
    expected = snapshot_url(sqlite_source)

    result = migrate(sqlite_source, mongo_url)

    assert result.exit_code == 0, result.output
    assert_same(expected, snapshot_url(mongo_url))
    assert any(service.archived for service in expected.services)
    assert any(service.task_count for service in expected.services)


def test_sqlite_to_mongo_writes_mirrors(sqlite_source: str, mongo_url: str) -> None:
    fill_url(sqlite_source)
    expected = snapshot_url(sqlite_source)

    result = migrate(sqlite_source, mongo_url)

    assert result.exit_code == 0, result.output
    client, database = mongo_database(mongo_url)
    try:
        mirrors = {document.pop("_id"): document for document in database[docs.METADATA].find()}
        groups = {document["_id"]: document["members"] for document in database[docs.GROUP].find()}
        seqs = [document["_id"] for document in database[docs.MANAGEMENT].find().sort("seq", 1)]
    finally:
        client.close()
    assert mirrors == {task.task_id: docs.metadata_fields(task) for task in expected.tasks}
    assert groups == expected.groups
    assert seqs == expected.insertion_order


def test_mongo_to_sqlite_copies_every_field(mongo_url: str, sqlite_target: str) -> None:
    fill_url(mongo_url)
    archive_service(mongo_url, SERVICE_URLS[1])
    expected = snapshot_url(mongo_url)

    result = migrate(mongo_url, sqlite_target)

    assert result.exit_code == 0, result.output
    assert_same(expected, snapshot_url(sqlite_target))


def test_round_trip_keeps_every_row(sqlite_source: str, mongo_url: str, tmp_path: Path) -> None:
    fill_url(sqlite_source)
    archive_service(sqlite_source, SERVICE_URLS[0])
    back = tmp_path / "back.db"

    to_mongo = migrate(sqlite_source, mongo_url)
    to_sqlite = migrate(mongo_url, f"sqlite:///{back}")

    assert to_mongo.exit_code == 0, to_mongo.output
    assert to_sqlite.exit_code == 0, to_sqlite.output
    original, copied = sqlite_rows(tmp_path / "source.db"), sqlite_rows(back)
    for table, rows in original.items():
        assert copied[table] == rows, table


def test_sqlite_to_sqlite(sqlite_source: str, sqlite_target: str) -> None:
    fill_url(sqlite_source)
    expected = snapshot_url(sqlite_source)

    result = migrate(sqlite_source, sqlite_target)

    assert result.exit_code == 0, result.output
    assert_same(expected, snapshot_url(sqlite_target))


def test_mongo_to_mongo(new_mongo_url: NewMongoUrl) -> None:
    source, target = new_mongo_url(), new_mongo_url()
    fill_url(source)
    expected = snapshot_url(source)

    result = migrate(source, target)

    assert result.exit_code == 0, result.output
    assert_same(expected, snapshot_url(target))


def test_summary_and_progress_lines(sqlite_source: str, sqlite_target: str) -> None:
    fill_url(sqlite_source)

    result = migrate(sqlite_source, sqlite_target)

    assert result.exit_code == 0, result.output
    assert ["tasks", "40", "40"] in [line.split() for line in result.stdout.splitlines()]
    assert "the counts match" in result.stdout
    assert "tasks: 40/40 (100%) done" in result.stderr
    assert "history: copying 60 records" in result.stderr


def test_urls_from_environment(sqlite_source: str, sqlite_target: str) -> None:
    fill_url(sqlite_source, tasks=2)
    environment = {"TASKDASH_MIGRATE_FROM": sqlite_source, "TASKDASH_MIGRATE_TO": sqlite_target}

    result = CliRunner().invoke(main, ["migrate", "--log-format", "json"], env=environment)

    assert result.exit_code == 0, result.output
    assert [task.task_id for task in snapshot_url(sqlite_target).tasks] == ["task-00001", "task-00002"]


def test_empty_source_copies_nothing(tmp_path: Path, sqlite_target: str) -> None:
    source = f"sqlite:///{tmp_path / 'empty.db'}"
    create_empty_store(source)

    result = migrate(source, sqlite_target)

    assert result.exit_code == 0, result.output
    assert ["tasks", "0", "0"] in [line.split() for line in result.stdout.splitlines()]


# Reruns, verification and targets that hold data.


def test_rerun_after_success_only_verifies(sqlite_source: str, mongo_url: str) -> None:
    fill_url(sqlite_source)
    first = migrate(sqlite_source, mongo_url)

    second = migrate(sqlite_source, mongo_url)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "already held a finished migration" in second.stdout
    assert snapshot_url(mongo_url) == snapshot_url(sqlite_source)


def test_tampered_mongo_target_fails_verification(sqlite_source: str, mongo_url: str) -> None:
    fill_url(sqlite_source)
    assert migrate(sqlite_source, mongo_url).exit_code == 0
    client, database = mongo_database(mongo_url)
    try:
        database[docs.MANAGEMENT].delete_one({})
    finally:
        client.close()

    result = migrate(sqlite_source, mongo_url)

    assert result.exit_code == 3, result.output
    assert "tasks: source has 40, target has 39" in result.stderr
    assert "--replace" in result.stderr


def test_tampered_sqlite_target_fails_verification(sqlite_source: str, sqlite_target: str) -> None:
    fill_url(sqlite_source)
    assert migrate(sqlite_source, sqlite_target).exit_code == 0
    with sqlite3.connect(sqlite_target.removeprefix("sqlite:///")) as connection:
        connection.execute("DELETE FROM session WHERE rowid IN (SELECT rowid FROM session LIMIT 1)")
        connection.execute("DELETE FROM dead_letter WHERE id = 1")

    result = migrate(sqlite_source, sqlite_target)

    assert result.exit_code == 3, result.output
    assert "sessions: source has 4, target has 3" in result.stderr
    assert "dead_letters: source has 2, target has 1" in result.stderr


def test_target_with_data_is_rejected(sqlite_source: str, sqlite_target: str) -> None:
    fill_url(sqlite_source)
    add_user(sqlite_target, "admin")

    result = migrate(sqlite_source, sqlite_target)

    assert result.exit_code == 1, result.output
    assert "already contains TaskDash data (users: 1)" in result.stderr
    assert "--replace" in result.stderr
    assert [user.username for user in snapshot_url(sqlite_target).users] == ["admin"]


def test_replace_deletes_target_data(sqlite_source: str, mongo_url: str) -> None:
    fill_url(sqlite_source)
    add_user(mongo_url, "admin")

    result = migrate(sqlite_source, mongo_url, "--replace")

    assert result.exit_code == 0, result.output
    assert_same(snapshot_url(sqlite_source), snapshot_url(mongo_url))


def test_target_of_another_source_is_rejected(sqlite_source: str, tmp_path: Path, mongo_url: str) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    fill_url(sqlite_source)
    fill_url(other, tasks=3)
    assert migrate(other, mongo_url).exit_code == 0

    result = migrate(sqlite_source, mongo_url)

    assert result.exit_code == 1, result.output
    assert f"contains a migration from sqlite:///{tmp_path / 'other.db'}" in result.stderr


# Invalid input and unusable stores.


@pytest.mark.parametrize(
    "url",
    [
        "postgres://bob:hunter22@db:5432/taskdash",
        "sqlite://relative.db",
        "sqlite:///",
        "mongodb:///taskdash",
        "mongodb://127.0.0.1:27017/a/b",
        "taskdash.db",
    ],
)
def test_invalid_url_is_a_usage_error(url: str, sqlite_target: str) -> None:
    result = migrate(url, sqlite_target)

    assert result.exit_code == 2, result.output
    assert "invalid --from" in result.stderr
    assert "sqlite:///PATH or mongodb://HOST:PORT/DATABASE" in result.stderr
    assert "hunter22" not in result.output


def test_invalid_target_url_names_to(sqlite_source: str) -> None:
    result = migrate(sqlite_source, "mysql://root:hunter22@127.0.0.1/taskdash")

    assert result.exit_code == 2, result.output
    assert "invalid --to 'mysql://root:***@127.0.0.1/taskdash'" in result.stderr
    assert "hunter22" not in result.output


def test_same_sqlite_file_is_rejected(sqlite_source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill_url(sqlite_source, tasks=1)
    monkeypatch.chdir(tmp_path)

    result = migrate(sqlite_source, "sqlite:///source.db")

    assert result.exit_code == 2, result.output
    assert "--from and --to name the same store" in result.stderr


def test_sqlite_link_to_source_is_rejected(sqlite_source: str, tmp_path: Path) -> None:
    fill_url(sqlite_source, tasks=1)
    (tmp_path / "link.db").symlink_to(tmp_path / "source.db")

    result = migrate(sqlite_source, f"sqlite:///{tmp_path / 'link.db'}")

    assert result.exit_code == 2, result.output
    assert "the same store" in result.stderr


def test_same_mongo_database_is_rejected() -> None:
    result = migrate("mongodb://alice:hunter22@LocalHost/taskdash?authSource=admin", "mongodb://localhost:27017")

    assert result.exit_code == 2, result.output
    assert "--from and --to name the same store" in result.stderr
    assert "hunter22" not in result.output


def test_unreachable_mongo_fails_without_password(sqlite_source: str) -> None:
    fill_url(sqlite_source, tasks=1)
    with closed_port() as port:
        target = f"mongodb://bob:hunter22@127.0.0.1:{port}/taskdash?serverSelectionTimeoutMS=300"

        result = migrate(sqlite_source, target)

    assert result.exit_code == 1, result.output
    assert f"connecting to the target MongoDB at 127.0.0.1:{port} (database 'taskdash') failed" in result.stderr
    assert "check that the server runs" in result.stderr
    assert "hunter22" not in result.output


def test_missing_sqlite_source_fails(tmp_path: Path, sqlite_target: str) -> None:
    result = migrate(f"sqlite:///{tmp_path / 'nothing.db'}", sqlite_target)

    assert result.exit_code == 1, result.output
    assert f"the source database {tmp_path / 'nothing.db'} does not exist" in result.stderr
    assert not (tmp_path / "nothing.db").exists()


def test_foreign_sqlite_target_is_rejected(sqlite_source: str, tmp_path: Path) -> None:
    fill_url(sqlite_source, tasks=1)
    with sqlite3.connect(tmp_path / "other-app.db") as connection:
        connection.execute("CREATE TABLE invoice (id INTEGER PRIMARY KEY)")

    result = migrate(sqlite_source, f"sqlite:///{tmp_path / 'other-app.db'}")

    assert result.exit_code == 1, result.output
    assert "is not a TaskDash database" in result.stderr


def test_mongo_source_without_taskdash_is_rejected(new_mongo_url: NewMongoUrl, sqlite_target: str) -> None:
    result = migrate(new_mongo_url(), sqlite_target)

    assert result.exit_code == 1, result.output
    assert "has no TaskDash collections: check the database name in --from" in result.stderr


def test_mongo_target_with_foreign_collections_is_rejected(sqlite_source: str, mongo_url: str) -> None:
    fill_url(sqlite_source, tasks=1)
    client, database = mongo_database(mongo_url)
    try:
        database["invoices"].insert_one({"_id": 1})
    finally:
        client.close()

    result = migrate(sqlite_source, mongo_url)

    assert result.exit_code == 1, result.output
    assert "contains collections that TaskDash does not use (invoices)" in result.stderr


def test_one_mongo_server_under_two_names_is_rejected(ferretdb: FerretDB, sqlite_source: str) -> None:
    fill_url(sqlite_source, tasks=3)
    database = f"taskdash_test_{uuid.uuid4().hex[:12]}"
    source = ferretdb.database_url(database)
    assert migrate(sqlite_source, source).exit_code == 0
    expected = snapshot_url(source)
    port = ferretdb.address.rsplit(":", 1)[1]

    try:
        result = migrate(source, f"mongodb://localhost:{port}/{database}", "--replace")

        assert result.exit_code == 2, result.output
        assert "reach the same store" in result.stderr
        assert snapshot_url(source) == expected
    finally:
        drop_database(source)
