"""Intake throughput: TaskDash against nsq_tail on the same heartbeat backlog.

Both consumers read one topic through their own channel. Both channels are
created before publishing, so each contains the whole backlog before its
consumer starts, and the consumers run one after the other.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.channel_timer import ChannelTimer, channel_counters
from devtools.procs import Nsqd, TaskDashServer, closed_port, tool, wait_until

TOPIC = "heartBeat"
TASKDASH_CHANNEL = "taskdash"
TAIL_CHANNEL = "nsq_tail"
PUBLISH_BATCH = 5000
# nsq_tail gets the same window of unacknowledged messages as TaskDash's default --max-in-flight.
MAX_IN_FLIGHT = 2500
CONSUME_TIMEOUT = 300.0


@dataclass(slots=True)
class ConsumerResult:
    name: str
    messages: int
    seconds: float
    finished: int
    requeued: int
    timed_out: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


@dataclass(slots=True)
class IntakeRun:
    publish_seconds: float
    taskdash: ConsumerResult
    nsq_tail: ConsumerResult


@dataclass(slots=True)
class IntakeResult:
    messages: int
    services: int
    runs: list[IntakeRun]
    taskdash_command: list[str]
    nsq_tail_command: list[str]
    nsqd_version: str

    def median_rate(self, consumer: str) -> float:
        return statistics.median(getattr(run, consumer).rate for run in self.runs)


def heartbeat_bodies(messages: int, services: int, port: int) -> list[bytes]:
    now = int(time.time())
    return [
        orjson.dumps({"url": f"http://127.0.0.1:{port}/rpost/bench-{index % services}", "time": now, "reserved": "no"})
        for index in range(messages)
    ]


def publish_backlog(nsqd: Nsqd, bodies: list[bytes]) -> float:
    """Publish `bodies` in /mpub batches, wait until both channels contain all of them, and return the seconds."""
    started = time.monotonic()
    for start in range(0, len(bodies), PUBLISH_BATCH):
        nsqd.publish_many(TOPIC, bodies[start:start + PUBLISH_BATCH])

    def holds_backlog(channel: str) -> bool:
        counters = channel_counters(nsqd.http_address, TOPIC, channel)
        return counters is not None and counters["depth"] == len(bodies)

    for channel in (TASKDASH_CHANNEL, TAIL_CHANNEL):
        wait_until(lambda channel=channel: holds_backlog(channel), 60, f"{len(bodies)} messages in channel {channel}",
                   interval=0.2)
    return time.monotonic() - started


def time_taskdash(workdir: Path, nsqd: Nsqd, messages: int) -> tuple[ConsumerResult, list[str]]:
    """Time a fresh `taskdash serve` from its first message in flight until its channel is empty."""
    args = ["--database-url", f"sqlite:///{workdir / 'intake.db'}", "--nsqd-tcp-address", nsqd.tcp_address]
    timer = ChannelTimer(nsqd.http_address, TOPIC, TASKDASH_CHANNEL, messages, CONSUME_TIMEOUT)
    timer.start()
    server = TaskDashServer.start(workdir, args, env={"TASKDASH_LOG_LEVEL": "warning"}, name="taskdash-intake")
    try:
        timing = timer.wait()
    finally:
        server.managed.stop()
    command = ["taskdash", "serve", "--database-url", "sqlite:///FRESH.db", "--nsqd-tcp-address", "NSQD"]
    return ConsumerResult("TaskDash", messages, timing.seconds, timing.finished, timing.requeued,
                          timing.timed_out), command


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
        "nsq_tail", messages, exited_at - timing.started_at, messages - counters.get("in_flight_count", 0),
        counters.get("requeue_count", 0), counters.get("timeout_count", 0),
    ), displayed_command


def run_once(workdir: Path, messages: int, services: int) -> tuple[IntakeRun, list[str], list[str], str]:
    """Publish the backlog to a fresh nsqd and time TaskDash, then nsq_tail, on it."""
    workdir.mkdir(parents=True, exist_ok=True)
    nsqd = Nsqd.start(workdir, name="nsqd-intake")
    # The heartbeats' URLs point at a port that refuses connections, so TaskDash's polls fail fast.
    with closed_port() as port:
        try:
            for channel in (TASKDASH_CHANNEL, TAIL_CHANNEL):
                nsqd.create_channel(TOPIC, channel)
            publish_seconds = publish_backlog(nsqd, heartbeat_bodies(messages, services, port))
            version = nsqd.stats()["version"]
            taskdash, taskdash_command = time_taskdash(workdir, nsqd, messages)
            tail, tail_command = time_nsq_tail(workdir, nsqd, messages)
        finally:
            nsqd.managed.stop()
    return IntakeRun(publish_seconds, taskdash, tail), taskdash_command, tail_command, version


def run_intake(workdir: Path, messages: int, services: int, repeats: int) -> IntakeResult:
    """Time both consumers on `messages` heartbeats of `services` services, `repeats` times."""
    runs = []
    for index in range(repeats):
        print(f"intake run {index + 1}/{repeats}: {messages} heartbeats of {services} services", flush=True)
        run, taskdash_command, tail_command, version = run_once(workdir / f"run-{index + 1}", messages, services)
        print(f"  TaskDash {run.taskdash.rate:,.0f} messages/s, nsq_tail {run.nsq_tail.rate:,.0f} messages/s",
              flush=True)
        runs.append(run)
    return IntakeResult(messages, services, runs, taskdash_command, tail_command, version)
