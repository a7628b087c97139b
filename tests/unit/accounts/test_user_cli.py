"""The `taskdash user` admin commands, run in-process on a real SQLite database file."""

from __future__ import annotations

import asyncio
from pathlib import Path

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


def test_add_invalid_group_named(database_url: str) -> None:
    result = run(database_url, "add", "carol", "--role", "editor", "--group", "a b", "--password-stdin",
                 stdin=PASSWORD + "\n")

    assert result.exit_code == 1
    assert "invalid group 'a b'" in result.output
    assert stored_user(database_url, "carol") is None


COMMANDS = [
    ("list",),
    ("add", "carol", "--role", "editor", "--password-stdin"),
    ("set-roles", "alice", "--role", "editor"),
    ("set-groups", "alice", "--group", "g1"),
    ("disable", "alice"),
    ("enable", "alice"),
    ("passwd", "alice", "--password-stdin"),
]


def assert_one_error_line(result: Result, *parts: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    for part in parts:
        assert part in errors[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_file_not_database_fails_cleanly(tmp_path: Path, args: tuple[str, ...]) -> None:
    not_a_database = tmp_path / "passwd"
    not_a_database.write_text("root:x:0:0:root:/root:/bin/bash\n")
    url = f"sqlite:///{not_a_database}"

    result = run(url, *args, stdin=PASSWORD + "\n")

    assert_one_error_line(result, repr(url), "file is not a database", "pass the URL of a TaskDash database file")
    assert not_a_database.read_text() == "root:x:0:0:root:/root:/bin/bash\n"


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_invalid_mongo_url_fails_cleanly(args: tuple[str, ...]) -> None:
    # The database name is checked before any connection is made, so no server is needed.
    url = "mongodb://127.0.0.1:1/bad db"

    result = run(url, *args, stdin=PASSWORD + "\n")

    assert_one_error_line(result, repr(url), "Bad database name", "expected mongodb://")


def test_serve_checks_store_before_listening(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_database = tmp_path / "passwd"
    not_a_database.write_text("root:x:0:0:root:/root:/bin/bash\n")
    url = f"sqlite:///{not_a_database}"

    def uvicorn_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("serve started uvicorn with a store that does not open")

    monkeypatch.setattr("taskdash.cli.uvicorn.run", uvicorn_run)

    result = CliRunner().invoke(main, ["serve", "--database-url", url, "--log-format", "console"])

    assert_one_error_line(result, repr(url), "file is not a database")
