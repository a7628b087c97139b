"""Session cookie handling shared by the REST API and the legacy endpoint."""

from __future__ import annotations

from fastapi import Request, Response

from taskdash.config import Settings

SESSION_COOKIE = "taskdash_session"


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(settings.session_ttl), path="/", httponly=True,
        samesite="lax", secure=settings.cookie_secure,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure)


def client_address(request: Request) -> str:
    """Return the client's IP address as uvicorn reports it (honouring --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"
