"""Creation of the `admin` user on the first start of an app whose store has no users."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from structlog.testing import capture_logs

from taskdash.accounts.admin import create_first_admin
from taskdash.accounts.users import _verify, create_user
from taskdash.app import create_app
from taskdash.config import load_settings
from taskdash.store.sqlite.repository import SQLiteRepository

PASSWORD = "correct-horse-1"
NO_POLL_NETWORK = "192.0.2.0/24"


def start_app(tmp_path: Path, **settings: object) -> TestClient:
    return TestClient(create_app(load_settings(
        database_url=f"sqlite:///{tmp_path}/app.db", allowed_service_networks=[NO_POLL_NETWORK], **settings
    )))


def login_status(client: TestClient, password: str) -> int:
    return client.post("/api/v1/session", json={"username": "admin", "password": password}).status_code


def test_first_start_prints_generated_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with capture_logs() as logs, start_app(tmp_path) as client:
        stderr = capsys.readouterr().err
        line = next(line for line in stderr.splitlines() if "created the user 'admin'" in line)
        password = line.rsplit(" ", 1)[1]

        assert login_status(client, password) == 200
        assert client.get("/api/v1/session").json()["roles"] == ["admin"]

    created = [entry for entry in logs if entry["event"] == "admin_created"]
    assert created == [{"event": "admin_created", "user": "admin", "password_source": "generated", "log_level": "info"}]
    assert password not in repr(logs)


def test_second_start_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with start_app(tmp_path):
        pass
    capsys.readouterr()

    with capture_logs() as logs, start_app(tmp_path):
        stderr = capsys.readouterr().err

    assert "admin" not in stderr
    assert "admin_created" not in [entry["event"] for entry in logs]


def test_first_start_uses_admin_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with start_app(tmp_path, admin_password=PASSWORD) as client:
        assert "admin" not in capsys.readouterr().err
        assert login_status(client, PASSWORD) == 200


def test_admin_password_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKDASH_ADMIN_PASSWORD", PASSWORD)

    with start_app(tmp_path) as client:
        assert login_status(client, PASSWORD) == 200


def test_short_admin_password_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKDASH_ADMIN_PASSWORD", "short")

    with pytest.raises(ValidationError, match="invalid TASKDASH_ADMIN_PASSWORD"):
        load_settings()


def test_empty_admin_password_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKDASH_ADMIN_PASSWORD", "")

    assert load_settings().admin_password is None


async def test_existing_users_skip_admin(store: SQLiteRepository) -> None:
    await create_user(store, "alice", PASSWORD, ["editor"], [])

    assert await create_first_admin(store, None) is None
    assert await store.get_user("admin") is None


async def test_admin_created_elsewhere_is_kept(store: SQLiteRepository) -> None:
    """An `admin` that appears between the check and the insert, as from a second instance, stays as it is."""
    await create_user(store, "admin", PASSWORD, ["admin"], [])
    list_users = store.list_users

    async def no_users_yet() -> list:
        await list_users()
        return []

    store.list_users = no_users_yet  # type: ignore[method-assign]

    assert await create_first_admin(store, "other-password-1") is None
    assert _verify((await store.get_user("admin")).password_hash, PASSWORD)


def warnings_of(logs: list[dict]) -> list[str]:
    return [entry["event"] for entry in logs if entry["log_level"] == "warning"]


async def test_ignored_admin_password_warns(store: SQLiteRepository) -> None:
    await create_user(store, "root", PASSWORD, ["admin"], [])

    with capture_logs() as logs:
        assert await create_first_admin(store, "other-password-1") is None

    assert warnings_of(logs) == ["admin_password_ignored"]
    assert "other-password-1" not in repr(logs)


async def test_no_admin_warns_with_fix(store: SQLiteRepository) -> None:
    await create_user(store, "alice", PASSWORD, ["editor"], [])

    with capture_logs() as logs:
        await create_first_admin(store, None)

    assert warnings_of(logs) == ["no_enabled_admin"]
    assert "taskdash user add NAME --role admin --password-stdin" in logs[0]["hint"]


async def test_disabled_admin_warns(store: SQLiteRepository) -> None:
    await create_user(store, "root", PASSWORD, ["admin"], [])
    await store.update_user("root", disabled=True)

    with capture_logs() as logs:
        await create_first_admin(store, None)

    assert warnings_of(logs) == ["no_enabled_admin"]


async def test_enabled_admin_no_warning(store: SQLiteRepository) -> None:
    await create_user(store, "root", PASSWORD, ["admin"], [])

    with capture_logs() as logs:
        await create_first_admin(store, None)

    assert warnings_of(logs) == []


def test_start_after_cli_users_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Users made with `taskdash user add` before the first start, none of them an admin."""
    async def add_editor() -> None:
        store = await SQLiteRepository.open(f"sqlite:///{tmp_path}/app.db")
        try:
            await create_user(store, "alice", PASSWORD, ["editor"], [])
        finally:
            await store.close()

    asyncio.run(add_editor())

    with capture_logs() as logs, start_app(tmp_path, admin_password=PASSWORD) as client:
        assert login_status(client, PASSWORD) == 401

    assert "admin_password_ignored" in warnings_of(logs)
    assert "no_enabled_admin" in warnings_of(logs)
    assert "admin" not in capsys.readouterr().err
