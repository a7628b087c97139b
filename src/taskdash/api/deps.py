"""FastAPI dependencies shared by the REST routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from taskdash.accounts.roles import Role
from taskdash.api.session import SESSION_COOKIE, check_csrf
from taskdash.errors import PermissionDenied
from taskdash.runtime import Runtime
from taskdash.store.records import User


# Dependencies are coroutines even when they do not await: FastAPI runs a plain function in a worker
# thread, and that hand-off costs more than the function.
async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_current_user(request: Request) -> User:
    """Return the user of the session cookie; writes must also carry the session's CSRF token."""
    runtime: Runtime = request.app.state.runtime
    user = await runtime.authenticator.user_for_token(request.cookies.get(SESSION_COOKIE))
    check_csrf(request)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin(user: CurrentUser) -> User:
    if Role.ADMIN.value not in user.roles:
        raise PermissionDenied(f"user {user.username!r} is not an admin")
    return user


AdminUser = Annotated[User, Depends(get_admin)]
