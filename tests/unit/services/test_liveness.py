"""Service liveness: judge(), the mass-silence guard and the LivenessMonitor's blindness."""

from __future__ import annotations

import pytest

from taskdash.services.liveness import (
    BlindReason,
    LivenessMonitor,
    LivenessPolicy,
    LivenessSnapshot,
    ServiceState,
    judge,
    mass_silence,
)

POLICY = LivenessPolicy(suspect_after=15.0, offline_after=30.0, mass_silence_ratio=0.5, mass_silence_min_services=3)
NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0.0, ServiceState.ONLINE),
        (14.999, ServiceState.ONLINE),
        (15.0, ServiceState.SUSPECT),
        (29.999, ServiceState.SUSPECT),
        (30.0, ServiceState.OFFLINE),
        (3600.0, ServiceState.OFFLINE),
    ],
)
def test_judge_age_boundaries(age: float, expected: ServiceState) -> None:
    assert judge(NOW - age, NOW, POLICY, blind_since=None) is expected


def test_judge_never_heard_is_offline() -> None:
    assert judge(None, NOW, POLICY, blind_since=None) is ServiceState.OFFLINE


def test_judge_fresh_heartbeat_online_while_blind() -> None:
    assert judge(NOW - 1, NOW, POLICY, blind_since=NOW - 100) is ServiceState.ONLINE


def test_judge_alive_before_blindness_is_unknown() -> None:
    blind_since = NOW - 100
    # Two seconds before the blindness began the service was online.
    last_heartbeat = blind_since - 2

    assert judge(last_heartbeat, NOW, POLICY, blind_since) is ServiceState.UNKNOWN


def test_judge_suspect_before_blindness_is_unknown() -> None:
    blind_since = NOW - 100
    last_heartbeat = blind_since - 20

    assert judge(last_heartbeat, NOW, POLICY, blind_since) is ServiceState.UNKNOWN


def test_judge_offline_before_blindness_stays_offline() -> None:
    blind_since = NOW - 100
    last_heartbeat = blind_since - POLICY.offline_after - 1

    assert judge(last_heartbeat, NOW, POLICY, blind_since) is ServiceState.OFFLINE


def test_judge_offline_exactly_at_blindness_stays_offline() -> None:
    blind_since = NOW - 100
    last_heartbeat = blind_since - POLICY.offline_after

    assert judge(last_heartbeat, NOW, POLICY, blind_since) is ServiceState.OFFLINE


def test_judge_never_heard_while_blind_is_offline() -> None:
    assert judge(None, NOW, POLICY, blind_since=NOW - 100) is ServiceState.OFFLINE


def _heartbeats(ages: list[float | None]) -> dict[str, float | None]:
    return {f"http://s{i}.test/": None if age is None else NOW - age for i, age in enumerate(ages)}


def test_mass_silence_half_silent() -> None:
    assert mass_silence(_heartbeats([1, 1, 20, 20]), NOW, POLICY) is True


def test_mass_silence_below_ratio() -> None:
    assert mass_silence(_heartbeats([1, 1, 1, 20]), NOW, POLICY) is False


def test_mass_silence_all_silent_at_minimum_count() -> None:
    assert mass_silence(_heartbeats([20, 20, 20]), NOW, POLICY) is True


def test_mass_silence_below_minimum_count() -> None:
    assert mass_silence(_heartbeats([20, 20]), NOW, POLICY) is False


def test_mass_silence_ignores_long_dead_services() -> None:
    # Services silent for longer than the recent window are not part of the live fleet.
    long_dead = POLICY.recent_window + 1

    assert mass_silence(_heartbeats([1, 1, 1, long_dead, long_dead, long_dead]), NOW, POLICY) is False


def test_mass_silence_ignores_never_heard_services() -> None:
    assert mass_silence(_heartbeats([20, 20, None, None]), NOW, POLICY) is False


def test_mass_silence_empty_fleet() -> None:
    assert mass_silence({}, NOW, POLICY) is False


def test_snapshot_listable_urls_exclude_offline() -> None:
    snapshot = LivenessSnapshot(
        at=NOW,
        states={
            "http://online.test/": ServiceState.ONLINE,
            "http://suspect.test/": ServiceState.SUSPECT,
            "http://offline.test/": ServiceState.OFFLINE,
            "http://unknown.test/": ServiceState.UNKNOWN,
        },
        blind_reason=None,
        blind_since=None,
    )

    assert snapshot.listable_urls() == ("http://online.test/", "http://suspect.test/", "http://unknown.test/")


def _monitor(intake_expected: bool = True) -> LivenessMonitor:
    return LivenessMonitor(POLICY, intake_expected=intake_expected, started_at=NOW)


def test_monitor_starts_blind_starting() -> None:
    monitor = _monitor()

    assert monitor.snapshot.blind_reason is BlindReason.STARTING
    assert monitor.blind_since == NOW


def test_monitor_starting_until_intake_connects() -> None:
    monitor = _monitor()

    snapshot = monitor.refresh({}, NOW + POLICY.suspect_after - 1)

    assert snapshot.blind_reason is BlindReason.STARTING


def test_monitor_intake_disconnected_after_suspect_period() -> None:
    monitor = _monitor()

    snapshot = monitor.refresh({}, NOW + POLICY.suspect_after + 1)

    assert snapshot.blind_reason is BlindReason.INTAKE_DISCONNECTED


