"""Periodic polling of every live task service.

One loop wakes every second and starts a poll for each service that is not
offline, whose next poll is due and whose poll lease this instance holds
(see `taskdash.polling.leases`). A semaphore bounds the polls in flight,
and a service never has two polls at once. A failing service is retried
after a capped exponential backoff; its failure is stored on the service
and never stops the other polls.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time

import httpx
import structlog

from taskdash import metrics
from taskdash.config import Settings
from taskdash.errors import TaskDashError
from taskdash.events.bus import SERVICE, TASKS, EventBus
from taskdash.metadata.sync import sync_service_tasks
from taskdash.polling.fetch import PollError, check_allowed, fetch_task_list
from taskdash.polling.leases import PollLeases
from taskdash.services.liveness import LivenessMonitor, ServiceState
from taskdash.store.protocol import Repository
from taskdash.store.records import TaskSyncResult

log = structlog.get_logger("taskdash.polling")

TICK_SECONDS = 1.0
MAX_ERROR_LENGTH = 500


def backoff_delay(interval: float, failures: int, ceiling: float) -> float:
    """Return the wait before the next poll after `failures` failures in a row."""
    if failures <= 0:
        return interval
    return min(ceiling, interval * 2 ** min(failures, 20))


class Poller:
    def __init__(
        self, settings: Settings, store: Repository, monitor: LivenessMonitor, client: httpx.AsyncClient,
        events: EventBus | None = None, leases: PollLeases | None = None,
    ) -> None:
        self._settings = settings
        self._events = events
        self._leases = leases
        self._store = store
        self._monitor = monitor
        self._client = client
        self._semaphore = asyncio.Semaphore(settings.poll_concurrency)
        self._networks = [ipaddress.ip_network(network, strict=False) for network in settings.allowed_service_networks]
        self._next_poll: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._in_flight: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> None:
        while True:
            now = time.time()
            await self._refresh_leases(now)
            self.start_due_polls(now)
            await asyncio.sleep(TICK_SECONDS)

    async def _refresh_leases(self, now: float) -> None:
        if self._leases is None:
            return
        live = [url for url, state in self._monitor.snapshot.states.items() if state is not ServiceState.OFFLINE]
        try:
            await self._leases.refresh(live, now)
        except TaskDashError as error:
            # The leases already held stay valid until their term ends, so polling goes on meanwhile.
            log.error("poll_leases_failed", error=error.detail)

    def start_due_polls(self, now: float) -> None:
        for url, state in self._monitor.snapshot.states.items():
            if state is ServiceState.OFFLINE or url in self._in_flight:
                continue
            if self._next_poll.get(url, 0.0) > now:
                continue
            if self._leases is not None and not self._leases.holds(url, now):
                continue
            task = asyncio.create_task(self.poll(url), name=f"poll {url}")
            self._in_flight[url] = task
            task.add_done_callback(lambda _, url=url: self._in_flight.pop(url, None))

    async def stop(self) -> None:
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def poll(self, url: str) -> None:
        """Poll one service and store its tasks and the outcome; never raises except on cancel."""
        async with self._semaphore:
            started = time.time()
            error = ""
            try:
                await check_allowed(url, self._networks)
                parsed = await fetch_task_list(
                    self._client, url, self._settings.poll_method, self._settings.poll_timeout,
                    self._settings.poll_max_bytes,
                )
                result = await sync_service_tasks(self._store, url, parsed.tasks, time.time())
            except PollError as failure:
                error = str(failure)
            except TaskDashError as failure:
                error = f"storing the tasks failed: {failure.detail}"
            except Exception as failure:  # noqa: BLE001 - one service's poll must never stop the others
                error = f"unexpected error: {type(failure).__name__}: {failure}"
                log.exception("poll_crashed", service_url=url)

            finished = time.time()
            metrics.POLL_SECONDS.observe(finished - started)
            previous_failures = self._failures.get(url, 0)
            failures = previous_failures + 1 if error else 0
            self._failures[url] = failures
            interval = self._settings.poll_interval
            delay = backoff_delay(interval, failures, max(self._settings.poll_max_backoff, interval))
            # Jitter keeps services that registered together from being polled in lockstep.
            self._next_poll[url] = started + delay * random.uniform(0.9, 1.1)

            if error:
                metrics.POLLS.labels(result="failed").inc()
                # Logged on the 1st, 2nd, 4th, 8th ... failure in a row, so a dead fleet cannot flood the log.
                if failures & (failures - 1) == 0:
                    log.warning(
                        "poll_failed", service_url=url, error=error, failures_in_row=failures, retry_in=round(delay, 1)
                    )
            else:
                metrics.POLLS.labels(result="ok").inc()
                warnings = "; ".join(parsed.warnings)
                changed = result.created or result.updated or result.missing or result.conflicts
                (log.info if changed else log.debug)(
                    "poll_done", service_url=url, tasks=len(parsed.tasks), created=result.created,
                    updated=result.updated, missing=result.missing, conflicts=result.conflicts,
                    warnings=warnings or None, seconds=round(finished - started, 3),
                )
            await self._record(url, finished, error or self._warning_text(parsed.warnings, result), failures, not error)
            self._publish(url, error, failures, previous_failures, None if error else result)

    def _publish(
        self, url: str, error: str, failures: int, previous_failures: int, result: TaskSyncResult | None
    ) -> None:
        """Publish a poll that changed tasks, and a poll that failed first or succeeded again."""
        if self._events is None:
            return
        if result is not None and (changed := result.created + result.updated + result.missing):
            self._events.publish(TASKS, {"service_url": url, "count": changed})
        if failures == 1 or (failures == 0 and previous_failures > 0):
            self._events.publish(SERVICE, {"url": url, "change": "poll", "poll_ok": not error, "poll_error": error})

    @staticmethod
    def _warning_text(warnings: list[str], result: TaskSyncResult) -> str:
        """Return the warnings of a successful poll, stored where the error of a failed one goes."""
        found = list(warnings)
        if result.conflicts:
            found.append(f"{result.conflicts} task ids belong to another service and were not stored")
        return ("warning: " + "; ".join(found)) if found else ""

    async def _record(self, url: str, at: float, message: str, failures: int, ok: bool) -> None:
        try:
            await self._store.record_poll(url, at, ok, message[:MAX_ERROR_LENGTH], failures)
        except TaskDashError as failure:
            log.error("poll_result_not_stored", service_url=url, error=failure.detail)
