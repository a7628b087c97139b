"""Intake throughput: TaskDash on each store backend against nsq_tail on the same heartbeat backlog.

Every consumer reads one topic through its own channel: TaskDash once per
backend, then nsq_tail. All channels are created before publishing, so each
contains the whole backlog before its consumer starts, and the consumers run
one after the other.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.backends import FERRETDB, SQLITE, BenchStore, fresh_store
from bench.channel_timer import ChannelTimer, channel_counters
from devtools.procs import Nsqd, TaskDashServer, closed_port, tool, wait_until

TOPIC = "heartBeat"
# TaskDash on SQLite reads the default channel, as a deployment does. On any other backend it reads a channel
# of its own.
DEFAULT_CHANNEL = "taskdash"
TAIL_CHANNEL = "nsq_tail"
NSQ_TAIL = "nsq_tail"
PUBLISH_BATCH = 5000
# nsq_tail gets the same window of unacknowledged messages as TaskDash's default --max-in-flight.
MAX_IN_FLIGHT = 2500
CONSUME_TIMEOUT = 300.0
# Seconds that TaskDash on a backend may consume before its time ends, drained or not. TaskDash on
# FerretDB writes far more slowly than on SQLite, and draining the default backlog would take minutes.
WINDOWS = {FERRETDB: 20.0}


@dataclass(slots=True)
class ConsumerResult:
    """One consumer's pass over the backlog. `name` is "TaskDash, <backend label>" or "nsq_tail"."""

    name: str
    # Messages FINished in `seconds`, which is the whole backlog unless the consumer's window ended first.
    messages: int
    seconds: float
    finished: int
    requeued: int
    timed_out: int
    drained: bool = True

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


@dataclass(slots=True)
class IntakeRun:
    """The consumers of one backlog, in the order they ran."""

    publish_seconds: float
    consumers: list[ConsumerResult]


@dataclass(slots=True)
class IntakeResult:
    messages: int
    services: int
    runs: list[IntakeRun]
    # The `taskdash serve` command of each backend, by backend label.
    taskdash_commands: dict[str, list[str]]
    nsq_tail_command: list[str]
    nsqd_version: str

    def median_rate(self, consumer: str) -> float:
        """Return the median rate of the consumer named `consumer` over the runs."""
        return statistics.median(
            result.rate for run in self.runs for result in run.consumers if result.name == consumer
        )


def taskdash_consumer(backend_label: str) -> str:
    """Return the consumer name of TaskDash on the backend labelled `backend_label`."""
    return f"TaskDash, {backend_label}"


def channel_of(backend: str) -> str:
    return DEFAULT_CHANNEL if backend == SQLITE else f"{DEFAULT_CHANNEL}_{backend}"


def heartbeat_bodies(messages: int, services: int, port: int) -> list[bytes]:
    now = int(time.time())
    return [
        orjson.dumps({"url": f"http://127.0.0.1:{port}/rpost/bench-{index % services}", "time": now, "reserved": "no"})
        for index in range(messages)
    ]


def publish_backlog(nsqd: Nsqd, bodies: list[bytes], channels: list[str]) -> float:
    """Publish `bodies` in /mpub batches, wait until all `channels` contain all of them, and return the seconds."""
    started = time.monotonic()
    for start in range(0, len(bodies), PUBLISH_BATCH):
        nsqd.publish_many(TOPIC, bodies[start:start + PUBLISH_BATCH])

    def holds_backlog(channel: str) -> bool:
        counters = channel_counters(nsqd.http_address, TOPIC, channel)
        return counters is not None and counters["depth"] == len(bodies)

    for channel in channels:
        wait_until(lambda channel=channel: holds_backlog(channel), 60, f"{len(bodies)} messages in channel {channel}",
                   interval=0.2)
    return time.monotonic() - started


def time_taskdash(workdir: Path, nsqd: Nsqd, messages: int, store: BenchStore) -> tuple[ConsumerResult, list[str]]:
    """Time a fresh `taskdash serve` on `store` from its first message in flight until its channel is empty."""
    channel = channel_of(store.backend)
    channel_args = [] if channel == DEFAULT_CHANNEL else ["--channel", channel]
    args = ["--database-url", store.database_url, "--nsqd-tcp-address", nsqd.tcp_address, *channel_args]
    timer = ChannelTimer(nsqd.http_address, TOPIC, channel, messages, CONSUME_TIMEOUT,
                         window=WINDOWS.get(store.backend))
    timer.start()
    server = TaskDashServer.start(workdir, args, env={"TASKDASH_LOG_LEVEL": "warning"},
                                  name=f"taskdash-intake-{store.backend}")
    try:
        timing = timer.wait()
    finally:
        server.managed.stop()
    command = ["taskdash", "serve", "--database-url", store.shown_url("FRESH"), "--nsqd-tcp-address", "NSQD",
               *channel_args]
    return ConsumerResult(
        taskdash_consumer(store.label), timing.finished, timing.seconds, timing.finished, timing.requeued,
        timing.timed_out, drained=timing.drained_at is not None,
    ), command


