"""The in-process event bus: delivery, lagging subscribers and replay after a reconnect."""

from __future__ import annotations

from taskdash.events.bus import RESYNC, SERVICE, TASK, EventBus


async def drain(subscription) -> list:  # type: ignore[no-untyped-def]
    events = []
    while not subscription.queue.empty():
        events.append(await subscription.next_event())
    return events


async def test_publish_reaches_every_subscriber() -> None:
    bus = EventBus()
    first, second = bus.subscribe(), bus.subscribe()

    event = bus.publish(TASK, {"task_id": "t1"})

    assert await drain(first) == [event]
    assert await drain(second) == [event]


async def test_ids_increase() -> None:
    bus = EventBus()

    ids = [bus.publish(SERVICE, {"n": n}).id for n in range(3)]

    assert ids == sorted(ids)
    assert len(set(ids)) == 3


async def test_closed_subscription_gets_nothing() -> None:
    bus = EventBus()
    with bus.subscribe() as subscription:
        pass

    bus.publish(TASK, {"task_id": "t1"})

    assert await drain(subscription) == []
    assert bus.subscriber_count == 0


async def test_lagging_subscriber_gets_one_resync() -> None:
    bus = EventBus(queue_size=3)
    slow = bus.subscribe()

    for n in range(5):
        bus.publish(TASK, {"n": n})
    events = await drain(slow)

    assert [event.kind for event in events] == [RESYNC, TASK]
    assert events[1].data == {"n": 4}
    assert slow.lagged == 1


async def test_lagging_subscriber_spares_others() -> None:
    bus = EventBus(queue_size=2)
    bus.subscribe()
    fast = bus.subscribe()

    for n in range(2):
        bus.publish(TASK, {"n": n})
    fast_events = await drain(fast)
    bus.publish(TASK, {"n": 2})

    assert [event.data for event in fast_events] == [{"n": 0}, {"n": 1}]
    assert [event.data for event in await drain(fast)] == [{"n": 2}]


async def test_reconnect_replays_missed_events() -> None:
    bus = EventBus()
    seen = bus.publish(TASK, {"n": 0})
    missed = [bus.publish(TASK, {"n": n}) for n in (1, 2)]

    subscription = bus.subscribe(last_event_id=seen.id)

    assert await drain(subscription) == missed


async def test_reconnect_after_newest_replays_nothing() -> None:
    bus = EventBus()
    newest = bus.publish(TASK, {"n": 0})

    subscription = bus.subscribe(last_event_id=newest.id)

    assert await drain(subscription) == []


async def test_reconnect_past_buffer_gets_resync() -> None:
    bus = EventBus(history_size=2)
    seen = bus.publish(TASK, {"n": 0})
    for n in range(1, 4):
        bus.publish(TASK, {"n": n})

    events = await drain(bus.subscribe(last_event_id=seen.id))

    assert [event.kind for event in events] == [RESYNC]


async def test_unknown_last_id_gets_resync() -> None:
    bus = EventBus()
    bus.publish(TASK, {"n": 0})

    events = await drain(bus.subscribe(last_event_id=0))

    assert [event.kind for event in events] == [RESYNC]


async def test_publish_forwards_deliver_does_not() -> None:
    bus = EventBus()
    forwarded = []
    bus.forward = forwarded.append
    subscription = bus.subscribe()

    local = bus.publish(TASK, {"n": 0})
    remote = bus.deliver(TASK, {"n": 1})

    assert forwarded == [local]
    assert await drain(subscription) == [local, remote]


async def test_instances_get_distinct_ids() -> None:
    assert EventBus().instance_id != EventBus().instance_id
