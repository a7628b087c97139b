"""The repository contract for account changes, session revocation and group listing, on every backend."""

from __future__ import annotations

import pytest

from taskdash.errors import UserNotFound
from taskdash.store.protocol import Repository
from taskdash.store.records import Session, User

T0 = 1_700_000_000.0


def user(username: str = "alice", **fields: object) -> User:
    values = {"password_hash": "$argon2id$placeholder", "roles": ("editor",), "created_at": T0, **fields}
    return User(username=username, **values)


async def test_update_user_changes_given_fields(store: Repository) -> None:
    await store.add_user(user(groups=("g1",), display_name="Alice"))

    updated = await store.update_user("alice", roles=["manager", "editor"], disabled=True)

    assert updated.roles == ("editor", "manager")
    assert updated.disabled is True
    assert updated.groups == ("g1",)
    assert updated.display_name == "Alice"
    assert await store.get_user("alice") == updated


async def test_update_user_all_fields(store: Repository) -> None:
    await store.add_user(user())

    await store.update_user(
        "alice", display_name="A. Smith", roles=["checker"], groups=["g2", "g1", "g2"], disabled=False,
        password_hash="$argon2id$new",
    )

    stored = await store.get_user("alice")
    assert stored.display_name == "A. Smith"
    assert stored.roles == ("checker",)
    assert stored.groups == ("g1", "g2")
    assert stored.disabled is False
    assert stored.password_hash == "$argon2id$new"
    assert stored.created_at == T0


async def test_update_user_without_changes_returns_user(store: Repository) -> None:
    await store.add_user(user())

    assert await store.update_user("alice") == await store.get_user("alice")


async def test_update_unknown_user_raises(store: Repository) -> None:
    with pytest.raises(UserNotFound, match="nobody"):
        await store.update_user("nobody", disabled=True)


async def test_delete_sessions_of_one_user(store: Repository) -> None:
    await store.add_session(Session("a1", "alice", T0, T0 + 3600))
    await store.add_session(Session("a2", "alice", T0, T0 + 3600))
    await store.add_session(Session("b1", "bob", T0, T0 + 3600))

    assert await store.delete_sessions_of("alice") == 2

    assert await store.get_session("a1") is None
    assert await store.get_session("a2") is None
    assert await store.get_session("b1") is not None


async def test_list_groups_from_users(store: Repository) -> None:
    await store.add_user(user("carol", groups=("g2",)))
    await store.add_user(user("alice", groups=("g1", "g2")))
    await store.add_user(user("bob", groups=("g1",)))
    await store.add_user(user("root"))

    assert await store.list_groups() == {"g1": ["alice", "bob"], "g2": ["alice", "carol"]}


async def test_list_groups_empty(store: Repository) -> None:
    await store.add_user(user())

    assert await store.list_groups() == {}
