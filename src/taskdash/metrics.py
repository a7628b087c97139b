"""Prometheus metrics, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INTAKE_MESSAGES = Counter(
    "taskdash_intake_messages_total", "Intake messages by topic and outcome", ["topic", "outcome"]
)
INTAKE_BATCHES = Counter("taskdash_intake_batches_total", "Intake store batches by result", ["result"])
INTAKE_BATCH_SECONDS = Histogram("taskdash_intake_batch_seconds", "Time to commit one intake batch")
INTAKE_CONNECTIONS = Gauge("taskdash_intake_nsqd_connections", "Open nsqd connections per topic", ["topic"])
POLLS = Counter("taskdash_polls_total", "Polls of task services by result", ["result"])
POLL_SECONDS = Histogram("taskdash_poll_seconds", "Duration of one poll of a task service")
SERVICES = Gauge("taskdash_services", "Services by liveness state", ["state"])
LEGACY_REQUESTS = Counter(
    "taskdash_legacy_requests_total", "Requests to /rpost/task by operation and errid", ["operation", "errid"]
)
EVENTS_RELAYED = Counter(
    "taskdash_events_relayed_total",
    "Change events shared through NSQ: published, received from other instances, failed or dropped",
    ["outcome"],
)
SQLITE_QUICK_WRITES = Counter(
    "taskdash_sqlite_quick_writes_total",
    "Quick writes of the SQLite store by where they ran: on the event loop, or on the writer thread "
    "(database locked for over 50 ms, earlier writes still on that thread, or the store closing)",
    ["outcome"],
)
SQLITE_QUICK_READS = Counter(
    "taskdash_sqlite_quick_reads_total",
    "Quick reads of the SQLite store: done on the event loop, or moved to a reader thread (over budget or busy)",
    ["outcome"],
)
