"""Heartbeat timelines: bucketing, ring reuse and pruning."""

from __future__ import annotations

from taskdash.services.timeline import HeartbeatTimeline

URL = "http://127.0.0.1:8001/rpost/a"
T0 = 1_700_000_000.0  # a multiple of 10


def counts(timeline: HeartbeatTimeline, now: float) -> list[int]:
    return [count for _, count in timeline.timeline(URL, now)]


def test_advancing_heartbeats_counted() -> None:
    timeline = HeartbeatTimeline(bucket_seconds=10, buckets=3)

    for at in (T0 + 1, T0 + 2, T0 + 2, T0 + 15):
        timeline.observe({URL: at})

    assert timeline.timeline(URL, T0 + 15) == [(T0 - 10, 0), (T0, 2), (T0 + 10, 1)]


def test_unknown_service_all_zero() -> None:
    timeline = HeartbeatTimeline(bucket_seconds=10, buckets=4)

    assert counts(timeline, T0) == [0, 0, 0, 0]


def test_old_buckets_drop_out() -> None:
    timeline = HeartbeatTimeline(bucket_seconds=10, buckets=3)
    timeline.observe({URL: T0 + 1})

    assert counts(timeline, T0 + 20) == [1, 0, 0]
    assert counts(timeline, T0 + 30) == [0, 0, 0]


def test_ring_slots_reused_cleanly() -> None:
    timeline = HeartbeatTimeline(bucket_seconds=10, buckets=3)
    timeline.observe({URL: T0 + 1})
    timeline.observe({URL: T0 + 2})

    timeline.observe({URL: T0 + 31})

    assert counts(timeline, T0 + 31) == [0, 0, 1]


def test_no_heartbeat_ignored() -> None:
    timeline = HeartbeatTimeline(bucket_seconds=10, buckets=2)

    timeline.observe({URL: None})

    assert URL not in timeline
    assert counts(timeline, T0) == [0, 0]


def test_vanished_service_pruned() -> None:
    timeline = HeartbeatTimeline()
    timeline.observe({URL: T0, "http://127.0.0.1:8002/b": T0})

    timeline.observe({"http://127.0.0.1:8002/b": T0 + 1})

    assert URL not in timeline
    assert "http://127.0.0.1:8002/b" in timeline


def test_count_saturates() -> None:
    timeline = HeartbeatTimeline(bucket_seconds=1000, buckets=1)

    for step in range(300):
        timeline.observe({URL: T0 + step})

    assert counts(timeline, T0 + 299) == [255]
