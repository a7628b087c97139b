"""Errors of `open_store` for database URLs that name no usable store; none needs a server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from taskdash.errors import InvalidDatabaseUrl, StoreUnavailable
from taskdash.store import open_store, redact_url


async def test_sqlite_file_of_other_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n")

    with pytest.raises(StoreUnavailable, match="file is not a database") as raised:
        await open_store(f"sqlite:///{path}")

    assert f"sqlite:///{path}" in raised.value.detail
    assert path.read_text() == "not a database\n"


async def test_sqlite_schema_newer_than_taskdash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    store = await open_store(url)
    await store.close()
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("INSERT INTO schema_migration VALUES (999, 'from a newer TaskDash', 0)")

    with pytest.raises(StoreUnavailable) as raised:
        await open_store(url)

    assert "schema version 999 is newer than this TaskDash" in raised.value.detail
    assert "upgrade TaskDash, or pass the URL of another database file" in raised.value.detail


async def test_sqlite_folder_not_creatable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(StoreUnavailable, match="opening the SQLite database .* failed"):
        await open_store(f"sqlite:///{blocker}/sub/taskdash.db")


async def test_sqlite_empty_path() -> None:
    with pytest.raises(InvalidDatabaseUrl, match="the path is empty"):
        await open_store("sqlite:///")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mongodb://127.0.0.1:1/bad db", "Bad database name"),
        ("mongodb://127.0.0.1:1/bad$name", "Bad database name"),
        ("mongodb://127.0.0.1:1/taskdash.tasks", "contains a dot"),
    ],
)
async def test_mongo_bad_database_name(url: str, reason: str) -> None:
    with pytest.raises(InvalidDatabaseUrl, match=reason) as raised:
        await open_store(url)

    assert repr(url) in raised.value.detail


async def test_mongo_url_error_hides_password() -> None:
    with pytest.raises(InvalidDatabaseUrl) as raised:
        await open_store("mongodb://reader:s3cret@127.0.0.1:1/bad db")

    assert "s3cret" not in raised.value.detail
    assert "mongodb://***@127.0.0.1:1/bad db" in raised.value.detail


async def test_unsupported_scheme() -> None:
    with pytest.raises(InvalidDatabaseUrl, match="unsupported --database-url 'postgres://") as raised:
        await open_store("postgres://db/taskdash")

    assert isinstance(raised.value, ValueError)


def test_redact_url() -> None:
    assert redact_url("mongodb://u:p@host:27017/db") == "mongodb://***@host:27017/db"
    assert redact_url("sqlite:///data/taskdash.db") == "sqlite:///data/taskdash.db"
    assert redact_url("mongodb://u:p@ss@host/db") == "mongodb://***@host/db"
    assert redact_url("mongodb://host/db?appname=a@b") == "mongodb://host/db?appname=a@b"
    assert redact_url("mongodb://u:p@h1,h2/db?w=1") == "mongodb://***@h1,h2/db?w=1"
    assert redact_url("sqlite:///srv/a@b/taskdash.db") == "sqlite:///srv/a@b/taskdash.db"
