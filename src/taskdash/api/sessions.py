"""REST routes for logging in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.api.session import (
    SESSION_COOKIE,
    check_csrf,
    clear_session_cookie,
    client_address,
    csrf_token,
    set_session_cookie,
)
from taskdash.store.records import User

router = APIRouter(prefix="/api/v1", tags=["session"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    groups: list[str]
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on every POST, PUT, PATCH and DELETE")


def session_out(user: User, session_token: str) -> SessionOut:
    return SessionOut(
        username=user.username, display_name=user.display_name, roles=list(user.roles), groups=list(user.groups),
        csrf_token=csrf_token(session_token),
    )


@router.post("/session", summary="Log in; sets the HttpOnly session cookie")
async def login(body: LoginIn, request: Request, response: Response, runtime: RuntimeDep) -> SessionOut:
    result = await runtime.authenticator.login(body.username, body.password, client_address(request))
    set_session_cookie(response, result.token, runtime.settings)
    return session_out(result.user, result.token)


@router.get("/session", summary="The logged-in user, and the CSRF token of the session")
async def current(request: Request, user: CurrentUser) -> SessionOut:
    return session_out(user, request.cookies.get(SESSION_COOKIE) or "")


@router.delete("/session", status_code=204, summary="Log out; revokes the session on every instance")
async def logout(request: Request, response: Response, runtime: RuntimeDep) -> None:
    if request.cookies.get(SESSION_COOKIE):
        check_csrf(request)
    await runtime.authenticator.logout(request.cookies.get(SESSION_COOKIE))
    clear_session_cookie(response, runtime.settings)
