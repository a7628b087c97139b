"""Change events that the workflow publishes after each successful action."""

from __future__ import annotations

import pytest

from taskdash.errors import AlreadyClaimed
from taskdash.events.bus import TASK, EventBus, Subscription
from taskdash.store.records import TaskRecord, User
from taskdash.store.sqlite.repository import SQLiteRepository
from taskdash.tasks.status import NOTGET
from taskdash.tasks.workflow import Workflow

URL = "http://127.0.0.1:8001/rpost/a"
T0 = 1_700_000_000.0
ACCOUNTS = {
    "alice": (("editor",), ("g1",)),
    "bob": (("editor",), ("g1",)),
    "vera": (("checker",), ("g1",)),
    "mia": (("manager",), ("g1",)),
}


def account(username: str) -> User:
    roles, groups = ACCOUNTS[username]
    return User(username=username, password_hash="unused", roles=roles, groups=groups, created_at=T0)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
async def workflow(store: SQLiteRepository, bus: EventBus) -> Workflow:
    for username in ACCOUNTS:
        await store.add_user(account(username))
    task = TaskRecord(task_id="t1", service_url=URL, status=NOTGET, created_at=T0, updated_at=T0)
    assert await store.insert_tasks([task], []) == []
    return Workflow(store, events=bus)


def published(subscription: Subscription) -> list[dict]:
    events = []
    while not subscription.queue.empty():
        event = subscription.queue.get_nowait()
        assert event.kind == TASK
        events.append(event.data)
    return events


async def test_claim_published(workflow: Workflow, bus: EventBus) -> None:
    subscription = bus.subscribe()

    await workflow.claim(account("alice"), "t1")

    [event] = published(subscription)
    assert event["action"] == "claim"
    assert event["user"] == "alice"
    assert event["previous_status"] == NOTGET
    assert event["version"] == 2


async def test_failed_claim_not_published(workflow: Workflow, bus: EventBus) -> None:
    await workflow.claim(account("alice"), "t1")
    subscription = bus.subscribe()

    with pytest.raises(AlreadyClaimed):
        await workflow.claim(account("bob"), "t1")

    assert published(subscription) == []


async def test_reassign_names_previous_user(workflow: Workflow, bus: EventBus) -> None:
    await workflow.claim(account("alice"), "t1")
    subscription = bus.subscribe()

    await workflow.assign(account("mia"), "t1", "bob", checker="vera", group="g1")

    [event] = published(subscription)
    assert event["action"] == "assign"
    assert event["user"] == "bob"
    assert event["previous_user"] == "alice"
    assert event["checker"] == "vera"
    assert event["actor"] == "mia"


async def test_review_cycle_published(workflow: Workflow, bus: EventBus) -> None:
    await workflow.assign(account("mia"), "t1", "alice", checker="vera", group="g1")
    subscription = bus.subscribe()

    await workflow.submit(account("alice"), "t1")
    await workflow.reject(account("vera"), "t1", "labels missing")
    await workflow.submit(account("alice"), "t1")
    await workflow.approve(account("vera"), "t1")

    events = published(subscription)
    assert [event["action"] for event in events] == ["submit", "reject", "submit", "approve"]
    assert [event["status"] for event in events] == ["checking", "running", "checking", "finish"]
    assert [event["previous_status"] for event in events] == ["running", "checking", "running", "checking"]


async def test_release_names_previous_user(workflow: Workflow, bus: EventBus) -> None:
    await workflow.claim(account("alice"), "t1")
    subscription = bus.subscribe()

    await workflow.release(account("alice"), "t1")

    [event] = published(subscription)
    assert event["user"] == ""
    assert event["previous_user"] == "alice"


async def test_claim_has_no_previous_user(workflow: Workflow, bus: EventBus) -> None:
    subscription = bus.subscribe()

    await workflow.claim(account("alice"), "t1")

    [event] = published(subscription)
    assert event["previous_user"] == ""
