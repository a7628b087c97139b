"""The intake batcher on a real SQLite store: coalescing, acknowledgement and write suppression."""

from __future__ import annotations

from dataclasses import dataclass, field

from taskdash.errors import StoreWriteFailed
from taskdash.intake.batcher import IntakeBatcher
from taskdash.store.records import Heartbeat
from taskdash.store.sqlite.repository import SQLiteRepository

URL = "http://127.0.0.1:9/rpost/a"
T0 = 1_700_000_000.0


@dataclass
class RecordingAck:
    outcomes: list[str] = field(default_factory=list)

    def committed(self) -> None:
        self.outcomes.append("committed")

    def failed(self, retry_in: float) -> None:
        self.outcomes.append("failed")


def beat(seen_at: float) -> Heartbeat:
    return Heartbeat(URL, seen_at, None, seen_at)


async def stored_heartbeat(store: SQLiteRepository) -> float | None:
    return (await store.heartbeat_times())[URL]


async def test_batch_keeps_newest_heartbeat(store: SQLiteRepository) -> None:
    batcher = IntakeBatcher(store)
    ack = RecordingAck()
    for offset in (3.0, 1.0, 2.0):
        batcher.add_heartbeat(beat(T0 + offset), ack)

    await batcher.flush()

    assert await stored_heartbeat(store) == T0 + 3.0
    assert ack.outcomes == ["committed"] * 3


async def test_heartbeat_within_resolution_held(store: SQLiteRepository) -> None:
    batcher = IntakeBatcher(store, heartbeat_resolution=1.0, clock=lambda: T0 + 0.6)
    ack = RecordingAck()
    batcher.add_heartbeat(beat(T0), ack)
    await batcher.flush()

    batcher.add_heartbeat(beat(T0 + 0.5), ack)
    await batcher.flush()

    assert await stored_heartbeat(store) == T0
    assert ack.outcomes == ["committed", "committed"]


async def test_held_heartbeat_written_when_due(store: SQLiteRepository) -> None:
    now = [T0 + 0.6]
    batcher = IntakeBatcher(store, heartbeat_resolution=1.0, clock=lambda: now[0])
    ack = RecordingAck()
    batcher.add_heartbeat(beat(T0), ack)
    await batcher.flush()
    batcher.add_heartbeat(beat(T0 + 0.5), ack)
    await batcher.flush()

    now[0] = T0 + 1.6
    await batcher.flush()

    assert await stored_heartbeat(store) == T0 + 0.5


async def test_heartbeat_past_resolution_written(store: SQLiteRepository) -> None:
    batcher = IntakeBatcher(store, heartbeat_resolution=1.0)
    ack = RecordingAck()
    batcher.add_heartbeat(beat(T0), ack)
    await batcher.flush()

    batcher.add_heartbeat(beat(T0 + 1.5), ack)
    await batcher.flush()

    assert await stored_heartbeat(store) == T0 + 1.5


class FailingStore:
    """Stand-in for a store whose writes fail, as a locked or full disk makes them fail."""

    async def apply_intake_batch(self, *batch: object) -> None:
        raise StoreWriteFailed("disk I/O error")


async def test_failed_write_requeues_and_forgets() -> None:
    batcher = IntakeBatcher(FailingStore(), heartbeat_resolution=1.0)  # type: ignore[arg-type]
    ack = RecordingAck()
    batcher.add_heartbeat(beat(T0), ack)

    await batcher.flush()

    assert ack.outcomes == ["failed"]
    assert batcher._written_heartbeats == {}
    assert URL in batcher._held_heartbeats
