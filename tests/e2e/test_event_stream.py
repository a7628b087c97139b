"""End to end: the server-sent-event stream of a real `taskdash serve`, fed by a Go reference service."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from devtools.procs import Nsqd, TaskDashServer, wait_until

pytestmark = pytest.mark.e2e

STREAM_SECONDS = 60.0


@dataclass
class ServerEvent:
    id: str
    kind: str
    data: dict[str, Any]


def parse_events(lines: Iterator[str]) -> Iterator[ServerEvent]:
    """Yield the events of a text/event-stream, skipping comments and the retry field."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                yield ServerEvent(fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"]))
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")


@contextmanager
def open_stream(client: httpx.Client, last_event_id: str | None = None) -> Iterator[queue.Queue[ServerEvent]]:
    """Read /api/v1/events with the session of `client` in a thread, and yield the queue its events arrive on."""
    received: queue.Queue[ServerEvent] = queue.Queue()
    opened = threading.Event()
    stop = threading.Event()
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    # A client of its own, so that closing it after the test cannot disturb `client`.
    stream_client = httpx.Client(base_url=client.base_url, cookies=client.cookies, timeout=httpx.Timeout(5, read=20))

    def read() -> None:
        try:
            with stream_client.stream("GET", "/api/v1/events", headers=headers) as response:
                assert response.status_code == 200, response.read()
                assert response.headers["content-type"].startswith("text/event-stream")
                opened.set()
                deadline = time.monotonic() + STREAM_SECONDS
                for event in parse_events(response.iter_lines()):
                    received.put(event)
                    if stop.is_set() or time.monotonic() > deadline:
                        return
        except httpx.HTTPError:
            if not stop.is_set():
                raise

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(10), "the event stream did not open"
    try:
        yield received
    finally:
        # The reader ends at its next event or keepalive, or when the server stops.
        stop.set()
        stream_client.close()


def next_task_event(events: queue.Queue[ServerEvent], task_id: str, timeout: float = 10) -> ServerEvent:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = events.get(timeout=left)
        except queue.Empty:
            break
        if event.kind == "task" and event.data["task_id"] == task_id:
            return event
    raise AssertionError(f"no task event for {task_id!r} within {timeout} s")


def unclaimed(server: TaskDashServer, client: httpx.Client, count: int) -> list[str]:
    def listed() -> list[str] | None:
        page = client.get("/api/v1/tasks", params={"status": "notget"}).json()
        return [task["task_id"] for task in page["tasks"]] if page["total"] == count else None

    return wait_until(listed, 60, f"{count} unclaimed tasks on {server.base_url}")


def test_claim_reaches_other_editor(nsqd: Nsqd, make_editors, start_taskdash, start_refservice) -> None:
    (claimer, claimer_password), (watcher, watcher_password) = make_editors(2)
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "streamed", "sy-sse", tasks=5)

    with server.login(claimer, claimer_password) as claiming, server.login(watcher, watcher_password) as watching:
        task_id = unclaimed(server, watching, 5)[0]
        with open_stream(watching) as events:
            claim = claiming.post(f"/api/v1/tasks/{task_id}/claim")
            event = next_task_event(events, task_id)

    assert claim.status_code == 200, claim.text
    assert event.data["action"] == "claim"
    assert event.data["status"] == "running"
    assert event.data["user"] == claimer
    assert event.data["actor"] == claimer
    assert event.data["previous_status"] == "notget"
    assert event.data["version"] == claim.json()["version"]


def test_reconnect_replays_missed_claim(nsqd: Nsqd, make_editors, start_taskdash, start_refservice) -> None:
    (claimer, claimer_password), (watcher, watcher_password) = make_editors(2)
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "replayed", "sy-replay", tasks=3)

    with server.login(claimer, claimer_password) as claiming, server.login(watcher, watcher_password) as watching:
        first, second = unclaimed(server, watching, 3)[:2]
        with open_stream(watching) as events:
            claiming.post(f"/api/v1/tasks/{first}/claim").raise_for_status()
            seen = next_task_event(events, first)
        # Claimed while the watcher is disconnected.
        claiming.post(f"/api/v1/tasks/{second}/claim").raise_for_status()
        with open_stream(watching, last_event_id=seen.id) as events:
            missed = next_task_event(events, second)

    assert missed.id.split(".")[0] == seen.id.split(".")[0]
    assert int(missed.id.split(".")[1]) > int(seen.id.split(".")[1])
    assert missed.data["user"] == claimer


def test_stream_needs_login(nsqd: Nsqd, start_taskdash) -> None:
    server = start_taskdash(nsqd)

    response = httpx.get(f"{server.base_url}/api/v1/events", timeout=10)

    assert response.status_code == 401
    assert response.json()["errid"] == 1003


def test_claim_on_other_instance_arrives(nsqd: Nsqd, make_editors, start_taskdash, start_refservice) -> None:
    (claimer, claimer_password), (watcher, watcher_password) = make_editors(2)
    watched_instance = start_taskdash(nsqd)
    claiming_instance = start_taskdash(nsqd)
    start_refservice(nsqd, "shared", "sy-fanout", tasks=3)

    with (
        claiming_instance.login(claimer, claimer_password) as claiming,
        watched_instance.login(watcher, watcher_password) as watching,
    ):
        task_id = unclaimed(watched_instance, watching, 3)[0]
        with open_stream(watching) as events:
            claiming.post(f"/api/v1/tasks/{task_id}/claim").raise_for_status()
            event = next_task_event(events, task_id, timeout=20)

    assert event.data["user"] == claimer
    assert event.data["action"] == "claim"


def test_id_of_other_instance_gets_resync(nsqd: Nsqd, make_editors, start_taskdash, start_refservice) -> None:
    [(watcher, password)] = make_editors(1)
    first, second = start_taskdash(nsqd), start_taskdash(nsqd)
    start_refservice(nsqd, "resynced", "sy-resync", tasks=1)

    with first.login(watcher, password) as on_first, second.login(watcher, password) as on_second:
        task_id = unclaimed(first, on_first, 1)[0]
        with open_stream(on_first) as events:
            on_first.post(f"/api/v1/tasks/{task_id}/claim").raise_for_status()
            seen = next_task_event(events, task_id)
        with open_stream(on_second, last_event_id=seen.id) as events:
            replayed = events.get(timeout=20)

    assert replayed.kind == "resync"


def test_unreadable_event_dead_lettered(nsqd: Nsqd, start_taskdash, admin) -> None:
    server = start_taskdash(nsqd)

    with server.login(*admin) as client:
        # The relay's reader must be subscribed before the message is published, or nsqd keeps it with no reader.
        wait_until(lambda: has_event_channel(nsqd), 30, "the event relay's channel")
        nsqd.publish("taskdash_events", b"not json")
        letters = wait_until(
            lambda: client.get("/api/v1/dead-letters").json()["dead_letters"] or None, 30, "a dead letter"
        )

    assert letters[0]["topic"] == "taskdash_events"
    assert "not JSON" in letters[0]["reason"]


def has_event_channel(nsqd: Nsqd) -> bool:
    topics = nsqd.stats().get("topics") or []
    return any(topic["topic_name"] == "taskdash_events" and topic.get("channels") for topic in topics)
