"""The server-sent-event stream: formatting, filtering by visibility, keepalives and session end."""

from __future__ import annotations

import asyncio

from taskdash.api.events import event_stream, format_event, may_see, parse_last_event_id
from taskdash.errors import NotLoggedIn
from taskdash.events.bus import SERVICE, TASK, Event, EventBus
from taskdash.store.records import TaskVisibility

ALICE = TaskVisibility(unclaimed=True, users=("alice",), checkers=(), group_ids=())


def task_event(**fields: str) -> Event:
    data = {
        "task_id": "t1", "status": "running", "user": "bob", "checker": "", "group_id": "",
        "previous_status": "running", "previous_user": "bob", "previous_checker": "", "previous_group_id": "",
    }
    return Event(7, TASK, {**data, **fields}, 0.0)


def test_format_event_lines() -> None:
    event = Event(42, SERVICE, {"url": "http://127.0.0.1:1/x", "state": "online"}, 0.0)

    assert format_event(event, "a1b2") == (
        b'id: a1b2.42\nevent: service\ndata: {"url":"http://127.0.0.1:1/x","state":"online"}\n\n'
    )


def test_other_users_task_hidden() -> None:
    assert not may_see(ALICE, task_event())


def test_claim_of_free_task_shown() -> None:
    assert may_see(ALICE, task_event(previous_status="notget", previous_user=""))


def test_reassigned_away_task_shown() -> None:
    assert may_see(ALICE, task_event(previous_user="alice"))


def test_admin_sees_everything() -> None:
    assert may_see(None, task_event())


def test_service_events_shown_to_all() -> None:
    assert may_see(ALICE, Event(1, SERVICE, {"url": "u"}, 0.0))


def test_last_event_id_parsing() -> None:
    assert parse_last_event_id(None, "a1b2") is None
    assert parse_last_event_id(" ", "a1b2") is None
    assert parse_last_event_id("a1b2.17", "a1b2") == 17
    assert parse_last_event_id("c3d4.17", "a1b2") == 0
    assert parse_last_event_id("17", "a1b2") == 0
    assert parse_last_event_id("a1b2.junk", "a1b2") == 0
    assert parse_last_event_id("a1b2.\u00b2", "a1b2") == 0


async def test_stream_filters_and_keeps_alive() -> None:
    bus = EventBus()

    async def check() -> TaskVisibility:
        return ALICE

    stream = event_stream(bus, None, check, "alice", keepalive=0.05)
    assert await anext(stream) == b"retry: 3000\n\n"
    bus.publish(TASK, task_event().data)
    shown = bus.publish(TASK, task_event(user="alice").data)

    assert await anext(stream) == format_event(shown, bus.instance_id)
    assert await anext(stream) == b": keepalive\n\n"
    await stream.aclose()
    assert bus.subscriber_count == 0


async def test_stream_ends_with_session() -> None:
    bus = EventBus()
    calls = 0

    async def check() -> TaskVisibility:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise NotLoggedIn("the session expired or was revoked: log in again")
        return ALICE

    stream = event_stream(bus, None, check, "alice", keepalive=0.01, recheck=0.0)
    await anext(stream)
    rest = [chunk async for chunk in stream]

    assert rest == []
    assert bus.subscriber_count == 0


async def test_stream_unsubscribes_on_cancel() -> None:
    bus = EventBus()

    async def check() -> TaskVisibility:
        return ALICE

    stream = event_stream(bus, None, check, "alice")
    await anext(stream)
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await stream.aclose()

    assert bus.subscriber_count == 0
