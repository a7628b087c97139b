"""A REST task page with a filter and a sort against `/healthz`, on the same server in the same run.

Tasks and one editor account are written straight into a fresh SQLite
database before `taskdash serve` starts. The page request is
`GET /api/v1/tasks?status=notget&data_type=D&sort=updated_at&order=desc&limit=50`
with the editor's session cookie. REST task lists do not filter by service
liveness, so the server runs without NSQ.

The load generator alternates between the two endpoints, each for a fixed
time over the same number of keep-alive connections, so that both see the
same machine load. Their ratio is the measure: the machine is shared, and
absolute rates move between runs.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.http_load import LoadResult, add_accounts, log_in, run_loadgen, write_headers
from devtools.procs import TaskDashServer, closed_port
from taskdash.store import open_store
from taskdash.store.records import TaskRecord

CONNECTIONS = 10
PAGE_SIZE = 50
DATA_TYPES = 10
FILTERED_DATA_TYPE = "3"
INSERT_BATCH = 10_000
EDITOR = "bench-editor"
PASSWORD = "bench-password-1"
WARMUP_SECONDS = 2.0
# Seconds between the updated_at values of consecutive tasks.
UPDATE_SPACING = 0.5


@dataclass(slots=True)
class ListRound:
    health: LoadResult
    page: LoadResult

    @property
    def ratio(self) -> float:
        return self.page.rps / self.health.rps


@dataclass(slots=True)
class ListResult:
    tasks: int
    matching: int
    page_path: str
    seconds_per_endpoint: float
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


async def insert_tasks(database_url: str, service_url: str, count: int) -> int:
    """Insert `count` tasks of mixed data types and statuses, and return how many the page's filter matches."""
    order = list(range(count))
    # created_at follows another order than updated_at, so the two sorts differ.
    random.Random(7).shuffle(order)
    now = time.time()
    matching = 0
    store = await open_store(database_url)
    try:
        for start in range(0, count, INSERT_BATCH):
            tasks = []
            for index in range(start, min(start + INSERT_BATCH, count)):
                status, user = task_status(index)
                # The data type changes every ten tasks, so it is independent of the status.
                data_type = str(index // 10 % DATA_TYPES)
                matching += status == "notget" and data_type == FILTERED_DATA_TYPE
                tasks.append(TaskRecord(
                    task_id=f"list-{index}", service_url=service_url, status=status, data_type=data_type,
                    description=f"benchmark task {index}", service_status=status, reserved="no", user=user,
                    created_at=now - order[index] * UPDATE_SPACING, updated_at=now - index * UPDATE_SPACING,
                    claimed_at=now if user else None,
                ))
            await store.insert_tasks(tasks, [])
    finally:
        await store.close()
    return matching


def check_page(base_url: str, path: str, headers: dict[str, str], matching: int) -> None:
    """Request the page once and check its size, its total and its order."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
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


def run_rest_list(workdir: Path, tasks: int, seconds_per_endpoint: float, repeats: int) -> ListResult:
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / 'list.db'}"
    query = {"status": "notget", "data_type": FILTERED_DATA_TYPE, "sort": "updated_at", "order": "desc",
             "limit": PAGE_SIZE}
    page_path = f"/api/v1/tasks?{urlencode(query)}"

    print(f"REST list: inserting {tasks} tasks", flush=True)
    # No service row exists for the tasks, so nothing polls this URL. Its port refuses connections anyway.
    with closed_port() as port:
        matching = asyncio.run(insert_tasks(database_url, f"http://127.0.0.1:{port}/rpost/bench-list", tasks))
    add_accounts(database_url, [EDITOR], ("editor",), PASSWORD)

    server = TaskDashServer.start(workdir, ["--database-url", database_url], name="taskdash-list")
    rounds: list[ListRound] = []
    try:
        session = log_in(server.base_url, EDITOR, PASSWORD)
        check_page(server.base_url, page_path, session, matching)
        headers = write_headers(workdir / "session.json", [session])
        pid = server.managed.process.pid

        def load(path: str, seconds: float) -> LoadResult:
            return run_loadgen(server.base_url, path, pid, connections=CONNECTIONS, duration=seconds,
                               headers_file=headers)

        load("/healthz", WARMUP_SECONDS)
        load(page_path, WARMUP_SECONDS)
        for index in range(repeats):
            round_ = ListRound(health=load("/healthz", seconds_per_endpoint), page=load(page_path, seconds_per_endpoint))
            print(f"  round {index + 1}/{repeats}: /healthz {round_.health.rps:,.0f} requests/s,"
                  f" page {round_.page.rps:,.0f} requests/s (ratio {round_.ratio:.2f}),"
                  f" page p99 {round_.page.p99_ms:.1f} ms", flush=True)
            rounds.append(round_)
    finally:
        server.managed.stop()

    return ListResult(
        tasks=tasks, matching=matching, page_path=page_path, seconds_per_endpoint=seconds_per_endpoint,
        rounds=rounds, command=["taskdash", "serve", "--database-url", "sqlite:///PREFILLED.db"],
    )
