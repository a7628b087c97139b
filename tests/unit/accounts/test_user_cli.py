"""The `taskdash user` admin commands, run in-process on a real SQLite database file."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner, Result

from taskdash.accounts.users import _verify
from taskdash.cli import main
from taskdash.store.records import Session, User
from taskdash.store.sqlite.repository import SQLiteRepository

PASSWORD = "correct-horse-1"
NEW_PASSWORD = "battery-staple-2"


def run(database_url: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["user", *args, "--database-url", database_url], input=stdin)


def stored_user(database_url: str, username: str) -> User | None:
    async def work() -> User | None:
        store = await SQLiteRepository.open(database_url)
        try:
            return await store.get_user(username)
        finally:
            await store.close()

    return asyncio.run(work())


def add_session(database_url: str, session: Session) -> None:
    async def work() -> None:
        store = await SQLiteRepository.open(database_url)
        try:
            await store.add_session(session)
        finally:
            await store.close()

    asyncio.run(work())


def session_exists(database_url: str, token_hash: str) -> bool:
    async def work() -> bool:
        store = await SQLiteRepository.open(database_url)
        try:
            return await store.get_session(token_hash) is not None
        finally:
            await store.close()

    return asyncio.run(work())


@pytest.fixture
def alice(database_url: str) -> str:
    result = run(database_url, "add", "alice", "--role", "editor", "--group", "g1", "--password-stdin",
                 stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return "alice"


def test_set_roles(database_url: str, alice: str) -> None:
    result = run(database_url, "set-roles", "alice", "--role", "checker", "--role", "manager")

    assert result.exit_code == 0, result.output
    assert "checker, manager" in result.output
    assert stored_user(database_url, "alice").roles == ("checker", "manager")


def test_set_roles_unknown_role(database_url: str, alice: str) -> None:
    result = run(database_url, "set-roles", "alice", "--role", "owner")

    assert result.exit_code == 2
    assert stored_user(database_url, "alice").roles == ("editor",)


def test_set_groups(database_url: str, alice: str) -> None:
    result = run(database_url, "set-groups", "alice", "--group", "g2", "--group", "g3")

    assert result.exit_code == 0, result.output
    assert stored_user(database_url, "alice").groups == ("g2", "g3")


def test_set_groups_none(database_url: str, alice: str) -> None:
    result = run(database_url, "set-groups", "alice", "--no-groups")

    assert result.exit_code == 0, result.output
    assert stored_user(database_url, "alice").groups == ()


def test_set_groups_without_option(database_url: str, alice: str) -> None:
    result = run(database_url, "set-groups", "alice")

    assert result.exit_code == 2
    assert "--no-groups" in result.output


def test_set_groups_invalid_name(database_url: str, alice: str) -> None:
    result = run(database_url, "set-groups", "alice", "--group", "bad group")

    assert result.exit_code == 1
    assert "invalid group" in result.output


def test_disable_revokes_sessions(database_url: str, alice: str) -> None:
    add_session(database_url, Session("a1", "alice", 0.0, 2e9))

    result = run(database_url, "disable", "alice")

    assert result.exit_code == 0, result.output
    assert stored_user(database_url, "alice").disabled is True
    assert not session_exists(database_url, "a1")


def test_enable(database_url: str, alice: str) -> None:
    run(database_url, "disable", "alice")

    result = run(database_url, "enable", "alice")

    assert result.exit_code == 0, result.output
    assert stored_user(database_url, "alice").disabled is False


def test_unknown_user_fails(database_url: str, alice: str) -> None:
    for args in (("disable", "bob"), ("enable", "bob"), ("set-roles", "bob", "--role", "editor")):
        result = run(database_url, *args)

        assert result.exit_code == 1
        assert "'bob' not found" in result.output


def test_passwd(database_url: str, alice: str) -> None:
    add_session(database_url, Session("a1", "alice", 0.0, 2e9))

    result = run(database_url, "passwd", "alice", "--password-stdin", stdin=NEW_PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    password_hash = stored_user(database_url, "alice").password_hash
    assert _verify(password_hash, NEW_PASSWORD)
    assert not session_exists(database_url, "a1")


def test_passwd_too_short(database_url: str, alice: str) -> None:
    result = run(database_url, "passwd", "alice", "--password-stdin", stdin="short\n")

    assert result.exit_code == 1
    assert "invalid password" in result.output
    assert _verify(stored_user(database_url, "alice").password_hash, PASSWORD)


def test_passwd_without_stdin_flag(database_url: str, alice: str) -> None:
    result = run(database_url, "passwd", "alice")

    assert result.exit_code == 2
    assert "--password-stdin" in result.output
