"""Session cookie handling shared by the REST API and the legacy endpoint, and CSRF tokens for the REST API.

A REST write authenticated by the session cookie must repeat the session's
CSRF token in the `X-CSRF-Token` header. The token is a hash of the session
token, so every instance can check it without shared state. A page on
another origin cannot learn it, because the cookie is HttpOnly and the token
is only returned in the body of `POST` and `GET /api/v1/session`. The legacy
`/rpost/task` endpoint takes no token because its clients cannot send one;
its SameSite=Lax cookie is not sent on cross-site POSTs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from fastapi import Request, Response

from taskdash.config import Settings
from taskdash.errors import CsrfTokenInvalid

SESSION_COOKIE = "taskdash_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def csrf_token(session_token: str) -> str:
    """Return the CSRF token of the session `session_token`."""
    digest = hashlib.sha256(b"taskdash-csrf\x00" + session_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_csrf(request: Request) -> None:
    """Raise CsrfTokenInvalid when a write request lacks the CSRF token of its session cookie."""
    if request.method in SAFE_METHODS:
        return
    session_token = request.cookies.get(SESSION_COOKIE) or ""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        raise CsrfTokenInvalid(f"missing {CSRF_HEADER} header: send the csrf_token returned by /api/v1/session")
    if not hmac.compare_digest(sent.encode(), csrf_token(session_token).encode()):
        raise CsrfTokenInvalid(
            f"invalid {CSRF_HEADER} header: it does not belong to this session; read csrf_token from /api/v1/session"
        )
