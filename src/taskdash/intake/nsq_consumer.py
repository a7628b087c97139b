"""NSQ intake: one pynsq Reader per topic on the application's event loop.

Messages are handled asynchronously: the handler parses the body and hands
it to the IntakeBatcher, which FINishes it after the store commit or
REQueues it with backoff when the store fails. Poison messages become dead
letters (committed like any other write) and are then FINished, so they
never block the queue. `max_tries=0` tells pynsq never to give up on a
message by itself, because its give-up path would FIN and so drop it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

import nsq
import structlog

from taskdash import metrics
from taskdash.config import Settings
from taskdash.intake.batcher import IntakeBatcher
from taskdash.services.messages import InvalidMessage, parse_heartbeat, parse_registration
from taskdash.store.records import DeadLetter

log = structlog.get_logger("taskdash.intake")

LOOKUPD_POLL_INTERVAL = 15


def _drop_close_noise(record: logging.LogRecord) -> bool:
    return "failed to unpack size" not in record.getMessage()


class NsqAck:
    """Ack that sends FIN or REQ to nsqd for one message."""

    __slots__ = ("message",)

    def __init__(self, message: nsq.Message) -> None:
        self.message = message

    def committed(self) -> None:
        if not self.message.has_responded():
            self.message.finish()

    def failed(self, retry_in: float) -> None:
        if not self.message.has_responded():
            self.message.requeue(backoff=True, time_ms=int(retry_in * 1000))


class NsqIntake:
    """Consumes the registration and heartbeat topics into the batcher."""

    def __init__(self, settings: Settings, batcher: IntakeBatcher) -> None:
        self._settings = settings
        self._batcher = batcher
        self._readers: list[nsq.Reader] = []
        # Bound once: looking up labelled children per message is measurable at tens of thousands per second.
        self._counters = {
            (topic, outcome): metrics.INTAKE_MESSAGES.labels(topic=topic, outcome=outcome)
            for topic in (settings.service_topic, settings.heartbeat_topic)
            for outcome in ("accepted", "dead_letter")
        }

    def start(self) -> None:
        """Create the readers. Must run on the event loop that serves the app."""
        topics: list[tuple[str, Callable[[nsq.Message], None]]] = [
            (self._settings.service_topic, self._on_registration),
            (self._settings.heartbeat_topic, self._on_heartbeat),
        ]
        for topic, handler in topics:
            reader = nsq.Reader(
                topic=topic,
                channel=self._settings.channel,
                message_handler=handler,
                nsqd_tcp_addresses=self._settings.nsqd_tcp_addresses or None,
                lookupd_http_addresses=self._settings.lookupd_http_addresses or None,
                max_in_flight=self._settings.max_in_flight,
                max_tries=0,
                lookupd_poll_interval=LOOKUPD_POLL_INTERVAL,
                max_backoff_duration=60,
                user_agent="taskdash",
            )
            self._readers.append(reader)
        log.info(
            "nsq_intake_started",
            nsqd=self._settings.nsqd_tcp_addresses,
            lookupd=self._settings.lookupd_http_addresses,
            channel=self._settings.channel,
            topics=[topic for topic, _ in topics],
        )

    def connected(self) -> bool:
        """Return True when every reader has at least one live nsqd connection."""
        if not self._readers:
            return False
        for reader in self._readers:
            count = sum(1 for conn in reader.conns.values() if not conn.closed())
            metrics.INTAKE_CONNECTIONS.labels(topic=reader.topic).set(count)
            if count == 0:
                return False
        return True

    @contextlib.contextmanager
    def corked(self) -> Iterator[None]:
        """Collect the FIN and REQ commands sent inside the block and write them once per connection.

        pynsq writes each command with its own socket send. Acknowledging a
        batch of thousands of messages in one write saves as many system calls.
        NOTE: this replaces `AsyncConn.send` on the instances for the block's
        duration, which relies on pynsq 0.9.1 sending every command through it.
        """
        buffers: dict[object, list[bytes]] = {}
        connections = [conn for reader in self._readers for conn in reader.conns.values() if not conn.closed()]
        for conn in connections:
            chunks = buffers[conn] = []

            def buffered_send(data: bytes, conn=conn, chunks=chunks) -> None:  # type: ignore[no-untyped-def]
                chunks.append(conn.encoder.encode(data))

            conn.send = buffered_send
        try:
            yield
        finally:
            for conn in connections:
                del conn.send
                if buffers[conn] and not conn.closed():
                    try:
                        conn.stream.write(b"".join(buffers[conn]))
                    except Exception as error:  # noqa: BLE001 - a closed stream; nsqd requeues the messages
                        log.warning("nsq_ack_write_failed", connection=conn.id, error=repr(error))

    def pause(self) -> None:
        """Stop receiving (RDY 0 on every connection) while keeping the connections open."""
        for reader in self._readers:
            reader.set_max_in_flight(0)

    def close(self) -> None:
        # A moment after close() returns, pynsq logs "failed to unpack size" for the read still
        # pending on each connection. On a clean shutdown that line is noise.
        logging.getLogger("nsq.client").addFilter(_drop_close_noise)
        for reader in self._readers:
            reader.close()
        self._readers.clear()

    def _times(self, message: nsq.Message) -> tuple[float, float]:
        received_at = time.time()
        # nsqd stamps each message in nanoseconds when it accepts it; a sender cannot forge it.
        return min(message.timestamp / 1e9, received_at), received_at

    def _on_registration(self, message: nsq.Message) -> None:
        self._handle(message, self._settings.service_topic, is_heartbeat=False)

    def _on_heartbeat(self, message: nsq.Message) -> None:
        self._handle(message, self._settings.heartbeat_topic, is_heartbeat=True)

    def _handle(self, message: nsq.Message, topic: str, is_heartbeat: bool) -> None:
        message.enable_async()
        seen_at, received_at = self._times(message)
        ack = NsqAck(message)
        limit = self._settings.max_message_bytes
        try:
            if is_heartbeat:
                self._batcher.add_heartbeat(parse_heartbeat(message.body, seen_at, limit, received_at), ack)
            else:
                self._batcher.add_registration(parse_registration(message.body, seen_at, limit), ack)
        except InvalidMessage as error:
            log.warning(
                "intake_message_rejected", topic=topic, reason=str(error), message_id=message.id.decode(errors="replace"),
                attempts=message.attempts, body_bytes=len(message.body),
            )
            self._counters[topic, "dead_letter"].inc()
            self._batcher.add_dead_letter(
                DeadLetter(topic=topic, source="nsq", body=bytes(message.body), reason=str(error),
                           received_at=received_at),
                ack,
            )
            return
        self._counters[topic, "accepted"].inc()
