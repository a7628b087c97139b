"""A REST task page with a filter and a sort against `/healthz`, on the same server in the same run.

Tasks and one editor account are written straight into a fresh store on one
backend before `taskdash serve` starts. The page request is
`GET /api/v1/tasks?status=notget&data_type=D&sort=updated_at&order=desc&limit=50`
with the editor's session cookie. REST task lists do not filter by service
liveness, so the server runs without NSQ.

The load generator alternates between the two endpoints over the same
number of keep-alive connections, in turns of 1 s at the default 5 s per
endpoint (see PagePlan.slices), so that both see the same machine load. Their ratio
is the measure: the machine is shared, and absolute rates move between runs
and within one. On FerretDB one page request takes many
seconds, so there the page is requested a few times over one connection
instead (see PAGE_PLANS).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.backends import FERRETDB, SQLITE, BenchStore, fresh_store, prefill_tasks
from bench.http_load import (
    LoadResult,
    add_accounts,
    combine_slices,
    log_in,
    process_cpu_seconds,
    run_loadgen,
    write_headers,
)
from devtools.procs import TaskDashServer, closed_port
from taskdash.store.records import TaskRecord

PAGE_SIZE = 50
DATA_TYPES = 10
FILTERED_DATA_TYPE = "3"
EDITOR = "bench-editor"
PASSWORD = "bench-password-1"
WARMUP_SECONDS = 2.0
# Seconds that the first page request may take, which covers FerretDB.
CHECK_TIMEOUT = 300.0
# Seconds between the updated_at values of consecutive tasks.
UPDATE_SPACING = 0.5


@dataclass(frozen=True, slots=True)
class PagePlan:
    """Load plan of the rounds on one backend.

    With `page_requests` 0, each round loads each endpoint for the scenario's
    seconds per endpoint, in `slices` alternating runs of equal length, starting
    with `/healthz`. Otherwise `/healthz` is loaded for that time and the page
    for `page_requests` requests. `rounds` None means the scenario's repeats.
    """

    connections: int
    slices: int = 1
    page_requests: int = 0
    rounds: int | None = None
    warmup: bool = True
    # Seconds one request may take, or None for the load generator's default of 10 s.
    request_timeout: float | None = None


PAGE_PLANS = {
    # Other work on the machine changes its speed within seconds, so the endpoints take five turns each.
    SQLITE: PagePlan(connections=10, slices=5),
    # One page request over 100,000 tasks takes FerretDB 1.24.2 tens of seconds on a shared 2-core machine,
    # because it reads every document both to find the page and to count the matching tasks.
    FERRETDB: PagePlan(connections=1, page_requests=2, rounds=1, warmup=False, request_timeout=300.0),
}


@dataclass(slots=True)
class ListRound:
    health: LoadResult
    page: LoadResult
    # CPU seconds of the FerretDB process during the page load, or None on SQLite.
    ferretdb_page_cpu_seconds: float | None = None

    @property
    def ratio(self) -> float:
        return self.page.rps / self.health.rps

    @property
    def ferretdb_page_cpu_share(self) -> float | None:
        """CPU time of FerretDB per second of the page load: 1.0 is one core."""
        if self.ferretdb_page_cpu_seconds is None:
            return None
        return self.ferretdb_page_cpu_seconds / self.page.seconds


@dataclass(slots=True)
class ListResult:
    backend: str
    tasks: int
    prefill_seconds: float
    matching: int
    page_path: str
    seconds_per_endpoint: float
    plan: PagePlan
    rounds: list[ListRound]
    command: list[str]

    def median(self, endpoint: str, metric: str) -> float:
        return statistics.median(getattr(getattr(round_, endpoint), metric) for round_ in self.rounds)

    @property
    def median_ratio(self) -> float:
        return statistics.median(round_.ratio for round_ in self.rounds)


def task_status(index: int) -> tuple[str, str]:
    """Return the (status, user) of task `index`: 80 % unclaimed, 10 % running, 10 % finished."""
    kind = index % 10
    if kind == 8:
        return "running", f"worker-{index % 50}"
    if kind == 9:
        return "finish", f"worker-{index % 50}"
    return "notget", ""


def task_data_type(index: int) -> str:
    """Return the data type of task `index`. It changes every ten tasks, so it is independent of the status."""
    return str(index // 10 % DATA_TYPES)


def matching_tasks(count: int) -> int:
    """Return how many of `count` tasks the page's filter matches."""
    return sum(
        task_status(index)[0] == "notget" and task_data_type(index) == FILTERED_DATA_TYPE for index in range(count)
    )


def list_tasks(service_url: str, count: int) -> Iterator[TaskRecord]:
    """Yield `count` tasks of mixed data types and statuses."""
    order = list(range(count))
    # created_at follows another order than updated_at, so the two sorts differ.
    random.Random(7).shuffle(order)
    now = time.time()
    for index in range(count):
        status, user = task_status(index)
        yield TaskRecord(
            task_id=f"list-{index}", service_url=service_url, status=status, data_type=task_data_type(index),
            description=f"benchmark task {index}", service_status=status, reserved="no", user=user,
            created_at=now - order[index] * UPDATE_SPACING, updated_at=now - index * UPDATE_SPACING,
            claimed_at=now if user else None,
        )


