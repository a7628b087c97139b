"""REST routes for account administration: users and groups. Only admins may call them.

Responses never contain password hashes. The checks and the logging live
in `taskdash.accounts.admin`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from taskdash.accounts import admin
from taskdash.accounts.admin import MAX_DISPLAY_NAME_LENGTH
from taskdash.accounts.roles import Role
from taskdash.accounts.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from taskdash.api.deps import AdminUser, RuntimeDep
from taskdash.errors import UserNotFound
from taskdash.store.records import User

router = APIRouter(prefix="/api/v1", tags=["users"])

MAX_NAME_LENGTH = 64
MAX_GROUPS_PER_USER = 100

UsernamePath = Annotated[str, Path(min_length=1, max_length=MAX_NAME_LENGTH, description="Username")]
GroupName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class AccountOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    groups: list[str]
    disabled: bool
    created_at: float = Field(description="Unix time in seconds when the user was created")


class UserCreateIn(BaseModel):
    username: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    groups: list[GroupName] = Field(default_factory=list, max_length=MAX_GROUPS_PER_USER)
    display_name: str = Field("", max_length=MAX_DISPLAY_NAME_LENGTH, description="Empty shows the username")


class UserPatchIn(BaseModel):
    """Fields to change. An omitted or null field stays as it is."""

    roles: list[Role] | None = Field(None, min_length=1, max_length=len(Role))
    groups: list[GroupName] | None = Field(None, max_length=MAX_GROUPS_PER_USER)
    display_name: str | None = Field(None, max_length=MAX_DISPLAY_NAME_LENGTH)
    disabled: bool | None = Field(None, description="True disables the user and logs them out everywhere")


class PasswordIn(BaseModel):
    password: Password


def _account_out(user: User) -> AccountOut:
    return AccountOut(
        username=user.username, display_name=user.display_name, roles=list(user.roles), groups=list(user.groups),
        disabled=user.disabled, created_at=user.created_at,
    )


@router.get("/users", summary="All users, ordered by username")
async def list_users(actor: AdminUser, runtime: RuntimeDep) -> list[AccountOut]:
    return [_account_out(user) for user in await runtime.store.list_users()]


@router.get("/users/{username}", summary="One user")
async def get_user(username: UsernamePath, actor: AdminUser, runtime: RuntimeDep) -> AccountOut:
    user = await runtime.store.get_user(username)
    if user is None:
        raise UserNotFound(f"user {username!r} not found")
    return _account_out(user)


@router.post("/users", status_code=201, summary="Create a user")
async def create_user(body: UserCreateIn, actor: AdminUser, runtime: RuntimeDep) -> AccountOut:
    user = await admin.add_user(
        runtime.store, actor, body.username, body.password, [role.value for role in body.roles], body.groups,
        body.display_name,
    )
    return _account_out(user)


@router.patch("/users/{username}", summary="Change roles, groups, display name or the disabled flag")
async def update_user(username: UsernamePath, body: UserPatchIn, actor: AdminUser, runtime: RuntimeDep) -> AccountOut:
    user = await admin.update_user(
        runtime.store, actor, username,
        roles=None if body.roles is None else [role.value for role in body.roles],
        groups=body.groups, display_name=body.display_name, disabled=body.disabled,
    )
    return _account_out(user)


@router.post(
    "/users/{username}/password", status_code=204,
    summary="Reset a user's password; logs the user out everywhere",
)
async def reset_password(username: UsernamePath, body: PasswordIn, actor: AdminUser, runtime: RuntimeDep) -> None:
    await admin.reset_password(runtime.store, actor, username, body.password)


@router.get("/groups", summary="Every group with the usernames of its members")
async def list_groups(actor: AdminUser, runtime: RuntimeDep) -> dict[str, list[str]]:
    return await runtime.store.list_groups()
