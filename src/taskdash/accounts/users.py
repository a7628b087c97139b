"""Users, passwords and server-side sessions.

Passwords are hashed with Argon2id (argon2-cffi's defaults). A session token
is 32 random bytes given to the browser in an HttpOnly cookie. The store
keeps only its SHA-256, so a leaked database contains no usable token.
Sessions live in the store, so logout works on every instance.

Each instance keeps the sessions it resolved for SESSION_CACHE_SECONDS, so
that a client's burst of requests reads the store once. Logout through this
instance removes the session from the cache at once. Anything else that ends
a session takes effect after at most SESSION_CACHE_SECONDS: a logout on
another instance, or disabling the account, changing its roles or groups,
or resetting its password on any instance.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from taskdash.accounts.roles import parse_roles
from taskdash.accounts.throttle import LoginThrottle
from taskdash.errors import InvalidRequest, NotLoggedIn, TooManyAttempts, WrongCredentials
from taskdash.store.protocol import Repository
from taskdash.store.records import Session, User

log = structlog.get_logger("taskdash.accounts")

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# How long a resolved session is used without reading the store again.
SESSION_CACHE_SECONDS = 1.0
# Above this many cached sessions, the cache is emptied before the next one is added.
MAX_CACHED_SESSIONS = 10_000

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.match(username):
        raise InvalidRequest(
            f"invalid username {username!r}: use 1-64 letters, digits or the characters _ . @ -"
        )
    return username


def check_group(group: str) -> str:
    """Return `group`, or raise InvalidRequest if it breaks the rules for usernames."""
    if not USERNAME_PATTERN.match(group):
        raise InvalidRequest(f"invalid group {group!r}: use 1-64 letters, digits or the characters _ . @ -")
    return group


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"invalid password: it must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
        )
    return password


def hash_password(password: str) -> str:
    """Return the Argon2id hash of `password`; this takes tens of milliseconds, so call it off the event loop."""
    return _hasher.hash(password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def create_user(
    store: Repository, username: str, password: str, roles: list[str], groups: list[str], display_name: str = ""
) -> User:
    """Validate and store a new user with an Argon2id hash of `password`."""
    try:
        parsed_roles = parse_roles(roles)
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    check_username(username)
    check_password(password)
    clean_groups = tuple(sorted({group.strip() for group in groups if group.strip()}))
    for group in clean_groups:
        check_group(group)

    password_hash = await asyncio.to_thread(hash_password, password)
    user = User(
        username=username, password_hash=password_hash, roles=parsed_roles, groups=clean_groups,
        display_name=display_name or username, created_at=time.time(),
    )
    await store.add_user(user)
    log.info("user_created", user=username, roles=list(parsed_roles), groups=list(clean_groups))
    return user


@dataclass(slots=True, frozen=True)
class CachedSession:
    """A session resolved from the store, with the monotonic time until which it is used without a new read."""

    user: User
    expires_at: float
    fresh_until: float


@dataclass(slots=True)
class LoginResult:
    user: User
    token: str
    expires_at: float


class Authenticator:
    """Logs users in and out and resolves session tokens, with a short cache of resolved sessions."""

    def __init__(
        self, store: Repository, session_ttl: float, throttle: LoginThrottle,
        cache_seconds: float = SESSION_CACHE_SECONDS, monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._session_ttl = session_ttl
        self._throttle = throttle
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[str, CachedSession] = {}
        # Counts completed logouts. A lookup whose store reads overlapped a logout does not cache its result,
        # because it may have read the session before the logout deleted it.
        self._logouts = 0

    async def login(self, username: str, password: str, client_address: str) -> LoginResult:
        """Check the credentials and open a session; raise WrongCredentials or TooManyAttempts."""
        now = time.time()
        retry_in = self._throttle.blocked_for(username, client_address, now)
        if retry_in > 0:
            log.warning("login_throttled", user=username, client=client_address, retry_in=round(retry_in))
            raise TooManyAttempts(f"too many failed logins; try again in {retry_in:.0f} s", retry_after=retry_in)

        user = await self._store.get_user(username)
        valid = await asyncio.to_thread(_verify, user.password_hash if user else _DUMMY_HASH, password)
        if user is None or user.disabled or not valid:
            self._throttle.record_failure(username, client_address, now)
            if user is None:
                cause = "unknown user"
            elif user.disabled:
                cause = "disabled user"
            else:
                cause = "wrong password"
            log.warning("login_failed", user=username, client=client_address, cause=cause)
            raise WrongCredentials("wrong username or password")

        self._throttle.record_success(username, client_address)
        token = secrets.token_urlsafe(32)
        session = Session(hash_token(token), user.username, now, now + self._session_ttl)
        await self._store.add_session(session)
        log.info("login", user=user.username, client=client_address)
        return LoginResult(user, token, session.expires_at)

    async def logout(self, token: str | None) -> None:
        if token:
            token_hash = hash_token(token)
            self._cache.pop(token_hash, None)
            await self._store.delete_session(token_hash)
            self._logouts += 1
            # A lookup that ran entirely between the first pop and the delete may have cached the session again.
            self._cache.pop(token_hash, None)

    async def user_for_token(self, token: str | None) -> User:
        """Return the logged-in user of a session token; raise NotLoggedIn otherwise."""
        if not token:
            raise NotLoggedIn("no session cookie: log in first")
        token_hash = hash_token(token)
        cached = self._cache.get(token_hash)
        if cached is not None and cached.fresh_until > self._monotonic() and cached.expires_at > time.time():
            return cached.user

        logouts_before = self._logouts
        user, expires_at = await self._read_session(token_hash)
        if self._logouts == logouts_before:
            if len(self._cache) >= MAX_CACHED_SESSIONS:
                self._cache.clear()
            self._cache[token_hash] = CachedSession(user, expires_at, self._monotonic() + self._cache_seconds)
        return user

    async def _read_session(self, token_hash: str) -> tuple[User, float]:
        """Read a session and its user from the store, and return the user and the session's expiry.

        The cached entry is dropped first. Raise NotLoggedIn when the session
        is missing or expired, or its user is missing or disabled.
        """
        self._cache.pop(token_hash, None)
        session = await self._store.get_session(token_hash)
        if session is None or session.expires_at <= time.time():
            raise NotLoggedIn("the session expired or was revoked: log in again")
        user = await self._store.get_user(session.username)
        if user is None or user.disabled:
            raise NotLoggedIn(f"user {session.username!r} no longer exists or is disabled: log in again")
        return user, session.expires_at