def test_monitor_starting_for_suspect_period_after_connect() -> None:
    monitor = _monitor()
    connected_at = NOW + 100
    monitor.set_intake_connected(True, connected_at)

    during = monitor.refresh({}, connected_at + POLICY.suspect_after - 1)
    assert during.blind_reason is BlindReason.STARTING

    after = monitor.refresh({}, connected_at + POLICY.suspect_after)
    assert after.blind_reason is None
    assert after.blind_since is None


def test_monitor_without_intake_counts_from_start() -> None:
    monitor = _monitor(intake_expected=False)

    assert monitor.refresh({}, NOW + POLICY.suspect_after - 1).blind_reason is BlindReason.STARTING
    assert monitor.refresh({}, NOW + POLICY.suspect_after).blind_reason is None


def test_monitor_starting_shows_backlog_service_unknown() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    # The service sent its last heartbeat 20 s before this start, so later ones may still wait in the backlog.
    heartbeats = {"http://a.test/": NOW - 20}

    snapshot = monitor.refresh(heartbeats, NOW + 5)

    assert snapshot.states["http://a.test/"] is ServiceState.UNKNOWN


def test_monitor_starting_keeps_long_dead_service_offline() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    heartbeats = {"http://a.test/": NOW - 3600}

    snapshot = monitor.refresh(heartbeats, NOW + 5)

    assert snapshot.states["http://a.test/"] is ServiceState.OFFLINE


def test_monitor_intake_lost_freezes_offline() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    heartbeats = {"http://a.test/": NOW + 100}
    assert monitor.refresh(heartbeats, NOW + 101).states["http://a.test/"] is ServiceState.ONLINE

    monitor.set_intake_connected(False, NOW + 102)
    monitor.refresh(heartbeats, NOW + 102)
    snapshot = monitor.refresh(heartbeats, NOW + 200)

    assert snapshot.blind_reason is BlindReason.INTAKE_DISCONNECTED
    assert snapshot.blind_since == NOW + 102
    assert snapshot.states["http://a.test/"] is ServiceState.UNKNOWN


def test_monitor_intake_reconnect_clears_blindness() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    monitor.refresh({}, NOW + 100)
    monitor.set_intake_connected(False, NOW + 110)
    assert monitor.refresh({}, NOW + 120).blind_reason is BlindReason.INTAKE_DISCONNECTED

    monitor.set_intake_connected(True, NOW + 130)
    assert monitor.refresh({}, NOW + 131).blind_reason is BlindReason.STARTING

    cleared = monitor.refresh({}, NOW + 130 + POLICY.suspect_after)
    assert cleared.blind_reason is None
    assert cleared.blind_since is None


def test_monitor_repeated_connect_keeps_first_time() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    monitor.set_intake_connected(True, NOW + 10)

    assert monitor.intake_connected_since == NOW


def _fleet(last_heartbeat: float, count: int = 4) -> dict[str, float | None]:
    return {f"http://s{i}.test/": last_heartbeat for i in range(count)}


def test_monitor_mass_silence_freezes_fleet() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    silent_since = NOW + 100
    assert monitor.refresh(_fleet(silent_since), silent_since + 1).blind_reason is None

    now = silent_since + POLICY.suspect_after + 1
    snapshot = monitor.refresh(_fleet(silent_since), now)

    assert snapshot.blind_reason is BlindReason.MASS_SILENCE
    # The silence is noticed one suspect period after it began.
    assert snapshot.blind_since == now - POLICY.suspect_after
    assert set(snapshot.states.values()) == {ServiceState.UNKNOWN}


def test_monitor_mass_silence_stays_unknown_past_offline_after() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    silent_since = NOW + 100
    monitor.refresh(_fleet(silent_since), silent_since + POLICY.suspect_after + 1)

    snapshot = monitor.refresh(_fleet(silent_since), silent_since + POLICY.offline_after + 10)

    assert snapshot.blind_reason is BlindReason.MASS_SILENCE
    assert set(snapshot.states.values()) == {ServiceState.UNKNOWN}


def test_monitor_mass_silence_cleared_by_heartbeats() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    silent_since = NOW + 100
    monitor.refresh(_fleet(silent_since), silent_since + POLICY.suspect_after + 1)

    now = silent_since + POLICY.suspect_after + 5
    snapshot = monitor.refresh(_fleet(now - 1), now)

    assert snapshot.blind_reason is None
    assert snapshot.blind_since is None
    assert set(snapshot.states.values()) == {ServiceState.ONLINE}


def test_monitor_single_silent_service_goes_offline() -> None:
    monitor = _monitor()
    monitor.set_intake_connected(True, NOW)
    now = NOW + 200
    heartbeats = {**_fleet(now - 1, count=3), "http://quiet.test/": now - POLICY.offline_after - 1}

    snapshot = monitor.refresh(heartbeats, now)

    assert snapshot.blind_reason is None
    assert snapshot.states["http://quiet.test/"] is ServiceState.OFFLINE
    assert "http://quiet.test/" not in snapshot.listable_urls()


def test_monitor_snapshot_replaced_on_refresh() -> None:
    monitor = _monitor()

    snapshot = monitor.refresh({"http://a.test/": NOW}, NOW + 1)

    assert monitor.snapshot is snapshot
    assert snapshot.at == NOW + 1