def time_nsq_tail(workdir: Path, nsqd: Nsqd, messages: int) -> tuple[ConsumerResult, list[str]]:
    """Time nsq_tail from its first message in flight until it exits after printing `messages` messages.

    nsq_tail exits as soon as it has printed `-n` messages, before FINishing the
    last few, so its channel never drains and its time ends at its exit instead.
    """
    args = [
        str(tool("nsq_tail")), f"--topic={TOPIC}", f"--channel={TAIL_CHANNEL}",
        f"--nsqd-tcp-address={nsqd.tcp_address}", f"-n={messages}", f"--max-in-flight={MAX_IN_FLIGHT}",
    ]
    displayed_command = ["nsq_tail", f"--topic={TOPIC}", f"--channel={TAIL_CHANNEL}", "--nsqd-tcp-address=NSQD", f"-n={messages}",
             f"--max-in-flight={MAX_IN_FLIGHT}", ">/dev/null"]
    timer = ChannelTimer(nsqd.http_address, TOPIC, TAIL_CHANNEL, messages, CONSUME_TIMEOUT)
    timer.start()
    with open(workdir / "nsq_tail.log", "wb") as log, open("/dev/null", "wb") as devnull:
        process = subprocess.Popen(args, stdout=devnull, stderr=log, stdin=subprocess.DEVNULL)
        try:
            process.wait(CONSUME_TIMEOUT)
            exited_at = time.monotonic()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    timing = timer.stop()
    if process.returncode != 0 or timing.started_at is None:
        raise RuntimeError(f"nsq_tail failed with exit status {process.returncode}; see {workdir / 'nsq_tail.log'}")
    counters = channel_counters(nsqd.http_address, TOPIC, TAIL_CHANNEL) or {}
    return ConsumerResult(
        NSQ_TAIL, messages, exited_at - timing.started_at, messages - counters.get("in_flight_count", 0),
        counters.get("requeue_count", 0), counters.get("timeout_count", 0),
    ), displayed_command


def run_once(
    workdir: Path, messages: int, services: int, backends: list[str]
) -> tuple[IntakeRun, dict[str, list[str]], list[str], str]:
    """Publish the backlog to a fresh nsqd and time TaskDash on each backend, then nsq_tail, on it."""
    workdir.mkdir(parents=True, exist_ok=True)
    nsqd = Nsqd.start(workdir, name="nsqd-intake")
    consumers: list[ConsumerResult] = []
    taskdash_commands: dict[str, list[str]] = {}
    # The heartbeats' URLs point at a port that refuses connections, so TaskDash's polls fail fast.
    with closed_port() as port:
        try:
            channels = [*(channel_of(backend) for backend in backends), TAIL_CHANNEL]
            for channel in channels:
                nsqd.create_channel(TOPIC, channel)
            publish_seconds = publish_backlog(nsqd, heartbeat_bodies(messages, services, port), channels)
            version = nsqd.stats()["version"]
            for backend in backends:
                with fresh_store(backend, workdir, "intake") as store:
                    taskdash, taskdash_commands[store.label] = time_taskdash(workdir, nsqd, messages, store)
                consumers.append(taskdash)
            tail, tail_command = time_nsq_tail(workdir, nsqd, messages)
            consumers.append(tail)
        finally:
            nsqd.managed.stop()
    return IntakeRun(publish_seconds, consumers), taskdash_commands, tail_command, version


def run_intake(workdir: Path, messages: int, services: int, repeats: int, backends: list[str]) -> IntakeResult:
    """Time TaskDash on each of `backends`, then nsq_tail, on `messages` heartbeats of `services` services.

    Each of the `repeats` runs publishes the backlog to a fresh nsqd.
    """
    runs = []
    for index in range(repeats):
        print(f"intake run {index + 1}/{repeats}: {messages} heartbeats of {services} services", flush=True)
        run, taskdash_commands, tail_command, version = run_once(
            workdir / f"run-{index + 1}", messages, services, backends
        )
        rates = ", ".join(f"{consumer.name} {consumer.rate:,.0f} messages/s" for consumer in run.consumers)
        print(f"  {rates}", flush=True)
        runs.append(run)
    return IntakeResult(messages, services, runs, taskdash_commands, tail_command, version)
