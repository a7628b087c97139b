"""The running parts of one TaskDash instance, started and stopped together.

Start order: store (creating `admin` when it has no users), batcher, NSQ
intake, liveness refresh, event relay, poller. Stop order is the reverse, so the intake
stops handing out messages before the batcher's last flush, and the store
closes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import structlog

from taskdash import __version__, metrics
from taskdash.accounts.admin import create_first_admin
from taskdash.accounts.throttle import LoginThrottle
from taskdash.accounts.users import Authenticator
from taskdash.config import Settings
from taskdash.errors import TaskDashError
from taskdash.events.bus import BLIND, SERVICE, EventBus
from taskdash.events.nsq_relay import NsqEventRelay
from taskdash.intake.batcher import IntakeBatcher
from taskdash.intake.nsq_consumer import NsqIntake
from taskdash.polling.leases import PollLeases
from taskdash.polling.poller import Poller
from taskdash.services.liveness import LivenessMonitor, LivenessPolicy, ServiceState
from taskdash.services.timeline import HeartbeatTimeline
from taskdash.store import open_store, redact_url
from taskdash.store.protocol import Repository
from taskdash.tasks.workflow import Workflow

log = structlog.get_logger("taskdash")

LIVENESS_REFRESH_SECONDS = 1.0
# Above this many state changes in one refresh, one summary line replaces the per-service lines.
MAX_STATE_CHANGE_LINES = 20
SESSION_PURGE_SECONDS = 3600.0
# Above this many service changes in one refresh, one summary event replaces the per-service events.
MAX_STATE_CHANGE_EVENTS = 200


@dataclass
class Runtime:
    settings: Settings
    store: Repository
    monitor: LivenessMonitor
    batcher: IntakeBatcher
    authenticator: Authenticator
    workflow: Workflow
    events: EventBus
    intake: NsqIntake | None = None
    poller: Poller | None = None
    relay: NsqEventRelay | None = None
    http_client: httpx.AsyncClient | None = None
    timeline: HeartbeatTimeline = field(default_factory=HeartbeatTimeline)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, settings: Settings) -> Runtime:
        store = await open_store(settings.database_url)
        try:
            await _create_first_admin(store, settings)
        except BaseException:
            await store.close()
            raise
        policy = LivenessPolicy(
            suspect_after=settings.suspect_after, offline_after=settings.offline_after,
            mass_silence_ratio=settings.mass_silence_ratio,
            mass_silence_min_services=settings.mass_silence_min_services,
        )
        events = EventBus()
        runtime = cls(
            settings=settings,
            events=events,
            store=store,
            monitor=LivenessMonitor(policy, intake_expected=settings.nsq_enabled),
            # Flushing before a reader's window is full keeps messages flowing: nsqd sends no more
            # than max_in_flight unacknowledged messages per connection.
            batcher=IntakeBatcher(
                store, flush_interval=settings.intake_flush_interval, max_pending=max(1, settings.max_in_flight * 4 // 5),
                heartbeat_resolution=settings.heartbeat_resolution,
            ),
            authenticator=Authenticator(
                store, settings.session_ttl, LoginThrottle(settings.login_max_failures, settings.login_failure_window)
            ),
            workflow=Workflow(store, settings.max_tasks_in_work, events),
        )
        runtime._spawn(runtime.batcher.run(), "intake batcher")
        if settings.nsq_enabled:
            runtime.intake = NsqIntake(settings, runtime.batcher)
            runtime.intake.start()
            runtime.batcher.ack_context = runtime.intake.corked
        else:
            log.warning("nsq_intake_disabled", hint="pass --nsqd-tcp-address or --lookupd-http-address")
        await runtime.refresh_liveness()
        runtime._spawn(runtime._refresh_liveness_forever(), "liveness refresh")

        runtime.http_client = httpx.AsyncClient(
            follow_redirects=False, headers={"User-Agent": f"taskdash/{__version__}"},
            limits=httpx.Limits(max_connections=settings.poll_concurrency * 2),
        )
        if settings.nsq_enabled:
            runtime.relay = NsqEventRelay(settings, events, runtime.batcher, runtime.http_client)
            runtime.relay.start()
        leases = PollLeases(store, events.instance_id, settings.poll_lease_seconds)
        runtime.poller = Poller(settings, store, runtime.monitor, runtime.http_client, events, leases)
        runtime._spawn(runtime.poller.run(), "poller")
        runtime._spawn(runtime._purge_sessions_forever(), "session purge")
        # Objects made at start-up live as long as the process. Moving them out of the collector's view
        # keeps full collections, which pause every request, short under load.
        gc.collect()
        gc.freeze()
        log.info("taskdash_started", version=__version__, database_url=redact_url(settings.database_url))
        return runtime

    def _spawn(self, coroutine, name: str) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(self._report_crash)
        self._tasks.append(task)

    @staticmethod
    def _report_crash(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background_task_crashed", task=task.get_name(), error=repr(task.exception()))

    async def refresh_liveness(self) -> None:
        now = time.time()
        if self.intake is not None:
            self.monitor.set_intake_connected(self.intake.connected(), now)
        previous = self.monitor.snapshot
        heartbeats = await self.store.heartbeat_times()
        self.timeline.observe(heartbeats)
        snapshot = self.monitor.refresh(heartbeats, now)
        if snapshot.blind_reason != previous.blind_reason:
            log.warning("liveness_blind", reason=snapshot.blind_reason) if snapshot.blind_reason else log.info(
                "liveness_restored"
            )
            self.events.publish(BLIND, {"reason": snapshot.blind_reason, "since": snapshot.blind_since})
        changes = [
            (url, previous.states[url], state)
            for url, state in snapshot.states.items()
            if url in previous.states and previous.states[url] is not state
        ]
        self._publish_state_changes(previous.states, snapshot.states)
        if len(changes) > MAX_STATE_CHANGE_LINES:
            counts = Counter(f"{before}->{after}" for _, before, after in changes)
            log.info("service_states_changed", count=len(changes), transitions=dict(counts))
        else:
            for url, before, after in changes:
                log.info("service_state_changed", service_url=url, before=before, after=after)
        for state in ServiceState:
            metrics.SERVICES.labels(state=state.value).set(
                sum(1 for value in snapshot.states.values() if value is state)
            )

    def _publish_state_changes(
        self, before: dict[str, ServiceState], after: dict[str, ServiceState]
    ) -> None:
        """Publish one event per service whose state changed or that is new, or one summary event for many."""
        changed = [(url, before.get(url), state) for url, state in after.items() if before.get(url) is not state]
        if len(changed) > MAX_STATE_CHANGE_EVENTS:
            self.events.publish(SERVICE, {"change": "many", "count": len(changed)})
            return
        for url, previous, state in changed:
            self.events.publish(SERVICE, {
                "url": url, "change": "state", "state": state.value, "previous": previous.value if previous else None,
            })

    async def _refresh_liveness_forever(self) -> None:
        while True:
            await asyncio.sleep(LIVENESS_REFRESH_SECONDS)
            try:
                await self.refresh_liveness()
            except TaskDashError as error:
                log.error("liveness_refresh_failed", error=error.detail)

    async def _purge_sessions_forever(self) -> None:
        while True:
            try:
                removed = await self.store.delete_expired_sessions(time.time())
                if removed:
                    log.info("sessions_expired", count=removed)
            except TaskDashError as error:
                log.error("session_purge_failed", error=error.detail)
            await asyncio.sleep(SESSION_PURGE_SECONDS)

    def readiness(self) -> dict[str, str]:
        """Return the readiness of each dependency: "ok" or what is wrong."""
        checks = {"store": "ok"}
        if self.intake is not None:
            checks["nsq"] = "ok" if self.intake.connected() else "not connected to any nsqd"
        return checks

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self.intake is not None:
            self.intake.pause()
        # The batcher's last flush FINishes what is pending while the nsqd connections are still open.
        self.batcher.stop()
        for task in self._tasks:
            if task.get_name() != "intake batcher":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.intake is not None:
            self.intake.close()
        if self.http_client is not None:
            await self.http_client.aclose()
        await self.store.close()
        log.info("taskdash_stopped")


async def _create_first_admin(store: Repository, settings: Settings) -> None:
    """Create `admin` in a store without users, and show a generated password once on standard error."""
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    generated = await create_first_admin(store, password)
    if generated:
        print(
            f"TaskDash created the user 'admin' with the password {generated}\n"
            "This password is shown only once: log in and change it, for example with "
            "`taskdash user passwd admin --password-stdin`.",
            file=sys.stderr, flush=True,
        )
