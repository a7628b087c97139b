"""An in-process publish/subscribe bus of change events.

Publishers (the workflow, the poller, the liveness refresh) call `publish`
on the event loop. Each subscriber has a bounded queue. A subscriber that
falls more than its queue size behind loses its queued events and gets one
`resync` event instead, so a slow browser can neither grow memory without
bound nor slow a publisher. The last events stay in a ring buffer, so a client that
reconnects with the id of the last event it saw gets what it missed, or
`resync` when that is no longer in the buffer.

With `forward` set, `publish` also hands each event to it, which is how
`taskdash.events.nsq_relay` sends the events of this instance to the
others. Events that arrive from other instances enter through `deliver`,
which reaches local subscribers only. Event ids count per instance, and an
instance gets a new random `instance_id` at every start, so a client that
reconnects to another instance, or after a restart, gets `resync`.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger("taskdash.events")

TASK = "task"
TASKS = "tasks"
SERVICE = "service"
BLIND = "blind"
RESYNC = "resync"

DEFAULT_QUEUE_SIZE = 1000
DEFAULT_HISTORY_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Event:
    """One change: `kind` is task, tasks, service, blind or resync; `data` is JSON-serialisable."""

    id: int
    kind: str
    data: dict[str, Any]
    at: float


@dataclass(eq=False)
class Subscription:
    """The queue of one subscriber; iterate it with `next_event`."""

    bus: EventBus
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(DEFAULT_QUEUE_SIZE))
    lagged: int = 0

    async def next_event(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        self.bus.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class EventBus:
    def __init__(
        self, queue_size: int = DEFAULT_QUEUE_SIZE, history_size: int = DEFAULT_HISTORY_SIZE,
        instance_id: str | None = None,
    ) -> None:
        self.instance_id = instance_id or secrets.token_hex(6)
        self.forward: Callable[[Event], None] | None = None
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._history: deque[Event] = deque(maxlen=history_size)
        self._ids = itertools.count(1)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, Any]) -> Event:
        """Give a change of this instance to every subscriber and to `forward`; never blocks."""
        event = self.deliver(kind, data)
        if self.forward is not None:
            self.forward(event)
        return event

    def deliver(self, kind: str, data: dict[str, Any]) -> Event:
        """Give the event to the subscribers of this instance only; never blocks."""
        event = Event(next(self._ids), kind, data, time.time())
        self._history.append(event)
        for subscription in self._subscribers:
            self._offer(subscription, event)
        return event

    def subscribe(self, last_event_id: int | None = None) -> Subscription:
        """Return a new subscription; with `last_event_id`, the events after it are queued first."""
        subscription = Subscription(self, asyncio.Queue(self._queue_size))
        self._subscribers.add(subscription)
        if last_event_id is None:
            return subscription
        missed = self._events_after(last_event_id)
        if missed is None:
            self._offer(subscription, self._resync_event())
            return subscription
        for event in missed:
            self._offer(subscription, event)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def _events_after(self, last_event_id: int) -> list[Event] | None:
        """Return the buffered events after `last_event_id`, or None when some of them left the buffer."""
        # Ids start at 1, so 0 stands for an id this instance never gave out.
        if not self._history or last_event_id <= 0:
            return None
        oldest = self._history[0].id
        newest = self._history[-1].id
        if last_event_id == newest:
            return []
        if last_event_id < oldest - 1 or last_event_id > newest:
            return None
        return [event for event in self._history if event.id > last_event_id]

    def _offer(self, subscription: Subscription, event: Event) -> None:
        try:
            subscription.queue.put_nowait(event)
            return
        except asyncio.QueueFull:
            pass
        # The subscriber cannot keep up: its queued events are replaced by one resync, after which it reloads.
        subscription.lagged += 1
        dropped = _drain(subscription.queue)
        subscription.queue.put_nowait(self._resync_event())
        if subscription.lagged & (subscription.lagged - 1) == 0:
            log.warning("event_subscriber_lagged", dropped=dropped, times=subscription.lagged)

    def _resync_event(self) -> Event:
        newest = self._history[-1].id if self._history else 0
        return Event(newest, RESYNC, {}, time.time())


def _drain(queue: asyncio.Queue[Event]) -> int:
    dropped = 0
    while not queue.empty():
        queue.get_nowait()
        dropped += 1
    return dropped
