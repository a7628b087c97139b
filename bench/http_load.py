"""HTTP load from taskdash-loadgen (bench/loadgen), and the accounts and sessions that REST scenarios need.

The load generator is a Go program built by `make tools`, because Python
clients cannot send requests fast enough on a two-core machine to load the
server.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from devtools.procs import tool
from taskdash.accounts.users import hash_password
from taskdash.store import open_store
from taskdash.store.records import User

# A run takes seconds, but the limit is generous because the machine is shared.
LOADGEN_TIMEOUT = 600


@dataclass(slots=True)
class LoadResult:
    """One taskdash-loadgen run. Latencies are in milliseconds, CPU times in seconds."""

    count: int
    errors: int
    statuses: dict[str, int]
    first_error: str
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    connections: int
    connections_opened: int
    loadgen_cpu_seconds: float
    server_cpu_seconds: float

    @property
    def loadgen_cpu_share(self) -> float:
        """CPU time of the load generator per second of the run: 1.0 is one core."""
        return self.loadgen_cpu_seconds / self.seconds

    @property
    def server_cpu_share(self) -> float:
        """CPU time of the server per second of the run: 1.0 is one core."""
        return self.server_cpu_seconds / self.seconds


def median_of(results: list[LoadResult], metric: str) -> float:
    return statistics.median(getattr(result, metric) for result in results)


def combine_slices(slices: list[LoadResult]) -> LoadResult:
    """Return one result for consecutive runs of one endpoint, as if they were one run.

    Counts, errors, seconds and CPU times add up. The runs do not report their
    latencies one by one, so p50 is the median of the runs' p50, and p99 and
    the maximum are the highest of the runs' values, which can only overstate
    them.
    """
    statuses: dict[str, int] = {}
    for result in slices:
        for status, count in result.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    count = sum(result.count for result in slices)
    seconds = sum(result.seconds for result in slices)
    return LoadResult(
        count=count, errors=sum(result.errors for result in slices), statuses=statuses,
        first_error=next((result.first_error for result in slices if result.first_error), ""), seconds=seconds,
        rps=count / seconds, p50_ms=statistics.median(result.p50_ms for result in slices),
        p99_ms=max(result.p99_ms for result in slices), max_ms=max(result.max_ms for result in slices),
        connections=slices[0].connections, connections_opened=sum(result.connections_opened for result in slices),
        loadgen_cpu_seconds=sum(result.loadgen_cpu_seconds for result in slices),
        server_cpu_seconds=sum(result.server_cpu_seconds for result in slices),
    )


def process_cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time of process `pid` and its children."""
    process = psutil.Process(pid)
    total = 0.0
    for member in (process, *process.children(recursive=True)):
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def run_loadgen(
    base_url: str, path: str, server_pid: int, *, connections: int, method: str = "GET", requests: int = 0,
    duration: float = 0.0, seq_start: int = 0, headers_file: Path | None = None, expect: int = 200,
    request_timeout: float | None = None,
) -> LoadResult:
    """Run taskdash-loadgen against `base_url` and return its result with the server's CPU time during the run.

    Give either `requests` (a total) or `duration` (seconds). `request_timeout`
    is the seconds one request may take [default: the load generator's 10 s].
    Raise RuntimeError when the load generator fails or reports no requests.
    """
    args = [
        str(tool("taskdash-loadgen")), f"-url={base_url}", f"-path={path}", f"-method={method}",
        f"-connections={connections}", f"-requests={requests}", f"-duration={duration}s", f"-seq-start={seq_start}",
        f"-expect={expect}",
    ]
    if headers_file is not None:
        args.append(f"-headers={headers_file}")
    if request_timeout is not None:
        args.append(f"-timeout={request_timeout}s")

    cpu_before = process_cpu_seconds(server_pid)
    finished = subprocess.run(args, capture_output=True, text=True, timeout=LOADGEN_TIMEOUT)
    server_cpu = process_cpu_seconds(server_pid) - cpu_before
    if finished.returncode != 0:
        raise RuntimeError(f"taskdash-loadgen failed with exit status {finished.returncode}: {finished.stderr.strip()}")

    output = json.loads(finished.stdout)
    if output["count"] == 0:
        raise RuntimeError(f"taskdash-loadgen sent no requests to {base_url}{path}: {finished.stdout.strip()}")
    return LoadResult(
        count=output["count"], errors=output["errors"], statuses=output["statuses"],
        first_error=output.get("first_error", ""), seconds=output["seconds"], rps=output["rps"],
        p50_ms=output["p50_ms"], p99_ms=output["p99_ms"], max_ms=output["max_ms"],
        connections=output["connections"], connections_opened=output["connections_opened"],
        loadgen_cpu_seconds=output["cpu_seconds"], server_cpu_seconds=server_cpu,
    )


def add_accounts(database_url: str, usernames: list[str], roles: tuple[str, ...], password: str) -> None:
    """Store the accounts straight into the database, before the server starts.

    One Argon2id hash serves every account: `taskdash user add` would hash
    once per account in its own process, which takes about a second each.
    """

    async def add_all() -> None:
        store = await open_store(database_url)
        try:
            password_hash = hash_password(password)
            now = time.time()
            for username in usernames:
                await store.add_user(User(username, password_hash, roles, display_name=username, created_at=now))
        finally:
            await store.close()

    asyncio.run(add_all())


def log_in(base_url: str, username: str, password: str) -> dict[str, str]:
    """Log in through `POST /api/v1/session` and return the headers that carry the session: cookie and CSRF token."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post("/api/v1/session", json={"username": username, "password": password})
        if response.status_code != 200:
            raise RuntimeError(f"login of {username!r} failed: HTTP {response.status_code} {response.text}")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        return {"Cookie": cookie, "X-CSRF-Token": response.json()["csrf_token"]}


def write_headers(path: Path, headers: list[dict[str, str]]) -> Path:
    """Write the header sets for taskdash-loadgen's -headers option; connection i sends entry i."""
    path.write_text(json.dumps(headers), encoding="utf-8")
    return path
