"""The Authenticator's short cache of resolved sessions: reuse, expiry and revocation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from taskdash.accounts.throttle import LoginThrottle
from taskdash.accounts.users import Authenticator, hash_password, hash_token
from taskdash.errors import NotLoggedIn
from taskdash.store.records import Session, User
from taskdash.store.sqlite.repository import SQLiteRepository

PASSWORD = "password-1"
CACHE_SECONDS = 1.0


class FakeClock:
    """A monotonic clock that moves only when a test changes `now`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """A real SQLite store whose session reads are counted."""

    def __init__(self, repository: SQLiteRepository) -> None:
        self.repository = repository
        self.session_reads = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.repository, name)

    async def get_session(self, token_hash: str) -> Session | None:
        self.session_reads += 1
        return await self.repository.get_session(token_hash)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    repository = await SQLiteRepository.open(f"sqlite:///{tmp_path}/sessions.db")
    await repository.add_user(User("alice", hash_password(PASSWORD), ("editor",), created_at=time.time()))
    yield CountingStore(repository)
    await repository.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def authenticator(store: CountingStore, clock: FakeClock) -> Authenticator:
    return Authenticator(
        store, 3600, LoginThrottle(5, 300), cache_seconds=CACHE_SECONDS, monotonic=clock  # type: ignore[arg-type]
    )


async def log_in(authenticator: Authenticator) -> str:
    return (await authenticator.login("alice", PASSWORD, "127.0.0.1")).token


async def test_cached_session_skips_store(authenticator: Authenticator, store: CountingStore) -> None:
    token = await log_in(authenticator)

    for _ in range(5):
        assert (await authenticator.user_for_token(token)).username == "alice"

    assert store.session_reads == 1


async def test_cached_session_reread_after_expiry(
    authenticator: Authenticator, store: CountingStore, clock: FakeClock
) -> None:
    token = await log_in(authenticator)
    await authenticator.user_for_token(token)

    clock.now += CACHE_SECONDS + 0.01
    await authenticator.user_for_token(token)

    assert store.session_reads == 2


async def test_logout_takes_effect_at_once(authenticator: Authenticator) -> None:
    token = await log_in(authenticator)
    await authenticator.user_for_token(token)

    await authenticator.logout(token)

    with pytest.raises(NotLoggedIn):
        await authenticator.user_for_token(token)


async def test_revocation_elsewhere_after_cache_expiry(
    authenticator: Authenticator, store: CountingStore, clock: FakeClock
) -> None:
    """A session deleted by another instance stays usable here until the cached entry expires."""
    token = await log_in(authenticator)
    await authenticator.user_for_token(token)
    await store.repository.delete_session(hash_token(token))

    assert (await authenticator.user_for_token(token)).username == "alice"
    clock.now += CACHE_SECONDS + 0.01
    with pytest.raises(NotLoggedIn):
        await authenticator.user_for_token(token)


async def test_disabled_user_after_cache_expiry(
    authenticator: Authenticator, store: CountingStore, clock: FakeClock
) -> None:
    token = await log_in(authenticator)
    await authenticator.user_for_token(token)
    await store.repository.update_user("alice", disabled=True)

    clock.now += CACHE_SECONDS + 0.01

    with pytest.raises(NotLoggedIn, match="disabled"):
        await authenticator.user_for_token(token)


async def test_expired_session_not_served_from_cache(store: CountingStore, clock: FakeClock) -> None:
    """A session that expires while its cache entry is fresh is rejected at once."""
    # Long enough to survive the Argon2id check of the login on a busy machine.
    short_lived = Authenticator(
        store, 2.0, LoginThrottle(5, 300), cache_seconds=CACHE_SECONDS, monotonic=clock  # type: ignore[arg-type]
    )
    login = await short_lived.login("alice", PASSWORD, "127.0.0.1")
    await short_lived.user_for_token(login.token)

    await asyncio.sleep(max(0.0, login.expires_at - time.time()) + 0.05)

    with pytest.raises(NotLoggedIn, match="expired"):
        await short_lived.user_for_token(login.token)


async def test_lookup_overlapping_logout_not_cached(
    authenticator: Authenticator, store: CountingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup that read the session before a concurrent logout deleted it must not cache it."""
    token = await log_in(authenticator)
    reading = asyncio.Event()
    finish_read = asyncio.Event()
    original_get_user = store.repository.get_user

    async def slow_get_user(username: str) -> User | None:
        reading.set()
        await finish_read.wait()
        return await original_get_user(username)

    monkeypatch.setattr(store, "get_user", slow_get_user, raising=False)
    lookup = asyncio.create_task(authenticator.user_for_token(token))
    await reading.wait()
    await authenticator.logout(token)
    finish_read.set()
    await lookup

    with pytest.raises(NotLoggedIn):
        await authenticator.user_for_token(token)
