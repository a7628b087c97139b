"""Latency and memory of `GetUnclaimedTasks` on /rpost/task with a large task list.

The tasks are written straight into a fresh SQLite database with the
repository's `insert_tasks` before the server starts. They belong to one
service whose heartbeat a background thread publishes every second, so the
service stays online and its tasks stay listed. The service's URL points at
a port that refuses connections, so its polls fail and never change the tasks.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import psutil

from devtools.procs import Nsqd, TaskDashServer, add_user, closed_port, wait_until
from taskdash.store import open_store
from taskdash.store.records import TaskRecord

INSERT_BATCH = 10_000
LIST_REQUESTS = 10
HEALTH_REQUESTS = 20
RSS_SAMPLE_INTERVAL = 0.05
USERNAME = "bench"
PASSWORD = "bench-password-1"


@dataclass(slots=True)
class Latency:
    median: float
    max: float
    count: int

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        return cls(statistics.median(seconds), max(seconds), len(seconds))


@dataclass(slots=True)
class LegacyListResult:
    tasks: int
    response_bytes: int
    list_latency: Latency
    health_latency_idle: Latency
    health_latency_during_list: Latency
    rss_before: int
    rss_peak: int
    command: list[str]


async def insert_unclaimed_tasks(database_url: str, service_url: str, count: int) -> None:
    store = await open_store(database_url)
    try:
        now = time.time()
        for start in range(0, count, INSERT_BATCH):
            tasks = [
                TaskRecord(
                    task_id=f"bench-{index}", service_url=service_url, status="notget", data_type="2",
                    description=f"benchmark task {index}", service_status="notget", reserved="no",
                    created_at=now, updated_at=now,
                )
                for index in range(start, min(start + INSERT_BATCH, count))
            ]
            await store.insert_tasks(tasks, [])
    finally:
        await store.close()


class HeartbeatSender(threading.Thread):
    """Publishes one heartbeat for `url` every second until stopped."""

    def __init__(self, nsqd: Nsqd, url: str) -> None:
        super().__init__(name="heartbeats", daemon=True)
        self._nsqd = nsqd
        self._url = url
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._nsqd.publish("heartBeat", orjson.dumps({"url": self._url, "time": int(time.time())}))
            self._stop_event.wait(1.0)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)


class RssSampler(threading.Thread):
    """Records the peak resident set size of a process and its children."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="rss", daemon=True)
        self._process = psutil.Process(pid)
        self._stop_event = threading.Event()
        self.peak = 0

    def current(self) -> int:
        processes = [self._process, *self._process.children(recursive=True)]
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, self.current())
            self._stop_event.wait(RSS_SAMPLE_INTERVAL)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)


def timed_get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    client.get(path).raise_for_status()
    return time.perf_counter() - started


def list_unclaimed(client: httpx.Client) -> tuple[float, bytes]:
    started = time.perf_counter()
    answer = client.post("/rpost/task", data={"operation": "GetUnclaimedTasks"})
    body = answer.content
    seconds = time.perf_counter() - started
    answer.raise_for_status()
    return seconds, body


def probe_health(base_url: str, stop: threading.Event, seconds: list[float]) -> None:
    """Time /healthz every 50 ms until `stop` is set, to show how much a list request blocks the server."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        while not stop.is_set():
            seconds.append(timed_get(client, "/healthz"))
            stop.wait(0.05)


@dataclass(slots=True)
class Measurements:
    response_bytes: int
    list_seconds: list[float]
    idle_health_seconds: list[float]
    busy_health_seconds: list[float]
    rss_before: int
    rss_peak: int


def measure(server: TaskDashServer, tasks: int) -> Measurements:
    with server.login(USERNAME, PASSWORD, timeout=60) as client:
        # Until the heartbeat is stored and judged, the service's tasks are not listed.
        wait_until(lambda: len(orjson.loads(list_unclaimed(client)[1])) == tasks, 60,
                   f"{tasks} unclaimed tasks listed", interval=0.5)
        idle_health = [timed_get(client, "/healthz") for _ in range(HEALTH_REQUESTS)]

        sampler = RssSampler(server.managed.process.pid)
        rss_before = sampler.current()
        probe_stop = threading.Event()
        busy_health: list[float] = []
        probe = threading.Thread(target=probe_health, args=(server.base_url, probe_stop, busy_health), daemon=True)
        sampler.start()
        probe.start()
        list_seconds = []
        body = b""
        try:
            for _ in range(LIST_REQUESTS):
                seconds, body = list_unclaimed(client)
                list_seconds.append(seconds)
        finally:
            probe_stop.set()
            probe.join(30)
            sampler.stop()

    listed = len(orjson.loads(body))
    if listed != tasks:
        raise RuntimeError(f"GetUnclaimedTasks returned {listed} tasks, expected {tasks}")
    return Measurements(len(body), list_seconds, idle_health, busy_health, rss_before, sampler.peak)


def run_legacy_list(workdir: Path, tasks: int) -> LegacyListResult:
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / 'legacy.db'}"
    nsqd = Nsqd.start(workdir, name="nsqd-legacy")
    try:
        with closed_port() as port:
            service_url = f"http://127.0.0.1:{port}/rpost/bench-list"
            print(f"legacy list: inserting {tasks} tasks", flush=True)
            asyncio.run(insert_unclaimed_tasks(database_url, service_url, tasks))
            add_user(database_url, USERNAME, PASSWORD, ["editor"])

            heartbeats = HeartbeatSender(nsqd, service_url)
            heartbeats.start()
            args = ["--database-url", database_url, "--nsqd-tcp-address", nsqd.tcp_address]
            server = TaskDashServer.start(workdir, args, name="taskdash-legacy")
            try:
                print("legacy list: timing GetUnclaimedTasks", flush=True)
                measured = measure(server, tasks)
            finally:
                server.managed.stop()
                heartbeats.stop()
    finally:
        nsqd.managed.stop()

    return LegacyListResult(
        tasks=tasks, response_bytes=measured.response_bytes, list_latency=Latency.of(measured.list_seconds),
        health_latency_idle=Latency.of(measured.idle_health_seconds),
        health_latency_during_list=Latency.of(measured.busy_health_seconds),
        rss_before=measured.rss_before, rss_peak=measured.rss_peak,
        command=["taskdash", "serve", "--database-url", "sqlite:///PREFILLED.db", "--nsqd-tcp-address", "NSQD"],
    )
