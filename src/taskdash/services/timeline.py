"""Recent heartbeats per service, counted in time buckets, for the dashboard's timeline.

The counts come from the store's last-heartbeat times that the liveness
refresh reads about once a second. So every instance that shares the store
counts the same heartbeats, even though each NSQ message reaches only one
instance. A heartbeat counts once each time the stored time advances
between two reads. The intake writes a service's heartbeat at most once per
`heartbeat_resolution`, and the reads come about once a second, so the
counts are approximate. A sender of one heartbeat per second showed 5 to 8
per 10-second bucket in a test on loopback. The chart shows when heartbeats arrived and
when they stopped, not an exact count.

Memory is one byte per bucket and service: 60 buckets for 50,000 services
take about 3 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BUCKET_SECONDS = 10
DEFAULT_BUCKETS = 60
MAX_COUNT = 255


@dataclass(slots=True)
class _Ring:
    counts: bytearray
    newest_bucket: int


class HeartbeatTimeline:
    def __init__(self, bucket_seconds: int = DEFAULT_BUCKET_SECONDS, buckets: int = DEFAULT_BUCKETS) -> None:
        self.bucket_seconds = bucket_seconds
        self.buckets = buckets
        self._last_seen: dict[str, float] = {}
        self._rings: dict[str, _Ring] = {}

    def observe(self, heartbeats: dict[str, float | None]) -> None:
        """Count each service whose last heartbeat time advanced since the previous call."""
        for url, at in heartbeats.items():
            if at is None or at <= self._last_seen.get(url, 0.0):
                continue
            self._last_seen[url] = at
            self._count(url, int(at // self.bucket_seconds))
        if len(self._last_seen) > len(heartbeats):
            # Services that left the store (archived) leave the timeline too.
            for url in [url for url in self._last_seen if url not in heartbeats]:
                del self._last_seen[url]
                self._rings.pop(url, None)

    def _count(self, url: str, bucket: int) -> None:
        ring = self._rings.get(url)
        if ring is None:
            ring = self._rings[url] = _Ring(bytearray(self.buckets), bucket)
        if bucket > ring.newest_bucket:
            # Clear the slots of the buckets that passed without a heartbeat, then move on.
            for skipped in range(ring.newest_bucket + 1, min(bucket, ring.newest_bucket + self.buckets) + 1):
                ring.counts[skipped % self.buckets] = 0
            ring.newest_bucket = bucket
        elif bucket <= ring.newest_bucket - self.buckets:
            return
        slot = bucket % self.buckets
        ring.counts[slot] = min(MAX_COUNT, ring.counts[slot] + 1)

    def timeline(self, url: str, now: float) -> list[tuple[float, int]]:
        """Return (bucket start in Unix seconds, heartbeats) for the last `buckets` buckets up to `now`, oldest first."""
        current = int(now // self.bucket_seconds)
        ring = self._rings.get(url)
        result = []
        for bucket in range(current - self.buckets + 1, current + 1):
            stored = ring is not None and ring.newest_bucket - self.buckets < bucket <= ring.newest_bucket
            count = ring.counts[bucket % self.buckets] if stored and ring is not None else 0
            result.append((float(bucket * self.bucket_seconds), count))
        return result

    def __contains__(self, url: str) -> bool:
        return url in self._last_seen
