"""Sharing of change events between TaskDash instances through an NSQ topic.

Every instance publishes the events of its own changes to `events_topic`
and reads that topic on an ephemeral channel of its own, so each instance
gets every event. Events that an instance published itself come back to it
and are skipped. Events are published to the configured nsqd addresses.
With only nsqlookupd addresses, they go to the nodes that nsqlookupd lists,
and nodes that appear later are added when the list is read again.

Events are advisory: they tell dashboards to update. A batch that nsqd
rejects, or that finds no open connection, is logged and counted, not
retried. The dashboards also reload their lists when they reconnect and on
a timer. An event body that cannot be read becomes a dead letter, as on
the intake topics.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import nsq
import orjson
import structlog

from taskdash import metrics
from taskdash.config import Settings
from taskdash.events.bus import Event, EventBus
from taskdash.intake.batcher import IntakeBatcher
from taskdash.intake.nsq_consumer import LOOKUPD_POLL_INTERVAL, NsqAck
from taskdash.store.records import DeadLetter

log = structlog.get_logger("taskdash.events")

FLUSH_SECONDS = 0.05
MAX_BATCH = 500
# At most this many events wait for the next flush; more are dropped and counted.
MAX_PENDING = 10_000
RECONNECT_SECONDS = 5.0


def encode(origin: str, event: Event) -> bytes:
    return orjson.dumps({"origin": origin, "kind": event.kind, "data": event.data, "at": event.at})


def decode(body: bytes) -> tuple[str, str, dict[str, Any]]:
    """Return (origin, kind, data) of an event body; raise ValueError when it is not one."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"event body is not JSON: {error}") from None
    if not isinstance(message, dict):
        raise ValueError("event body is not a JSON object")
    origin, kind, data = message.get("origin"), message.get("kind"), message.get("data")
    if not isinstance(origin, str) or not isinstance(kind, str) or not isinstance(data, dict):
        raise ValueError("event body lacks a string origin, a string kind or an object data")
    return origin, kind, data


class NsqEventRelay:
    def __init__(
        self, settings: Settings, bus: EventBus, batcher: IntakeBatcher, http_client: httpx.AsyncClient
    ) -> None:
        self._settings = settings
        self._bus = bus
        self._batcher = batcher
        self._http = http_client
        self._topic = settings.events_topic
        self._pending: list[bytes] = []
        self._writer: nsq.Writer | None = None
        self._writer_addresses: set[str] = set()
        self._reader: nsq.Reader | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._failed_batches = 0

    def start(self) -> None:
        """Start reading and publishing. Must run on the event loop that serves the app."""
        self._bus.forward = self._forward
        self._reader = nsq.Reader(
            topic=self._topic,
            channel=f"taskdash-{self._bus.instance_id}#ephemeral",
            message_handler=self._on_message,
            nsqd_tcp_addresses=self._settings.nsqd_tcp_addresses or None,
            lookupd_http_addresses=self._settings.lookupd_http_addresses or None,
            max_in_flight=200,
            max_tries=0,
            lookupd_poll_interval=LOOKUPD_POLL_INTERVAL,
            user_agent="taskdash",
        )
        self._add_nsqd(self._settings.nsqd_tcp_addresses)
        if self._settings.lookupd_http_addresses:
            self._tasks.append(asyncio.create_task(self._discover_forever(), name="event relay discovery"))
        self._tasks.append(asyncio.create_task(self._flush_forever(), name="event relay flush"))
        log.info("event_relay_started", topic=self._topic, instance=self._bus.instance_id)

    async def stop(self) -> None:
        self._bus.forward = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._flush()
        if self._reader is not None:
            self._reader.close()
        if self._writer is not None:
            for conn in list(self._writer.conns.values()):
                # NOTE: pynsq 0.9.1's Writer has no close(); removing its close handler stops its reconnect timer.
                conn.off("close", self._writer._on_connection_close)
                conn.close()

    def _forward(self, event: Event) -> None:
        if len(self._pending) >= MAX_PENDING:
            metrics.EVENTS_RELAYED.labels(outcome="dropped").inc()
            return
        self._pending.append(encode(self._bus.instance_id, event))

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            self._flush()

    def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            if self._writer is None:
                self._report_failure(len(batch), "no nsqd address known yet")
                continue
            self._writer.mpub(self._topic, batch, callback=lambda conn, data, size=len(batch): self._published(data, size))

    def _published(self, data: object, size: int) -> None:
        if isinstance(data, nsq.Error):
            self._report_failure(size, str(data))
            return
        metrics.EVENTS_RELAYED.labels(outcome="published").inc(size)

    def _report_failure(self, size: int, reason: str) -> None:
        metrics.EVENTS_RELAYED.labels(outcome="failed").inc(size)
        self._failed_batches += 1
        # Logged on the 1st, 2nd, 4th, 8th ... failure, so an nsqd outage cannot flood the log.
        if self._failed_batches & (self._failed_batches - 1) == 0:
            log.warning("event_relay_publish_failed", events=size, reason=reason, failures=self._failed_batches)

    def _add_nsqd(self, addresses: list[str]) -> None:
        new = [address for address in addresses if address not in self._writer_addresses]
        if not new:
            return
        self._writer_addresses.update(new)
        if self._writer is None:
            self._writer = nsq.Writer(new, reconnect_interval=RECONNECT_SECONDS, user_agent="taskdash")
        else:
            for address in new:
                host, _, port = address.rpartition(":")
                self._writer.connect_to_nsqd(host, int(port))
        log.info("event_relay_nsqd_added", nsqd=new)

    async def _discover_forever(self) -> None:
        while True:
            for lookupd in self._settings.lookupd_http_addresses:
                try:
                    self._add_nsqd(await self._lookup_nodes(lookupd))
                except (httpx.HTTPError, ValueError) as error:
                    log.warning("event_relay_lookup_failed", lookupd=lookupd, error=repr(error))
            await asyncio.sleep(LOOKUPD_POLL_INTERVAL)

    async def _lookup_nodes(self, lookupd: str) -> list[str]:
        """Return the TCP addresses of the nsqd nodes registered with the nsqlookupd at `lookupd`."""
        base = lookupd if lookupd.startswith(("http://", "https://")) else f"http://{lookupd}"
        response = await self._http.get(f"{base}/nodes", timeout=5)
        response.raise_for_status()
        producers = response.json().get("producers", [])
        return [f"{node['broadcast_address']}:{node['tcp_port']}" for node in producers]

    def _on_message(self, message: nsq.Message) -> bool | None:
        try:
            origin, kind, data = decode(message.body)
        except ValueError as error:
            log.warning("event_message_rejected", topic=self._topic, reason=str(error), body_bytes=len(message.body))
            message.enable_async()
            dead_letter = DeadLetter(
                topic=self._topic, source="nsq", body=bytes(message.body), reason=str(error), received_at=time.time()
            )
            self._batcher.add_dead_letter(dead_letter, NsqAck(message))
            return None
        if origin != self._bus.instance_id:
            self._bus.deliver(kind, data)
            metrics.EVENTS_RELAYED.labels(outcome="received").inc()
        return True
