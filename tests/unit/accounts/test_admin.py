"""Account administration against a real SQLite store."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from taskdash.accounts import admin
from taskdash.accounts.users import create_user
from taskdash.errors import InvalidRequest, PermissionDenied, UserNotFound
from taskdash.store.records import Session, User
from taskdash.store.sqlite.repository import SQLiteRepository

PASSWORD = "correct-horse-1"
NEW_PASSWORD = "battery-staple-2"
T0 = 1_700_000_000.0


@pytest.fixture
async def root(store: SQLiteRepository) -> User:
    return await create_user(store, "root", PASSWORD, ["admin"], [])


@pytest.fixture
async def alice(store: SQLiteRepository) -> User:
    return await create_user(store, "alice", PASSWORD, ["editor"], ["g1"])


async def test_set_roles_stores_parsed_roles(store: SQLiteRepository, root: User, alice: User) -> None:
    updated = await admin.set_roles(store, root, "alice", ["Checker", "editor", "checker"])

    assert updated.roles == ("checker", "editor")
    assert (await store.get_user("alice")).roles == ("checker", "editor")


@pytest.mark.parametrize("roles", [[], ["owner"]])
async def test_set_roles_invalid_rejected(store: SQLiteRepository, root: User, alice: User, roles: list[str]) -> None:
    with pytest.raises(InvalidRequest):
        await admin.set_roles(store, root, "alice", roles)

    assert (await store.get_user("alice")).roles == ("editor",)


async def test_set_groups_sorted_and_unique(store: SQLiteRepository, root: User, alice: User) -> None:
    updated = await admin.set_groups(store, root, "alice", ["g2", " g1 ", "g2"])

    assert updated.groups == ("g1", "g2")


async def test_set_groups_empty_list_clears(store: SQLiteRepository, root: User, alice: User) -> None:
    assert (await admin.set_groups(store, root, "alice", [])).groups == ()


@pytest.mark.parametrize("group", ["", "a b", "x" * 65, "g/1"])
async def test_set_groups_invalid_name_rejected(store: SQLiteRepository, root: User, alice: User, group: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid group"):
        await admin.set_groups(store, root, "alice", ["g1", group])

    assert (await store.get_user("alice")).groups == ("g1",)


async def test_set_display_name(store: SQLiteRepository, root: User, alice: User) -> None:
    assert (await admin.set_display_name(store, root, "alice", "  Alice Smith ")).display_name == "Alice Smith"
    assert (await admin.set_display_name(store, root, "alice", "")).display_name == "alice"


@pytest.mark.parametrize("name", ["x" * 129, "tab\there"])
async def test_set_display_name_invalid(store: SQLiteRepository, root: User, alice: User, name: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid display name"):
        await admin.set_display_name(store, root, "alice", name)


async def test_disable_revokes_sessions(store: SQLiteRepository, root: User, alice: User) -> None:
    await store.add_session(Session("a1", "alice", T0, T0 + 3600))
    await store.add_session(Session("r1", "root", T0, T0 + 3600))

    with capture_logs() as logs:
        updated = await admin.set_disabled(store, root, "alice", True)

    assert updated.disabled is True
    assert await store.get_session("a1") is None
    assert await store.get_session("r1") is not None
    assert {"event": "user_disabled", "user": "alice", "actor": "root", "sessions_revoked": 1,
            "log_level": "info"} in logs


async def test_enable_after_disable(store: SQLiteRepository, root: User, alice: User) -> None:
    await admin.set_disabled(store, root, "alice", True)

    assert (await admin.set_disabled(store, root, "alice", False)).disabled is False


async def test_admin_cannot_disable_self(store: SQLiteRepository, root: User) -> None:
    with pytest.raises(InvalidRequest, match="your own account"):
        await admin.set_disabled(store, root, "root", True)

    assert (await store.get_user("root")).disabled is False


async def test_admin_cannot_drop_own_admin_role(store: SQLiteRepository, root: User) -> None:
    with pytest.raises(InvalidRequest, match="your own admin role"):
        await admin.set_roles(store, root, "root", ["manager"])

    assert (await store.get_user("root")).roles == ("admin",)


async def test_admin_may_add_roles_to_self(store: SQLiteRepository, root: User) -> None:
    assert (await admin.set_roles(store, root, "root", ["admin", "manager"])).roles == ("admin", "manager")


async def test_cli_actor_may_disable_any_admin(store: SQLiteRepository, root: User) -> None:
    assert (await admin.set_disabled(store, None, "root", True)).disabled is True


async def test_non_admin_actor_denied(store: SQLiteRepository, root: User, alice: User) -> None:
    with pytest.raises(PermissionDenied):
        await admin.set_roles(store, alice, "root", ["editor"])

    assert (await store.get_user("root")).roles == ("admin",)


async def test_unknown_user_raises(store: SQLiteRepository, root: User) -> None:
    with pytest.raises(UserNotFound):
        await admin.set_disabled(store, root, "nobody", True)
    with pytest.raises(UserNotFound):
        await admin.reset_password(store, root, "nobody", NEW_PASSWORD)


async def test_reset_password_changes_hash_and_revokes(store: SQLiteRepository, root: User, alice: User) -> None:
    await store.add_session(Session("a1", "alice", T0, T0 + 3600))

    with capture_logs() as logs:
        updated = await admin.reset_password(store, root, "alice", NEW_PASSWORD)

    assert updated.password_hash.startswith("$argon2id$")
    assert updated.password_hash != alice.password_hash
    assert await store.get_session("a1") is None
    assert [entry["event"] for entry in logs] == ["password_reset"]
    assert NEW_PASSWORD not in repr(logs)
    assert updated.password_hash not in repr(logs)


async def test_reset_password_too_short(store: SQLiteRepository, root: User, alice: User) -> None:
    with pytest.raises(InvalidRequest, match="invalid password"):
        await admin.reset_password(store, root, "alice", "short")

    assert (await store.get_user("alice")).password_hash == alice.password_hash


async def test_add_user_by_admin(store: SQLiteRepository, root: User) -> None:
    created = await admin.add_user(store, root, "bob", PASSWORD, ["editor"], ["g1"], "Bob")

    assert created.display_name == "Bob"
    assert (await store.get_user("bob")).groups == ("g1",)


async def test_add_user_invalid_group(store: SQLiteRepository, root: User) -> None:
    with pytest.raises(InvalidRequest, match="invalid group"):
        await admin.add_user(store, root, "bob", PASSWORD, ["editor"], ["bad group"])

    assert await store.get_user("bob") is None