def check_page(base_url: str, path: str, headers: dict[str, str], matching: int) -> None:
    """Request the page once and check its size, its total and its order.

    Raise RuntimeError when they differ from what the prefill wrote.
    """
    with httpx.Client(base_url=base_url, headers=headers, timeout=CHECK_TIMEOUT) as client:
        response = client.get(path)
    response.raise_for_status()
    page = response.json()
    if len(page["tasks"]) != PAGE_SIZE or page["total"] != matching:
        raise RuntimeError(
            f"{path} returned {len(page['tasks'])} tasks and total {page['total']},"
            f" expected {PAGE_SIZE} and {matching}"
        )
    updated = [task["updated_at"] for task in page["tasks"]]
    if updated != sorted(updated, reverse=True):
        raise RuntimeError(f"{path} returned tasks out of updated_at descending order")


def run_rest_list(workdir: Path, tasks: int, seconds_per_endpoint: float, repeats: int, backend: str) -> ListResult:
    """Load the page and `/healthz` in `repeats` rounds on a fresh store on `backend` prefilled with `tasks` tasks."""
    query = {"status": "notget", "data_type": FILTERED_DATA_TYPE, "sort": "updated_at", "order": "desc",
             "limit": PAGE_SIZE}
    page_path = f"/api/v1/tasks?{urlencode(query)}"
    matching = matching_tasks(tasks)

    with fresh_store(backend, workdir, "list") as store:
        print(f"REST list on {store.label}: inserting {tasks} tasks", flush=True)
        # No service row exists for the tasks, so nothing polls this URL. Its port refuses connections anyway.
        with closed_port() as port:
            service_url = f"http://127.0.0.1:{port}/rpost/bench-list"
            prefill_seconds = prefill_tasks(store.database_url, list_tasks(service_url, tasks))
        add_accounts(store.database_url, [EDITOR], ("editor",), PASSWORD)
        plan = PAGE_PLANS[backend]
        rounds = load_rounds(workdir, store, page_path, matching, seconds_per_endpoint, plan,
                             repeats if plan.rounds is None else plan.rounds)

    return ListResult(
        backend=store.label, tasks=tasks, prefill_seconds=prefill_seconds, matching=matching, page_path=page_path,
        seconds_per_endpoint=seconds_per_endpoint, plan=plan, rounds=rounds,
        command=["taskdash", "serve", "--database-url", store.shown_url("PREFILLED")],
    )


def load_rounds(
    workdir: Path, store: BenchStore, page_path: str, matching: int, seconds_per_endpoint: float, plan: PagePlan,
    repeats: int,
) -> list[ListRound]:
    """Start `taskdash serve` on the prefilled `store`, check the page once, then load both endpoints in rounds."""
    args = ["--database-url", store.database_url]
    server = TaskDashServer.start(workdir, args, name=f"taskdash-list-{store.backend}")
    rounds: list[ListRound] = []
    try:
        session = log_in(server.base_url, EDITOR, PASSWORD)
        check_page(server.base_url, page_path, session, matching)
        headers = write_headers(workdir / f"session-{store.backend}.json", [session])
        pid = server.managed.process.pid

        def load(path: str, seconds: float, requests: int = 0) -> LoadResult:
            return run_loadgen(server.base_url, path, pid, connections=plan.connections, duration=seconds,
                               requests=requests, headers_file=headers, request_timeout=plan.request_timeout)

        def ferretdb_cpu_seconds() -> float:
            return process_cpu_seconds(store.ferretdb_pid) if store.ferretdb_pid is not None else 0.0

        if plan.warmup:
            load("/healthz", WARMUP_SECONDS)
            load(page_path, WARMUP_SECONDS)
        slice_seconds = seconds_per_endpoint / plan.slices
        for index in range(repeats):
            health_slices: list[LoadResult] = []
            page_slices: list[LoadResult] = []
            ferretdb_cpu = 0.0
            for _ in range(plan.slices):
                health_slices.append(load("/healthz", slice_seconds))
                ferretdb_cpu_before = ferretdb_cpu_seconds()
                page_slices.append(load(page_path, slice_seconds, plan.page_requests))
                ferretdb_cpu += ferretdb_cpu_seconds() - ferretdb_cpu_before
            round_ = ListRound(
                combine_slices(health_slices), combine_slices(page_slices),
                ferretdb_cpu if store.ferretdb_pid is not None else None,
            )
            print(f"  {store.label} round {index + 1}/{repeats}: /healthz {round_.health.rps:,.0f} requests/s,"
                  f" page {round_.page.rps:,.0f} requests/s (ratio {round_.ratio:.2f}),"
                  f" page p99 {round_.page.p99_ms:.1f} ms", flush=True)
            rounds.append(round_)
    finally:
        server.managed.stop()
    return rounds
