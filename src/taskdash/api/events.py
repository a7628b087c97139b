"""The server-sent-event stream of task and service changes, `GET /api/v1/events`.

Each message has an `id`, an `event` (task, tasks, service, blind or
resync) and one line of JSON `data`. A client that reconnects with the
`Last-Event-ID` header gets the events it missed while they are still
buffered, or one `resync` event, after which it reloads its lists. Task
events reach only users who may see the task before or after the change.
A comment line every KEEPALIVE_SECONDS keeps proxies from closing an idle
stream. The session is checked again at the first event or keepalive after
RECHECK_SECONDS, so a stream ends within RECHECK_SECONDS + KEEPALIVE_SECONDS
(45 s) of logout, revocation or a change of the user's groups.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import orjson
import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.api.session import SESSION_COOKIE
from taskdash.errors import NotLoggedIn
from taskdash.events.bus import TASK, Event, EventBus
from taskdash.store.records import TaskVisibility, User
from taskdash.tasks.listing import owner_visible, visibility_for

log = structlog.get_logger("taskdash.api")

router = APIRouter(prefix="/api/v1", tags=["events"])

KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 30.0
RETRY_MILLISECONDS = 3000

# Returns the visibility of the stream's user now, or raises NotLoggedIn when the session ended.
VisibilityCheck = Callable[[], Awaitable[TaskVisibility | None]]


def format_event(event: Event, instance_id: str) -> bytes:
    """Return `event` in the text/event-stream format, its id qualified by the instance that numbered it."""
    data = orjson.dumps(event.data).decode()
    return f"id: {instance_id}.{event.id}\nevent: {event.kind}\ndata: {data}\n\n".encode()


def may_see(visible: TaskVisibility | None, event: Event) -> bool:
    """Return whether a subscriber with `visible` may receive `event`."""
    if event.kind != TASK:
        return True
    data = event.data
    after = owner_visible(visible, data["status"], data["user"], data["checker"], data["group_id"])
    return after or owner_visible(
        visible, data["previous_status"], data["previous_user"], data["previous_checker"], data["previous_group_id"]
    )


async def event_stream(
    bus: EventBus, last_event_id: int | None, check: VisibilityCheck, username: str,
    keepalive: float = KEEPALIVE_SECONDS, recheck: float = RECHECK_SECONDS,
) -> AsyncIterator[bytes]:
    """Yield the events of `bus` that the user may see, until the session ends or the client leaves."""
    visible = await check()
    with bus.subscribe(last_event_id) as subscription:
        log.info("event_stream_opened", user=username, subscribers=bus.subscriber_count)
        yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
        next_check = time.monotonic() + recheck
        try:
            while True:
                try:
                    event = await asyncio.wait_for(subscription.next_event(), timeout=keepalive)
                except TimeoutError:
                    event = None
                if time.monotonic() >= next_check:
                    visible = await check()
                    next_check = time.monotonic() + recheck
                if event is None:
                    yield b": keepalive\n\n"
                elif may_see(visible, event):
                    yield format_event(event, bus.instance_id)
        except NotLoggedIn:
            log.info("event_stream_session_ended", user=username)
        finally:
            log.info("event_stream_closed", user=username, lagged=subscription.lagged)


def parse_last_event_id(value: str | None, instance_id: str) -> int | None:
    """Return the event number of a Last-Event-ID header, or None without one.

    An id of another instance or an unreadable id counts as 0, which gets `resync`.
    """
    if value is None or not value.strip():
        return None
    instance, _, number = value.strip().rpartition(".")
    # isdigit() alone also accepts digits such as "²", which int() rejects.
    if instance != instance_id or not (number.isascii() and number.isdigit()):
        return 0
    return int(number)


@router.get(
    "/events",
    summary="Stream task and service changes as server-sent events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless text/event-stream"}},
)
async def events(
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    token = request.cookies.get(SESSION_COOKIE)

    async def check() -> TaskVisibility | None:
        current: User = await runtime.authenticator.user_for_token(token)
        return await visibility_for(runtime.store, current)

    bus = runtime.events
    stream = event_stream(bus, parse_last_event_id(last_event_id, bus.instance_id), check, user.username)
    return StreamingResponse(
        stream, media_type="text/event-stream",
        # X-Accel-Buffering stops nginx from buffering the stream.
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
