"""HTTP intake for sites without NSQ: the same two bodies as the NSQ topics.

Protected by the intake token (`--intake-token`), sent as
`Authorization: Bearer TOKEN`. Without a configured token the routes are
disabled. The response is sent after the store commit, so a 200 means stored.
"""

from __future__ import annotations

import hmac
import time

import structlog
from fastapi import APIRouter, Request

from taskdash.api.deps import RuntimeDep
from taskdash.runtime import Runtime
from taskdash.errors import InvalidRequest, PermissionDenied
from taskdash.intake.batcher import FutureAck
from taskdash.services.messages import InvalidMessage, parse_heartbeat, parse_registration

log = structlog.get_logger("taskdash.intake")

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])

# The bodies are parsed leniently by taskdash.services.messages, not by pydantic, so these schemas only
# document them: unknown fields are kept as extras, and `type`, `reserved` and `time` may be numbers.
_URL = {"type": "string", "description": "Absolute http(s) URL of the task service; its identity"}
_TEXT_OR_NUMBER = {"type": ["string", "integer", "number"]}
REGISTRATION_BODY = {
    "type": "object", "required": ["url"], "additionalProperties": True,
    "properties": {"url": _URL, "name": {"type": "string"}, "type": _TEXT_OR_NUMBER, "reserved": _TEXT_OR_NUMBER},
    "example": {"url": "http://localhost:8080/rpost/test", "name": "abc", "type": "2", "reserved": "no"},
}
HEARTBEAT_BODY = {
    "type": "object", "required": ["url"], "additionalProperties": True,
    "properties": {
        "url": _URL, "reserved": _TEXT_OR_NUMBER,
        "time": {**_TEXT_OR_NUMBER, "description": "The sender's Unix time in seconds"},
    },
    "example": {"url": "http://localhost:8080/rpost/test", "time": 1594885152, "reserved": "no"},
}


def _json_body(schema: dict[str, object]) -> dict[str, object]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _check_token(request: Request, runtime: Runtime) -> None:
    expected = runtime.settings.intake_token
    if expected is None:
        raise PermissionDenied("HTTP intake is disabled: start TaskDash with --intake-token")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.get_secret_value().encode()):
        raise PermissionDenied("missing or wrong intake token: send 'Authorization: Bearer TOKEN'")


async def _read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise InvalidRequest(f"body is over the limit of {limit} bytes")
    return bytes(body)


async def _submit(request: Request, runtime: Runtime, kind: str) -> dict[str, str]:
    """Parse a registration or heartbeat body, hand it to the batcher and wait for the commit."""
    _check_token(request, runtime)
    limit = runtime.settings.max_message_bytes
    body = await _read_body(request, limit)
    ack = FutureAck()
    try:
        if kind == "registration":
            registration = parse_registration(body, time.time(), limit)
            runtime.batcher.add_registration(registration, ack)
            url = registration.url
        else:
            heartbeat = parse_heartbeat(body, time.time(), limit)
            runtime.batcher.add_heartbeat(heartbeat, ack)
            url = heartbeat.url
    except InvalidMessage as error:
        raise InvalidRequest(f"invalid {kind}: {error}") from None
    await ack.future
    return {"status": "stored", "url": url}


@router.post("/services", summary="Register or update a task service", openapi_extra=_json_body(REGISTRATION_BODY))
async def post_service(request: Request, runtime: RuntimeDep) -> dict[str, str]:
    return await _submit(request, runtime, "registration")


@router.post("/heartbeats", summary="Record a heartbeat of a task service", openapi_extra=_json_body(HEARTBEAT_BODY))
async def post_heartbeat(request: Request, runtime: RuntimeDep) -> dict[str, str]:
    return await _submit(request, runtime, "heartbeat")
