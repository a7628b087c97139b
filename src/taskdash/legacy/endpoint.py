"""The original front-end endpoint `/rpost/task`.

One URL, an `operation` field, and responses that old front ends parse: HTTP
200 always, a JSON string `"success"` or a JSON array on success, and
`{"errid":N,"errmsg":"..."}` on failure with the Chinese messages of the
original. The body may be JSON, urlencoded or multipart; a GET carries the
fields in its query string.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, Request, Response

from taskdash import metrics
from taskdash.accounts.users import MAX_PASSWORD_LENGTH
from taskdash.api.session import SESSION_COOKIE, clear_session_cookie, client_address, set_session_cookie
from taskdash.errors import ErrId, InvalidRequest, TaskDashError, error_message
from taskdash.legacy.encoding import go_json, rows_as_objects
from taskdash.runtime import Runtime
from taskdash.store.records import User
from taskdash.tasks.status import NOTGET

log = structlog.get_logger("taskdash.legacy")

router = APIRouter()

MAX_BODY_BYTES = 1024 * 1024
MAX_FIELD_LENGTH = 512
STATUS_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

UNCLAIMED_KEYS = ("TaskID", "DataType", "Description", "Status", "Reserved")
UNCLAIMED_COLUMNS = ("task_id", "data_type", "description", "status", "reserved")
USER_TASK_KEYS = ("TaskID", "DataType", "Status", "User", "Checker", "GroupID", "Reserved")
USER_TASK_COLUMNS = ("task_id", "data_type", "status", "user", "checker", "group_id", "reserved")

SUCCESS = go_json("success")


@dataclass(slots=True)
class LegacyCall:
    """One parsed request: its fields and what it needs to act."""

    fields: dict[str, str]
    request: Request
    response: Response
    runtime: Runtime

    def field(self, *names: str, required: bool = True) -> str:
        """Return the first non-empty field among `names` (aliases), or raise InvalidRequest."""
        for name in names:
            value = self.fields.get(name, "").strip()
            if value:
                if len(value) > MAX_FIELD_LENGTH:
                    raise InvalidRequest(f"field {name!r} is longer than {MAX_FIELD_LENGTH} characters")
                return value
        if required:
            raise InvalidRequest(f"field {names[0]!r} is missing")
        return ""

    def password(self) -> str:
        """Return the password field exactly as sent: passwords may have spaces at either end."""
        value = self.fields.get("password", "")
        if not value:
            raise InvalidRequest("field 'password' is missing")
        if len(value) > MAX_PASSWORD_LENGTH:
            raise InvalidRequest(f"field 'password' is longer than {MAX_PASSWORD_LENGTH} characters")
        return value

    def task_id(self) -> str:
        """Return the task id, sent as `task_id` or by the original clients as `id` or `TaskID`."""
        return self.field("task_id", "id", "TaskID")

    async def user(self) -> User:
        return await self.runtime.authenticator.user_for_token(self.request.cookies.get(SESSION_COOKIE))


def _as_field(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise InvalidRequest(f"field value {value!r} is not a string or number")


async def read_fields(request: Request) -> dict[str, str]:
    """Return the request's fields from its query string and its JSON, urlencoded or multipart body."""
    fields = {key: value for key, value in request.query_params.items()}
    if request.method != "POST":
        return fields

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise InvalidRequest(f"body of {declared} bytes is over the limit of {MAX_BODY_BYTES} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()

    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()
        except Exception as error:  # noqa: BLE001 - python-multipart raises several unrelated types
            raise InvalidRequest(f"the form body could not be parsed: {error}") from None
        try:
            fields.update({key: value for key, value in form.items() if isinstance(value, str)})
        finally:
            # Closing releases the temporary files of any file parts.
            await form.close()
        return fields

    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise InvalidRequest(f"body is over the limit of {MAX_BODY_BYTES} bytes")
    if not body.strip():
        return fields
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"body is not JSON, urlencoded or multipart form data: {error}") from None
    if not isinstance(document, dict):
        raise InvalidRequest(f"the JSON body is a {type(document).__name__}, expected an object")
    fields.update({str(key): _as_field(value) for key, value in document.items()})
    return fields


async def user_login(call: LegacyCall) -> bytes:
    result = await call.runtime.authenticator.login(
        call.field("username"), call.password(), client_address(call.request)
    )
    set_session_cookie(call.response, result.token, call.runtime.settings)
    return SUCCESS


async def user_logout(call: LegacyCall) -> bytes:
    await call.runtime.authenticator.logout(call.request.cookies.get(SESSION_COOKIE))
    clear_session_cookie(call.response, call.runtime.settings)
    return SUCCESS


async def get_unclaimed_tasks(call: LegacyCall) -> bytes:
    await call.user()
    # Some original clients send the status under the key "username".
    status = call.field("status", "username", required=False) or NOTGET
    if not STATUS_PATTERN.match(status):
        raise InvalidRequest(f"invalid status {status!r}: use letters, digits, '_', '.' or '-'")
    listable = call.runtime.monitor.snapshot.listable_urls()
    rows = await call.runtime.workflow.task_rows_by_status(status, listable, UNCLAIMED_COLUMNS)
    # Encoding 100,000 rows takes about 0.1 s, which would stall every other request on the loop.
    return await asyncio.to_thread(rows_as_objects, UNCLAIMED_KEYS, rows)


