"""Failed-login throttling per username and per client address."""

from __future__ import annotations

from taskdash.accounts import throttle
from taskdash.accounts.throttle import LoginThrottle

NOW = 1_000_000.0


def test_blocks_after_max_failures() -> None:
    limiter = LoginThrottle(max_failures=3, window=60)
    for offset in range(3):
        limiter.record_failure("alice", "10.0.0.1", NOW + offset)

    assert limiter.blocked_for("alice", "10.0.0.2", NOW + 3) == 57


def test_unblocks_after_window() -> None:
    limiter = LoginThrottle(max_failures=3, window=60)
    for offset in range(3):
        limiter.record_failure("alice", "10.0.0.1", NOW + offset)

    assert limiter.blocked_for("alice", "10.0.0.1", NOW + 62) == 0


def test_success_clears_username() -> None:
    limiter = LoginThrottle(max_failures=2, window=60)
    limiter.record_failure("alice", "10.0.0.1", NOW)
    limiter.record_success("alice", "10.0.0.1")
    limiter.record_failure("alice", "10.0.0.1", NOW + 1)

    assert limiter.blocked_for("alice", "10.0.0.3", NOW + 2) == 0


def test_eviction_keeps_recent_lockout(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(throttle, "MAX_TRACKED_KEYS", 100)
    limiter = LoginThrottle(max_failures=3, window=300)
    for offset in range(3):
        limiter.record_failure("admin", "10.0.0.1", NOW + offset)

    # Flooding with other names forces eviction, which drops the least recently failed keys first.
    for number in range(20):
        limiter.record_failure(f"user{number}", f"10.1.0.{number}", NOW + 3)
    limiter.record_failure("admin", "10.0.0.1", NOW + 4)
    for number in range(20, 60):
        limiter.record_failure(f"user{number}", f"10.1.0.{number}", NOW + 5)

    assert limiter.blocked_for("admin", "10.9.9.9", NOW + 6) > 0
