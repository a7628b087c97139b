"""Throttling of failed logins per username and per client address.

The counters live in this process. NOTE: with several instances, each one
counts on its own, so an attacker spread over N instances gets N times the
allowance until the counters move to the store.
"""

from __future__ import annotations

from collections import deque

# A client address may fail this many times more often than one username, because offices share addresses.
ADDRESS_ALLOWANCE_FACTOR = 4
MAX_TRACKED_KEYS = 100_000


class LoginThrottle:
    def __init__(self, max_failures: int, window: float) -> None:
        self._max_failures = max_failures
        self._window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        return times

    def blocked_for(self, username: str, address: str, now: float) -> float:
        """Return the seconds until a login for this username and address may be tried again (0: now)."""
        waits = [0.0]
        for key, limit in (
            (f"user:{username}", self._max_failures),
            (f"addr:{address}", self._max_failures * ADDRESS_ALLOWANCE_FACTOR),
        ):
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append(times[-limit] + self._window - now)
        return max(waits)

    def record_failure(self, username: str, address: str, now: float) -> None:
        if len(self._failures) >= MAX_TRACKED_KEYS:
            self._evict(now)
        for key in (f"user:{username}", f"addr:{address}"):
            times = self._failures.pop(key, None) or deque()
            times.append(now)
            # Re-inserting keeps the dict ordered by last failure, oldest first, for eviction.
            self._failures[key] = times

    def _evict(self, now: float) -> None:
        """Drop expired keys, then the least recently failed tenth, so the table stays bounded."""
        for key in [key for key, times in self._failures.items() if not self._recent(key, now)]:
            del self._failures[key]
        excess = len(self._failures) - MAX_TRACKED_KEYS * 9 // 10
        for key in list(self._failures)[: max(0, excess)]:
            del self._failures[key]

    def record_success(self, username: str, address: str) -> None:
        self._failures.pop(f"user:{username}", None)
