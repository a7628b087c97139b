"""Service liveness: online, suspect, offline, or unknown while TaskDash is blind.

A service's state follows from the age of its last heartbeat on TaskDash's
clock. TaskDash is blind when its intake is not connected, when it has just
started, or when most services fell silent at once. The cause is then more
likely on TaskDash's side, so offline transitions freeze: services that were
alive when the blindness began show `unknown` instead of `offline`. Services
already offline before it stay offline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum


class ServiceState(StrEnum):
    ONLINE = "online"
    SUSPECT = "suspect"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class BlindReason(StrEnum):
    STARTING = "starting"
    INTAKE_DISCONNECTED = "intake_disconnected"
    MASS_SILENCE = "mass_silence"


@dataclass(frozen=True, slots=True)
class LivenessPolicy:
    suspect_after: float = 15.0
    offline_after: float = 30.0
    mass_silence_ratio: float = 0.5
    mass_silence_min_services: int = 3

    @property
    def recent_window(self) -> float:
        """Age below which a service counts as part of the live fleet for the mass-silence guard.

        Services silent for longer drop out of the count, so a real outage of
        most of the fleet ends the freeze after this window and shows offline.
        """
        return 4 * self.offline_after


def judge(last_heartbeat_at: float | None, now: float, policy: LivenessPolicy, blind_since: float | None) -> ServiceState:
    """Return the state of a service whose last heartbeat was at `last_heartbeat_at`.

    `blind_since` is when TaskDash became blind, or None while it can see.
    """
    age = float("inf") if last_heartbeat_at is None else now - last_heartbeat_at
    if age < policy.suspect_after:
        return ServiceState.ONLINE
    was_alive_when_blinded = (
        blind_since is not None
        and last_heartbeat_at is not None
        and last_heartbeat_at > blind_since - policy.offline_after
    )
    if was_alive_when_blinded:
        return ServiceState.UNKNOWN
    if age < policy.offline_after:
        return ServiceState.SUSPECT
    return ServiceState.OFFLINE


def mass_silence(heartbeats: dict[str, float | None], now: float, policy: LivenessPolicy) -> bool:
    """Return True when most recently live services went silent at once."""
    ages = [now - at for at in heartbeats.values() if at is not None and now - at < policy.recent_window]
    if len(ages) < policy.mass_silence_min_services:
        return False
    silent = sum(1 for age in ages if age >= policy.suspect_after)
    return silent / len(ages) >= policy.mass_silence_ratio


@dataclass(slots=True)
class LivenessSnapshot:
    """States of all services at one moment, with the blindness that shaped them."""

    at: float
    states: dict[str, ServiceState]
    blind_reason: BlindReason | None
    blind_since: float | None

    def listable_urls(self) -> tuple[str, ...]:
        """Return the URLs whose tasks are offered to editors: every service that is not offline."""
        return tuple(url for url, state in self.states.items() if state is not ServiceState.OFFLINE)


@dataclass
class LivenessMonitor:
    """Keeps the blindness state of this instance and turns heartbeat times into snapshots.

    One task calls `refresh` about once a second; readers use `snapshot`.
    """

    policy: LivenessPolicy
    intake_expected: bool
    started_at: float = field(default_factory=time.time)
    intake_connected_since: float | None = None
    blind_reason: BlindReason | None = BlindReason.STARTING
    blind_since: float | None = None
    snapshot: LivenessSnapshot = field(init=False)

    def __post_init__(self) -> None:
        self.blind_since = self.started_at
        self.snapshot = LivenessSnapshot(self.started_at, {}, self.blind_reason, self.blind_since)

    def set_intake_connected(self, connected: bool, now: float) -> None:
        if connected and self.intake_connected_since is None:
            self.intake_connected_since = now
        elif not connected:
            self.intake_connected_since = None

    def _current_reason(self, heartbeats: dict[str, float | None], now: float) -> BlindReason | None:
        if self.intake_expected and self.intake_connected_since is None:
            return BlindReason.INTAKE_DISCONNECTED if now - self.started_at > self.policy.suspect_after else BlindReason.STARTING
        listening_since = self.intake_connected_since if self.intake_expected else self.started_at
        assert listening_since is not None
        # Until TaskDash has listened for one suspect period, a quiet service may just be unread backlog.
        if now - listening_since < self.policy.suspect_after:
            return BlindReason.STARTING
        if mass_silence(heartbeats, now, self.policy):
            return BlindReason.MASS_SILENCE
        return None

    def refresh(self, heartbeats: dict[str, float | None], now: float) -> LivenessSnapshot:
        reason = self._current_reason(heartbeats, now)
        if reason is None:
            self.blind_since = None
        elif self.blind_since is None:
            # Mass silence is noticed one suspect period after it began.
            self.blind_since = now - self.policy.suspect_after if reason is BlindReason.MASS_SILENCE else now
        self.blind_reason = reason

        states = {url: judge(at, now, self.policy, self.blind_since) for url, at in heartbeats.items()}
        self.snapshot = LivenessSnapshot(now, states, reason, self.blind_since)
        return self.snapshot