async def get_user_tasks(call: LegacyCall) -> bytes:
    actor = await call.user()
    rows = await call.runtime.workflow.user_task_rows(actor, call.field("user"), USER_TASK_COLUMNS)
    return await asyncio.to_thread(rows_as_objects, USER_TASK_KEYS, rows)


async def claim_task(call: LegacyCall) -> bytes:
    actor = await call.user()
    await call.runtime.workflow.claim(actor, call.task_id())
    return SUCCESS


async def assign_task(call: LegacyCall) -> bytes:
    actor = await call.user()
    await call.runtime.workflow.assign(
        actor,
        call.task_id(),
        call.field("user"),
        checker=call.field("checker", required=False),
        group=call.field("group", "group_id", "GroupID", required=False),
    )
    return SUCCESS


async def release_task(call: LegacyCall) -> bytes:
    actor = await call.user()
    await call.runtime.workflow.release(actor, call.task_id())
    return SUCCESS


async def submit_task(call: LegacyCall) -> bytes:
    actor = await call.user()
    await call.runtime.workflow.submit(actor, call.task_id())
    return SUCCESS


async def approve_task(call: LegacyCall) -> bytes:
    actor = await call.user()
    await call.runtime.workflow.approve(actor, call.task_id())
    return SUCCESS


async def reject_task(call: LegacyCall) -> bytes:
    actor = await call.user()
    await call.runtime.workflow.reject(
        actor, call.task_id(), call.field("reason")
    )
    return SUCCESS


async def set_checker(call: LegacyCall) -> bytes:
    actor = await call.user()
    await call.runtime.workflow.set_checker(actor, call.task_id(), call.field("checker"))
    return SUCCESS


Operation = Callable[[LegacyCall], Awaitable[bytes]]

# Keys are lower case: operation names match case-insensitively.
OPERATIONS: dict[str, tuple[Operation, ErrId]] = {
    "userlogin": (user_login, ErrId.STORE_WRITE_FAILED),
    "userlogout": (user_logout, ErrId.STORE_WRITE_FAILED),
    "getunclaimedtasks": (get_unclaimed_tasks, ErrId.STORE_READ_FAILED),
    "getusertasks": (get_user_tasks, ErrId.STORE_READ_FAILED),
    "claimtask": (claim_task, ErrId.STORE_WRITE_FAILED),
    "taskbind": (claim_task, ErrId.STORE_WRITE_FAILED),
    "assigntask": (assign_task, ErrId.STORE_WRITE_FAILED),
    "releasetask": (release_task, ErrId.STORE_WRITE_FAILED),
    "submittask": (submit_task, ErrId.STORE_WRITE_FAILED),
    "approvetask": (approve_task, ErrId.STORE_WRITE_FAILED),
    "rejecttask": (reject_task, ErrId.STORE_WRITE_FAILED),
    "setchecker": (set_checker, ErrId.STORE_WRITE_FAILED),
}


# The read-only operations, the only ones a GET may run.
GET_OPERATIONS = frozenset({"getunclaimedtasks", "getusertasks"})


def error_body(errid: ErrId) -> bytes:
    return go_json({"errid": int(errid), "errmsg": error_message(errid, "zh")})


# Every method is routed here, so that even a wrong one gets the legacy error body with HTTP 200.
@router.api_route(
    "/rpost/task", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False
)
async def rpost_task(request: Request) -> Response:
    # Operations set cookies on this placeholder; its Set-Cookie headers are copied to the response.
    cookies = Response()
    runtime: Runtime = request.app.state.runtime
    operation_name = ""
    unexpected_errid = ErrId.BAD_REQUEST
    try:
        if request.method not in ("GET", "POST"):
            raise InvalidRequest(f"method {request.method} is not supported: use POST (or GET for a read operation)")
        fields = await read_fields(request)
        operation_name = fields.get("operation", "").strip()
        if not operation_name:
            raise InvalidRequest("field 'operation' is missing")
        entry = OPERATIONS.get(operation_name.lower())
        if entry is None:
            raise InvalidRequest(
                f"unknown operation {operation_name[:64]!r}: expected one of userLogin, userLogout, "
                "GetUnclaimedTasks, GetUserTasks, ClaimTask, TaskBind, AssignTask, ReleaseTask, SubmitTask, "
                "ApproveTask, RejectTask, SetChecker"
            )
        if request.method == "GET" and operation_name.lower() not in GET_OPERATIONS:
            # Browsers send the SameSite=Lax session cookie with a GET that another site starts, so a GET
            # that changed data would let any page act for a logged-in user.
            raise InvalidRequest(f"operation {operation_name[:64]!r} changes data: send it with POST, not GET")
        operation, unexpected_errid = entry
        body = await operation(LegacyCall(fields, request, cookies, runtime))
        errid = ErrId.SUCCESS
    except TaskDashError as error:
        errid = error.errid
        body = error_body(errid)
        log.warning("legacy_request_rejected", operation=operation_name[:64], errid=int(errid), reason=error.detail,
                    client=client_address(request))
    except Exception:
        errid = unexpected_errid
        body = error_body(errid)
        log.exception("legacy_request_failed", operation=operation_name[:64], errid=int(errid))

    label = operation_name.lower() if operation_name.lower() in OPERATIONS else "unknown"
    metrics.LEGACY_REQUESTS.labels(operation=label, errid=str(int(errid))).inc()
    response = Response(content=body, media_type=JSON_CONTENT_TYPE)
    response.raw_headers.extend(header for header in cookies.raw_headers if header[0] == b"set-cookie")
    return response
