"""SQLite schema migrations: applied once, in order, and safe when two processes open a new database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from taskdash.store.records import Registration
from taskdash.store.sqlite.repository import SQLiteRepository
from taskdash.store.sqlite.schema import MIGRATIONS, migrate

URL_A = "http://127.0.0.1:8001/rpost/a"
T0 = 1_700_000_000.0


def registration(url: str = URL_A, name: str = "abc", seen_at: float = T0) -> Registration:
    return Registration(url=url, name=name, type="2", reserved="no", extra={}, seen_at=seen_at)


def migration_versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT version FROM schema_migration ORDER BY version")]


async def test_migration_reopen_is_noop(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    first = await SQLiteRepository.open(url)
    await first.apply_intake_batch([registration()], [], [])
    await first.close()

    second = await SQLiteRepository.open(url)
    try:
        assert [record.url for record in await second.list_services()] == [URL_A]
    finally:
        await second.close()

    assert migration_versions(tmp_path / "m.db") == [version for version, _, _ in MIGRATIONS]


def test_migrate_twice_applies_nothing(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    try:
        assert migrate(connection) == [version for version, _, _ in MIGRATIONS]
        assert migrate(connection) == []
    finally:
        connection.close()


async def test_newer_schema_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    await (await SQLiteRepository.open(url)).close()
    newer = MIGRATIONS[-1][0] + 1
    with sqlite3.connect(tmp_path / "m.db") as connection:
        connection.execute(
            "INSERT INTO schema_migration (version, description, applied_at) VALUES (?, 'future', 0)", (newer,)
        )

    with pytest.raises(RuntimeError, match="newer"):
        await SQLiteRepository.open(url)


async def test_open_while_other_process_migrates(tmp_path: Path) -> None:
    """Two instances opening a new database at once: the second waits and must not migrate again."""
    path = tmp_path / "m.db"
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("PRAGMA journal_mode = WAL")
        other.execute(
            "CREATE TABLE schema_migration "
            "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        other.execute("BEGIN IMMEDIATE")
        opening = asyncio.create_task(SQLiteRepository.open(f"sqlite:///{path}"))
        # Give the open time to read the (still empty) migration table and wait for the write lock.
        await asyncio.sleep(0.5)
        version, description, script = MIGRATIONS[0]
        for statement in script.split(";"):
            if statement.strip():
                other.execute(statement)
        other.execute("INSERT INTO schema_migration VALUES (?, ?, 0)", (version, description))
        other.execute("COMMIT")

        repository = await asyncio.wait_for(opening, timeout=20)
        await repository.close()
    finally:
        other.close()

    assert migration_versions(path) == [version for version, _, _ in MIGRATIONS]
