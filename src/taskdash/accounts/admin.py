"""Account administration: roles, groups, display names, disabling and password resets.

Every function takes the acting admin as `actor`, or None for the `taskdash
user` commands, which run with direct access to the store. An actor must
have the admin role, may not disable their own account and may not remove
their own admin role, so that a logged-in admin cannot lock themselves out.
Disabling a user and resetting a password delete the user's sessions in the
store, which logs them out on every instance.
"""

from __future__ import annotations

import asyncio
import secrets
import unicodedata
from collections.abc import Sequence

import structlog

from taskdash.accounts.roles import Role, parse_roles
from taskdash.accounts.users import check_group, check_password, create_user, hash_password
from taskdash.errors import InvalidRequest, PermissionDenied
from taskdash.store.protocol import Repository
from taskdash.store.records import User

log = structlog.get_logger("taskdash.accounts")

MAX_DISPLAY_NAME_LENGTH = 128
CLI_ACTOR = "cli"


def _actor_name(actor: User | None) -> str:
    return CLI_ACTOR if actor is None else actor.username


def _require_admin(actor: User | None) -> None:
    if actor is not None and Role.ADMIN.value not in actor.roles:
        raise PermissionDenied(f"user {actor.username!r} is not an admin")


def check_roles(roles: Sequence[str]) -> tuple[str, ...]:
    try:
        return parse_roles(list(roles))
    except ValueError as error:
        raise InvalidRequest(str(error)) from None


def check_groups(groups: Sequence[str]) -> tuple[str, ...]:
    """Return the sorted, de-duplicated group names, or raise InvalidRequest naming an invalid one."""
    names = {group.strip() for group in groups}
    for name in names:
        check_group(name)
    return tuple(sorted(names))


def check_display_name(display_name: str) -> str:
    """Return the display name without surrounding spaces.

    Raises InvalidRequest if it is too long or contains control characters.
    """
    name = display_name.strip()
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidRequest(f"invalid display name: it must be at most {MAX_DISPLAY_NAME_LENGTH} characters long")
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise InvalidRequest("invalid display name: it must not contain control characters")
    return name


async def add_user(
    store: Repository, actor: User | None, username: str, password: str, roles: Sequence[str],
    groups: Sequence[str], display_name: str = "",
) -> User:
    """Create a user on behalf of `actor`, with the checks of `create_user` and `check_groups`."""
    _require_admin(actor)
    check_groups(groups)
    user = await create_user(store, username, password, list(roles), list(groups), check_display_name(display_name))
    log.info("user_added_by_admin", user=username, actor=_actor_name(actor))
    return user


async def update_user(
    store: Repository,
    actor: User | None,
    username: str,
    *,
    roles: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    display_name: str | None = None,
    disabled: bool | None = None,
) -> User:
    """Validate and store the given changes of one user (None leaves a field as it is).

    All values are checked before anything is written, so an invalid field
    changes nothing. Raises UserNotFound for an unknown username.
    """
    _require_admin(actor)
    clean_roles = None if roles is None else check_roles(roles)
    clean_groups = None if groups is None else check_groups(groups)
    clean_name = None if display_name is None else check_display_name(display_name) or username

    if actor is not None and actor.username == username:
        if disabled:
            raise InvalidRequest("you cannot disable your own account: ask another admin to do it")
        if clean_roles is not None and Role.ADMIN.value not in clean_roles:
            raise InvalidRequest("you cannot remove your own admin role: ask another admin to do it")

    user = await store.update_user(
        username, roles=clean_roles, groups=clean_groups, display_name=clean_name, disabled=disabled
    )
    actor_name = _actor_name(actor)
    if clean_roles is not None:
        log.info("user_roles_set", user=username, actor=actor_name, roles=list(clean_roles))
    if clean_groups is not None:
        log.info("user_groups_set", user=username, actor=actor_name, groups=list(clean_groups))
    if clean_name is not None:
        log.info("user_display_name_set", user=username, actor=actor_name)
    if disabled is True:
        revoked = await store.delete_sessions_of(username)
        log.info("user_disabled", user=username, actor=actor_name, sessions_revoked=revoked)
    elif disabled is False:
        log.info("user_enabled", user=username, actor=actor_name)
    return user


async def set_roles(store: Repository, actor: User | None, username: str, roles: Sequence[str]) -> User:
    return await update_user(store, actor, username, roles=roles)


async def set_groups(store: Repository, actor: User | None, username: str, groups: Sequence[str]) -> User:
    return await update_user(store, actor, username, groups=groups)


async def set_display_name(store: Repository, actor: User | None, username: str, display_name: str) -> User:
    """Set the name shown in the dashboard. An empty name shows the username."""
    return await update_user(store, actor, username, display_name=display_name)


async def set_disabled(store: Repository, actor: User | None, username: str, disabled: bool) -> User:
    """Disable (and log out everywhere) or enable a user."""
    return await update_user(store, actor, username, disabled=disabled)


async def reset_password(store: Repository, actor: User | None, username: str, password: str) -> User:
    """Store a new Argon2id hash for the user's password and delete all their sessions."""
    _require_admin(actor)
    check_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    user = await store.update_user(username, password_hash=password_hash)
    revoked = await store.delete_sessions_of(username)
    log.info("password_reset", user=username, actor=_actor_name(actor), sessions_revoked=revoked)
    return user


FIRST_ADMIN_NAME = "admin"


async def create_first_admin(store: Repository, password: str | None) -> str | None:
    """Create the `admin` user when the store has no users, and return the password if this function generated it.

    Without `password`, a random one is generated, which the caller shows
    once. Nothing is created when any user exists, or when another instance
    starting at the same moment created `admin` first. When users exist, a
    warning is logged if `password` is given, because it is then ignored, and
    another if no enabled user has the admin role.
    """
    users = await store.list_users()
    if users:
        _warn_about_existing_accounts(users, password_given=password is not None)
        return None

    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(18)
    try:
        await create_user(store, FIRST_ADMIN_NAME, password, [Role.ADMIN.value], [])
    except InvalidRequest:
        if await store.get_user(FIRST_ADMIN_NAME) is None:
            raise
        log.info("admin_created_elsewhere", user=FIRST_ADMIN_NAME)
        return None
    source = "generated" if generated else "TASKDASH_ADMIN_PASSWORD"
    log.info("admin_created", user=FIRST_ADMIN_NAME, password_source=source)
    return generated


def _warn_about_existing_accounts(users: Sequence[User], password_given: bool) -> None:
    if password_given:
        log.warning(
            "admin_password_ignored",
            reason="TASKDASH_ADMIN_PASSWORD is used only on the first start with no user accounts, and accounts exist",
            hint="unset it; set a user's password with `taskdash user passwd NAME --password-stdin`",
            user_count=len(users),
        )
    if not any(Role.ADMIN.value in user.roles and not user.disabled for user in users):
        log.warning(
            "no_enabled_admin",
            reason="no enabled user account has the admin role, so nobody can manage users in the dashboard",
            hint="create one with `taskdash user add NAME --role admin --password-stdin`, "
            "or run `taskdash user set-roles` or `taskdash user enable` on an existing user",
            user_count=len(users),
        )
