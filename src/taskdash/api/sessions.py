"""REST routes for logging in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.api.session import SESSION_COOKIE, clear_session_cookie, client_address, set_session_cookie

router = APIRouter(prefix="/api/v1", tags=["session"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    groups: list[str]


@router.post("/session", summary="Log in; sets the HttpOnly session cookie")
async def login(body: LoginIn, request: Request, response: Response, runtime: RuntimeDep) -> UserOut:
    result = await runtime.authenticator.login(body.username, body.password, client_address(request))
    set_session_cookie(response, result.token, runtime.settings)
    user = result.user
    return UserOut(username=user.username, display_name=user.display_name, roles=list(user.roles), groups=list(user.groups))


@router.get("/session", summary="The logged-in user")
async def current(user: CurrentUser) -> UserOut:
    return UserOut(username=user.username, display_name=user.display_name, roles=list(user.roles), groups=list(user.groups))


@router.delete("/session", status_code=204, summary="Log out; revokes the session on every instance")
async def logout(request: Request, response: Response, runtime: RuntimeDep) -> None:
    await runtime.authenticator.logout(request.cookies.get(SESSION_COOKIE))
    clear_session_cookie(response, runtime.settings)
