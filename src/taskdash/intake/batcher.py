"""Coalescing writer for intake: the one place that writes liveness state.

NSQ and HTTP intake hand parsed messages to the batcher with an Ack. Every
`flush_interval` (or sooner when many are pending) the batcher keeps only the
newest registration and the newest heartbeat per URL, writes them and the
dead letters in one store transaction, and then acknowledges every message of
the batch. A heartbeat less than `heartbeat_resolution` seconds newer than the
last one this batcher wrote for its URL is held in memory instead: it is
written once it is that old, unless a newer one was written meanwhile. So
store writes grow with the number of services, not of messages, and each
service's stored heartbeat is at most `heartbeat_resolution` behind.
NOTE: a held heartbeat is acknowledged before it is written, so a crash loses
at most its last `heartbeat_resolution` seconds of liveness. When the write
fails, every message of the batch is requeued with a capped backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from taskdash import metrics
from taskdash.errors import StoreWriteFailed, TaskDashError
from taskdash.store.protocol import Repository
from taskdash.store.records import DeadLetter, Heartbeat, Registration

log = structlog.get_logger("taskdash.intake")

MAX_REQUEUE_DELAY = 60.0
# Bound on the per-URL memory of written heartbeats; past it the memory starts afresh.
MAX_REMEMBERED_URLS = 200_000


class Ack(Protocol):
    """Callback pair through which the source of a message learns its outcome."""

    def committed(self) -> None: ...

    def failed(self, retry_in: float) -> None: ...


@dataclass(slots=True)
class FutureAck:
    """Ack for HTTP intake: the request handler awaits the future."""

    future: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def committed(self) -> None:
        if not self.future.done():
            self.future.set_result(None)

    def failed(self, retry_in: float) -> None:
        if not self.future.done():
            self.future.set_exception(StoreWriteFailed(f"storing the message failed; retry in {retry_in:.0f} s"))


@dataclass(slots=True)
class _Pending:
    registrations: dict[str, Registration] = field(default_factory=dict)
    heartbeats: dict[str, Heartbeat] = field(default_factory=dict)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)


class IntakeBatcher:
    def __init__(
        self,
        store: Repository,
        flush_interval: float = 0.05,
        max_pending: int = 5000,
        heartbeat_resolution: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Wraps the acknowledgement loop; the NSQ intake sets it to batch its FIN commands.
        self.ack_context: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext
        self._store = store
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        self._pending = _Pending()
        self._wake = asyncio.Event()
        self._failures = 0
        self._stopping = False
        self._heartbeat_resolution = heartbeat_resolution
        self._clock = clock
        self._written_heartbeats: dict[str, float] = {}
        self._held_heartbeats: dict[str, Heartbeat] = {}

    @property
    def pending(self) -> int:
        return len(self._pending.acks)

    def add_registration(self, registration: Registration, ack: Ack) -> None:
        current = self._pending.registrations.get(registration.url)
        if current is None or registration.seen_at >= current.seen_at:
            self._pending.registrations[registration.url] = registration
        self._add_ack(ack)

    def add_heartbeat(self, heartbeat: Heartbeat, ack: Ack) -> None:
        current = self._pending.heartbeats.get(heartbeat.url)
        if current is None or heartbeat.seen_at >= current.seen_at:
            self._pending.heartbeats[heartbeat.url] = heartbeat
        self._add_ack(ack)

    def add_dead_letter(self, dead_letter: DeadLetter, ack: Ack) -> None:
        self._pending.dead_letters.append(dead_letter)
        self._add_ack(ack)

    def _add_ack(self, ack: Ack) -> None:
        self._pending.acks.append(ack)
        if len(self._pending.acks) >= self._max_pending:
            self._wake.set()

    async def run(self) -> None:
        """Flush until `stop` is called, then flush what is left."""
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._flush_interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()
        await self.flush()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def _heartbeats_to_write(self, heartbeats: Iterable[Heartbeat]) -> list[Heartbeat]:
        """Return the heartbeats due for a write and hold the others until they are due."""
        written, held = self._written_heartbeats, self._held_heartbeats
        resolution = self._heartbeat_resolution
        due: dict[str, Heartbeat] = {}
        for beat in heartbeats:
            if beat.seen_at - written.get(beat.url, -resolution) >= resolution:
                due[beat.url] = beat
                held.pop(beat.url, None)
            elif beat.url not in held or beat.seen_at > held[beat.url].seen_at:
                held[beat.url] = beat

        now = self._clock()
        for url, beat in list(held.items()):
            if now - beat.received_at >= resolution:
                due.setdefault(url, beat)
                del held[url]
        return list(due.values())

    def _hold_again(self, heartbeats: list[Heartbeat]) -> None:
        """Keep heartbeats whose write failed, because some of their messages are already acknowledged."""
        for beat in heartbeats:
            current = self._held_heartbeats.get(beat.url)
            if current is None or beat.seen_at > current.seen_at:
                self._held_heartbeats[beat.url] = beat

    def _remember(self, heartbeats: list[Heartbeat]) -> None:
        if len(self._written_heartbeats) + len(heartbeats) > MAX_REMEMBERED_URLS:
            self._written_heartbeats.clear()
        for beat in heartbeats:
            self._written_heartbeats[beat.url] = beat.seen_at

    async def flush(self) -> None:
        batch, self._pending = self._pending, _Pending()
        if not batch.acks and not self._held_heartbeats:
            return

        started = time.perf_counter()
        heartbeats = self._heartbeats_to_write(batch.heartbeats.values())
        if not batch.acks and not heartbeats:
            return
        try:
            await self._store.apply_intake_batch(list(batch.registrations.values()), heartbeats, batch.dead_letters)
        except Exception as error:  # noqa: BLE001 - the batcher must survive any failure of one batch
            self._failures += 1
            retry_in = min(MAX_REQUEUE_DELAY, 0.5 * 2 ** min(self._failures, 10))
            log.error(
                "intake_batch_failed", error=error.detail if isinstance(error, TaskDashError) else repr(error),
                messages=len(batch.acks), failures_in_row=self._failures, retry_in=retry_in,
                exc_info=not isinstance(error, TaskDashError),
            )
            metrics.INTAKE_BATCHES.labels(result="failed").inc()
            self._hold_again(heartbeats)
            with self.ack_context():
                for ack in batch.acks:
                    ack.failed(retry_in)
            return

        self._failures = 0
        self._remember(heartbeats)
        metrics.INTAKE_BATCHES.labels(result="committed").inc()
        metrics.INTAKE_BATCH_SECONDS.observe(time.perf_counter() - started)
        with self.ack_context():
            for ack in batch.acks:
                ack.committed()
        if batch.dead_letters:
            log.warning("dead_letters_stored", count=len(batch.dead_letters))
