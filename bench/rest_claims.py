"""Claims per second through `POST /api/v1/tasks/{task_id}/claim` with 50 concurrent clients.

Unclaimed tasks and 50 editor accounts are written straight into a fresh
SQLite database before `taskdash serve` starts. Each editor logs in with its
own session, and each of the load generator's 50 connections sends one
editor's session cookie and CSRF token. Every request claims a different
task, so every claim must succeed. A claim by task id does not check the
liveness of the task's service (claim-next and the legacy GetUnclaimedTasks
do), so the server runs without NSQ.

Before each timed run, the same 50 connections request `/healthz` for
HEALTH_SECONDS, which shows what the machine allowed at that moment.
Afterwards the database is checked: every task the runs addressed is
claimed by exactly one of the editors, with exactly one claim in its history.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.http_load import LoadResult, add_accounts, log_in, median_of, run_loadgen, write_headers
from devtools.procs import TaskDashServer, closed_port
from taskdash.store import open_store
from taskdash.store.records import TaskRecord

EDITORS = 50
HEALTH_SECONDS = 5.0
INSERT_BATCH = 10_000
PASSWORD = "bench-password-1"
TASK_PREFIX = "claim-"


@dataclass(slots=True)
class StoreCheck:
    """Counts read from the database after the runs."""

    claimed_tasks: int
    claim_history_entries: int
    tasks_claimed_twice: int
    unclaimed_addressed_tasks: int
    editors_with_claims: int

    def exactly_once(self, claims: int) -> bool:
        return (
            self.claimed_tasks == claims and self.claim_history_entries == claims and self.tasks_claimed_twice == 0
            and self.unclaimed_addressed_tasks == 0
        )


@dataclass(slots=True)
class ClaimsRun:
    health: LoadResult
    claims: LoadResult

    @property
    def ratio(self) -> float:
        return self.claims.rps / self.health.rps


@dataclass(slots=True)
class ClaimsResult:
    editors: int
    tasks: int
    warmup_claims: int
    claims_per_run: int
    runs: list[ClaimsRun]
    check: StoreCheck
    command: list[str]
    # taskdash_sqlite_quick_writes_total by outcome, read from /metrics after the runs.
    quick_writes: dict[str, float]

    def median(self, metric: str) -> float:
        return median_of([run.claims for run in self.runs], metric)

    @property
    def median_ratio(self) -> float:
        return statistics.median(run.ratio for run in self.runs)


async def insert_unclaimed_tasks(database_url: str, service_url: str, count: int) -> None:
    store = await open_store(database_url)
    try:
        now = time.time()
        for start in range(0, count, INSERT_BATCH):
            tasks = [
                TaskRecord(
                    task_id=f"{TASK_PREFIX}{index}", service_url=service_url, status="notget", data_type="2",
                    description=f"benchmark task {index}", service_status="notget", reserved="no",
                    created_at=now, updated_at=now,
                )
                for index in range(start, min(start + INSERT_BATCH, count))
            ]
            await store.insert_tasks(tasks, [])
    finally:
        await store.close()


def check_store(database_path: Path, claims: int) -> StoreCheck:
    """Count the claims in the database, where the runs addressed the tasks `claim-0` to `claim-{claims-1}`."""
    addressed = [f"{TASK_PREFIX}{index}" for index in range(claims)]
    with sqlite3.connect(f"file:{database_path}?mode=ro", uri=True) as connection:
        connection.execute("CREATE TEMP TABLE addressed (task_id TEXT PRIMARY KEY)")
        connection.executemany("INSERT INTO addressed VALUES (?)", [(task_id,) for task_id in addressed])
        claimed = connection.execute(
            "SELECT count(*) FROM task WHERE status = 'running' AND \"user\" LIKE 'editor-%'"
        ).fetchone()[0]
        history = connection.execute(
            "SELECT count(*) FROM task_history WHERE to_status = 'running' AND actor_kind = 'user'"
        ).fetchone()[0]
        twice = connection.execute(
            "SELECT count(*) FROM (SELECT task_id FROM task_history WHERE to_status = 'running' "
            "GROUP BY task_id HAVING count(*) > 1)"
        ).fetchone()[0]
        unclaimed = connection.execute(
            "SELECT count(*) FROM task JOIN addressed USING (task_id) WHERE status != 'running'"
        ).fetchone()[0]
        editors = connection.execute(
            "SELECT count(DISTINCT \"user\") FROM task WHERE status = 'running'"
        ).fetchone()[0]
    return StoreCheck(claimed, history, twice, unclaimed, editors)


def read_quick_writes(base_url: str) -> dict[str, float]:
    """Return the server's count of SQLite quick writes by outcome (on_loop, moved_to_thread)."""
    response = httpx.get(f"{base_url}/metrics", timeout=10)
    response.raise_for_status()
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        if family.name != "taskdash_sqlite_quick_writes":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                counts[sample.labels["outcome"]] = sample.value
    return counts


def run_rest_claims(workdir: Path, claims_per_run: int, warmup_claims: int, repeats: int) -> ClaimsResult:
    workdir.mkdir(parents=True, exist_ok=True)
    database_path = workdir / "claims.db"
    database_url = f"sqlite:///{database_path}"
    tasks = warmup_claims + claims_per_run * repeats
    editors = [f"editor-{index:02d}" for index in range(EDITORS)]

    print(f"REST claims: inserting {tasks} tasks and {EDITORS} editors", flush=True)
    # No service row exists for the tasks, so nothing polls this URL. Its port refuses connections anyway.
    with closed_port() as port:
        asyncio.run(insert_unclaimed_tasks(database_url, f"http://127.0.0.1:{port}/rpost/bench-claims", tasks))
    add_accounts(database_url, editors, ("editor",), PASSWORD)

    server = TaskDashServer.start(workdir, ["--database-url", database_url], name="taskdash-claims")
    runs: list[ClaimsRun] = []
    try:
        headers = write_headers(workdir / "sessions.json", [log_in(server.base_url, name, PASSWORD) for name in editors])
        pid = server.managed.process.pid

        def claim(count: int, seq_start: int) -> LoadResult:
            return run_loadgen(
                server.base_url, f"/api/v1/tasks/{TASK_PREFIX}{{seq}}/claim", pid, method="POST",
                connections=EDITORS, requests=count, seq_start=seq_start, headers_file=headers,
            )

        # The warm-up claims are counted in the store check but not timed.
        claim(warmup_claims, 0)
        for index in range(repeats):
            health = run_loadgen(server.base_url, "/healthz", pid, connections=EDITORS, duration=HEALTH_SECONDS)
            run = ClaimsRun(health, claim(claims_per_run, warmup_claims + index * claims_per_run))
            print(f"  run {index + 1}/{repeats}: {run.claims.rps:,.0f} claims/s, p50 {run.claims.p50_ms:.1f} ms,"
                  f" p99 {run.claims.p99_ms:.1f} ms, errors {run.claims.errors};"
                  f" /healthz {run.health.rps:,.0f} requests/s", flush=True)
            runs.append(run)
        quick_writes = read_quick_writes(server.base_url)
    finally:
        server.managed.stop()

    return ClaimsResult(
        editors=EDITORS, tasks=tasks, warmup_claims=warmup_claims, claims_per_run=claims_per_run, runs=runs,
        check=check_store(database_path, tasks), quick_writes=quick_writes,
        command=["taskdash", "serve", "--database-url", "sqlite:///PREFILLED.db"],
    )
