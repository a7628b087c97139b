"""REST routes for account administration: users and groups, and their CSV exports. Only admins may call them.

Responses never contain password hashes. The checks and the logging live
in `taskdash.accounts.admin`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from taskdash.accounts import admin
from taskdash.accounts.admin import MAX_DISPLAY_NAME_LENGTH
from taskdash.accounts.roles import Role
from taskdash.accounts.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from taskdash.api import csv_export
from taskdash.api.deps import AdminUser, RuntimeDep
from taskdash.errors import UserNotFound
from taskdash.runtime import Runtime
from taskdash.store.records import User

router = APIRouter(prefix="/api/v1", tags=["users"])

MAX_NAME_LENGTH = 64
MAX_GROUPS_PER_USER = 100

UsernamePath = Annotated[str, Path(min_length=1, max_length=MAX_NAME_LENGTH, description="Username")]
GroupName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]

# The filters of the dashboard's users and groups pages, so that an export contains the rows the page shows.
UserText = Annotated[
    str,
    Query(
        max_length=MAX_DISPLAY_NAME_LENGTH,
        description="Part of the username, display name or a group name, ignoring case",
    ),
]
RoleFilter = Annotated[Role | None, Query(description="Only users with this role")]
GroupText = Annotated[
    str,
    Query(max_length=MAX_NAME_LENGTH, description="Part of the group name or of a member's username, ignoring case"),
]

USER_CSV_COLUMNS = ("username", "display_name", "roles", "groups", "disabled", "created_at")
# Names in one cell are separated by spaces, which usernames, roles and group names cannot contain.
GROUP_CSV_COLUMNS = ("group", "member_count", "members", "editors", "managers")


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


def user_matches(user: User, text: str, role: Role | None) -> bool:
    if role is not None and role.value not in user.roles:
        return False
    needle = text.casefold()
    return any(needle in value.casefold() for value in (user.username, user.display_name, *user.groups))


async def filter_users(runtime: Runtime, text: str, role: Role | None) -> list[User]:
    """Return the users that match the filters, ordered by username."""
    return [user for user in await runtime.store.list_users() if user_matches(user, text, role)]


def user_csv_row(account: AccountOut) -> list[str]:
    # Usernames and group names may start with "-" or "@", so they pass through safe_cell like free text.
    return [
        csv_export.safe_cell(account.username), csv_export.safe_cell(account.display_name), " ".join(account.roles),
        csv_export.safe_cell(" ".join(account.groups)), csv_export.flag(account.disabled),
        csv_export.iso_utc(account.created_at),
    ]


@router.get("/users", summary="The users that match the filters, ordered by username")
async def list_users(
    actor: AdminUser, runtime: RuntimeDep, text: UserText = "", role: RoleFilter = None
) -> list[AccountOut]:
    return [_account_out(user) for user in await filter_users(runtime, text, role)]


# Declared before /users/{username}, which would otherwise take "export.csv" as a username.
# NOTE: "export.csv" is a valid username. GET /users/export.csv always returns the export, so a user of
# that name can be read only through the list; PATCH and the password reset still reach them.
@router.get(
    "/users/export.csv",
    summary="Export the users that match the filters of the user list as CSV, ordered by username",
    description="Columns: " + ", ".join(USER_CSV_COLUMNS) + ". `roles` and `groups` contain names separated by spaces.",
    response_class=StreamingResponse,
    responses=csv_export.CSV_RESPONSES,
)
async def export_users(
    actor: AdminUser, runtime: RuntimeDep, text: UserText = "", role: RoleFilter = None
) -> StreamingResponse:
    users = await filter_users(runtime, text, role)

    accounts = (_account_out(user) for user in users)
    return csv_export.csv_response(csv_export.table_chunks(USER_CSV_COLUMNS, accounts, user_csv_row), "users.csv")


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


def group_matches(name: str, members: list[str], text: str) -> bool:
    needle = text.casefold()
    return needle in name.casefold() or any(needle in member.casefold() for member in members)


async def filter_groups(runtime: Runtime, text: str) -> dict[str, list[str]]:
    """Return group -> sorted usernames of its members, for the groups that match the filter, ordered by name."""
    groups = await runtime.store.list_groups()
    return {name: members for name, members in sorted(groups.items()) if group_matches(name, members, text)}


def group_csv_row(name: str, members: list[str], users: dict[str, User]) -> list[str]:
    """Return the cells of one group. Editors and managers are the enabled members with that role."""

    def enabled_with(role: Role) -> str:
        holders = [
            member for member in members
            if (user := users.get(member)) is not None and not user.disabled and role.value in user.roles
        ]
        return csv_export.safe_cell(" ".join(holders))

    return [
        csv_export.safe_cell(name), str(len(members)), csv_export.safe_cell(" ".join(members)),
        enabled_with(Role.EDITOR), enabled_with(Role.MANAGER),
    ]


@router.get("/groups", summary="Every group that matches the filter, with the usernames of its members")
async def list_groups(actor: AdminUser, runtime: RuntimeDep, text: GroupText = "") -> dict[str, list[str]]:
    return await filter_groups(runtime, text)


@router.get(
    "/groups/export.csv",
    summary="Export the groups that match the filter of the group list as CSV, ordered by name",
    description="Columns: " + ", ".join(GROUP_CSV_COLUMNS) + ". Names are separated by spaces. `editors` and "
    "`managers` are the enabled members with that role; round-robin assignment gives tasks to the editors.",
    response_class=StreamingResponse,
    responses=csv_export.CSV_RESPONSES,
)
async def export_groups(actor: AdminUser, runtime: RuntimeDep, text: GroupText = "") -> StreamingResponse:
    groups = await filter_groups(runtime, text)
    users = {user.username: user for user in await runtime.store.list_users()}

    chunks = csv_export.table_chunks(
        GROUP_CSV_COLUMNS, groups.items(), lambda group: group_csv_row(group[0], group[1], users)
    )
    return csv_export.csv_response(chunks, "groups.csv")
