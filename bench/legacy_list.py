"""Latency and memory of `GetUnclaimedTasks` on /rpost/task with a large task list, on one store backend.

The tasks are written straight into a fresh store with the repository's
`insert_tasks` before the server starts. They belong to one
service whose heartbeat a background thread publishes every second, so the
service stays online and its tasks stay listed. The service's URL points at
a port that refuses connections, so its polls fail and never change the tasks.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import psutil

from bench.backends import FERRETDB, SQLITE, BenchStore, fresh_store, prefill_tasks
from devtools.procs import Nsqd, TaskDashServer, add_user, closed_port, wait_until
from taskdash.store.records import TaskRecord

# List requests per backend. One request over 100,000 tasks takes FerretDB 1.24.2 20 to 30 s on a
# shared 2-core machine, so it gets fewer.
LIST_REQUESTS = {SQLITE: 10, FERRETDB: 2}
# Seconds that one list request may take, and until the first one must return every task.
REQUEST_TIMEOUT = 300.0
LISTED_TIMEOUT = 300.0
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
    backend: str
    tasks: int
    prefill_seconds: float
    response_bytes: int
    list_latency: Latency
    health_latency_idle: Latency
    health_latency_during_list: Latency
    rss_before: int
    rss_peak: int
    # Peak resident set size of the FerretDB process during the list requests, or None on SQLite.
    ferretdb_rss_peak: int | None
    command: list[str]


def unclaimed_tasks(service_url: str, count: int) -> Iterator[TaskRecord]:
    now = time.time()
    for index in range(count):
        yield TaskRecord(
            task_id=f"bench-{index}", service_url=service_url, status="notget", data_type="2",
            description=f"benchmark task {index}", service_status="notget", reserved="no",
            created_at=now, updated_at=now,
        )


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
    ferretdb_rss_peak: int | None


def measure(server: TaskDashServer, tasks: int, list_requests: int, ferretdb_pid: int | None) -> Measurements:
    with server.login(USERNAME, PASSWORD, timeout=REQUEST_TIMEOUT) as client:
        # Until the heartbeat is stored and judged, the service's tasks are not listed. This also checks
        # that the server reads every prefilled task.
        wait_until(lambda: len(orjson.loads(list_unclaimed(client)[1])) == tasks, LISTED_TIMEOUT,
                   f"{tasks} unclaimed tasks listed", interval=0.5)
        idle_health = [timed_get(client, "/healthz") for _ in range(HEALTH_REQUESTS)]

        sampler = RssSampler(server.managed.process.pid)
        ferretdb_sampler = RssSampler(ferretdb_pid) if ferretdb_pid is not None else None
        rss_before = sampler.current()
        probe_stop = threading.Event()
        busy_health: list[float] = []
        probe = threading.Thread(target=probe_health, args=(server.base_url, probe_stop, busy_health), daemon=True)
        rss_samplers = [sampler, *([ferretdb_sampler] if ferretdb_sampler else [])]
        for rss_sampler in rss_samplers:
            rss_sampler.start()
        probe.start()
        list_seconds = []
        body = b""
        try:
            for _ in range(list_requests):
                seconds, body = list_unclaimed(client)
                list_seconds.append(seconds)
        finally:
            probe_stop.set()
            probe.join(30)
            for rss_sampler in rss_samplers:
                rss_sampler.stop()

    listed = len(orjson.loads(body))
    if listed != tasks:
        raise RuntimeError(f"GetUnclaimedTasks returned {listed} tasks, expected {tasks}")
    return Measurements(len(body), list_seconds, idle_health, busy_health, rss_before, sampler.peak,
                        ferretdb_sampler.peak if ferretdb_sampler else None)


def run_legacy_list(workdir: Path, tasks: int, backend: str) -> LegacyListResult:
    """Time GetUnclaimedTasks requests over `tasks` unclaimed tasks on a fresh store on `backend`."""
    list_requests = LIST_REQUESTS[backend]
    workdir.mkdir(parents=True, exist_ok=True)
    nsqd = Nsqd.start(workdir, name="nsqd-legacy")
    try:
        with closed_port() as port, fresh_store(backend, workdir, "legacy") as store:
            service_url = f"http://127.0.0.1:{port}/rpost/bench-list"
            print(f"legacy list on {store.label}: inserting {tasks} tasks", flush=True)
            prefill_seconds = prefill_tasks(store.database_url, unclaimed_tasks(service_url, tasks))
            add_user(store.database_url, USERNAME, PASSWORD, ["editor"])
            measured = measure_server(workdir, nsqd, store, service_url, tasks, list_requests)
    finally:
        nsqd.managed.stop()

    return LegacyListResult(
        backend=store.label, tasks=tasks, prefill_seconds=prefill_seconds, response_bytes=measured.response_bytes,
        list_latency=Latency.of(measured.list_seconds),
        health_latency_idle=Latency.of(measured.idle_health_seconds),
        health_latency_during_list=Latency.of(measured.busy_health_seconds),
        rss_before=measured.rss_before, rss_peak=measured.rss_peak, ferretdb_rss_peak=measured.ferretdb_rss_peak,
        command=["taskdash", "serve", "--database-url", store.shown_url("PREFILLED"), "--nsqd-tcp-address", "NSQD"],
    )


def measure_server(
    workdir: Path, nsqd: Nsqd, store: BenchStore, service_url: str, tasks: int, list_requests: int
) -> Measurements:
    """Start `taskdash serve` on the prefilled `store`, keep its service online and measure the list requests."""
    heartbeats = HeartbeatSender(nsqd, service_url)
    heartbeats.start()
    args = ["--database-url", store.database_url, "--nsqd-tcp-address", nsqd.tcp_address]
    server = TaskDashServer.start(workdir, args, name=f"taskdash-legacy-{store.backend}")
    try:
        print(f"legacy list on {store.label}: timing GetUnclaimedTasks", flush=True)
        return measure(server, tasks, list_requests, store.ferretdb_pid)
    finally:
        server.managed.stop()
        heartbeats.stop()
