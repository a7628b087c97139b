"""Rendering of domain errors as REST responses: HTTP status, errid and a localised errmsg."""

from __future__ import annotations

import math

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from taskdash.errors import ERROR_TABLE, ErrId, TaskDashError, TooManyAttempts, error_message

log = structlog.get_logger("taskdash.api")


def request_language(request: Request) -> str:
    """Return "en" when Accept-Language prefers English over Chinese (by q-value), else "zh" (the default)."""
    best, best_weight = "zh", 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().lower().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        language = tag[:2] if tag[:2] in ("zh", "en") else ""
        # Ties keep the earlier tag, as the header lists preferences in order.
        if language and weight > best_weight:
            best, best_weight = language, weight
    return best


def error_response(
    request: Request, errid: ErrId, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"errid": int(errid), "errmsg": error_message(errid, request_language(request)), "detail": detail},
        status_code=ERROR_TABLE[errid].http_status, headers=headers,
    )


def _retry_after(error: TaskDashError) -> dict[str, str] | None:
    """Return the Retry-After header of a throttled request, as whole seconds rounded up."""
    if not isinstance(error, TooManyAttempts) or error.retry_after <= 0:
        return None
    return {"Retry-After": str(math.ceil(error.retry_after))}


class ErrorOut(BaseModel):
    """The body of every error response of the REST API."""

    errid: int = Field(description="TaskDash error code; 1000 for a malformed request or an invalid field")
    errmsg: str = Field(description="The message of errid, in the language of Accept-Language (zh-CN by default)")
    detail: str = Field(description="An English sentence naming the value at fault and what to do")


# Documented on every REST operation in place of FastAPI's default 422, which this API never returns:
# invalid input gets 400, and domain errors get the status of their errid.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    "4XX": {"model": ErrorOut, "description": "Client error: invalid request (400), not logged in (401), "
            "permission denied or missing CSRF token (403), not found (404), conflict (409), throttled (429)"},
    503: {"model": ErrorOut, "description": "The database failed a read or write; retry later"},
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TaskDashError)
    async def domain_error(request: Request, error: TaskDashError) -> JSONResponse:
        # A store failure (status 503) is this server's problem, unlike a rejected request, so it is a warning.
        log_event = log.warning if ERROR_TABLE[error.errid].http_status >= 500 else log.info
        log_event("api_request_rejected", path=request.url.path, errid=int(error.errid), reason=error.detail)
        return error_response(request, error.errid, error.detail, _retry_after(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # Unknown paths and wrong methods are malformed requests too: errid 1000 with the real status.
        log.info("api_request_invalid", path=request.url.path, method=request.method, status=error.status_code)
        body = {"errid": int(ErrId.BAD_REQUEST), "errmsg": error_message(ErrId.BAD_REQUEST, request_language(request)),
                "detail": f"{request.method} {request.url.path}: {error.detail}"}
        return JSONResponse(body, status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()[:5]
        )
        log.info("api_request_invalid", path=request.url.path, reason=problems)
        return error_response(request, ErrId.BAD_REQUEST, problems)
