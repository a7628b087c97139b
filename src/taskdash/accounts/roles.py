"""Roles and what each may do."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskdash.store.records import User


class Role(StrEnum):
    EDITOR = "editor"
    CHECKER = "checker"
    MANAGER = "manager"
    ADMIN = "admin"


def has_role(user: "User", *roles: Role) -> bool:
    """Return whether `user` has at least one of `roles`."""
    return any(role.value in user.roles for role in roles)


def parse_roles(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Return the sorted, de-duplicated roles, or raise ValueError naming an unknown one."""
    known = {role.value for role in Role}
    roles = set()
    for value in values:
        role = value.strip().lower()
        if role not in known:
            raise ValueError(f"unknown role {value!r}: expected one of {', '.join(sorted(known))}")
        roles.add(role)
    if not roles:
        raise ValueError(f"a user needs at least one role: {', '.join(sorted(known))}")
    return tuple(sorted(roles))
