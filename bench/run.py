"""Run the TaskDash benchmarks and write docs/benchmarks.md.

Usage: `python -m bench.run` from the repository root (`make bench`).
Processes, databases and logs go to bench-output/, which is recreated on
every run. The whole run takes a few minutes.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.http_load import LoadResult
from bench.intake import IntakeResult, run_intake
from bench.legacy_list import LegacyListResult, run_legacy_list
from bench.rest_claims import HEALTH_SECONDS, ClaimsResult, run_rest_claims
from bench.rest_list import DATA_TYPES, WARMUP_SECONDS, ListResult, run_rest_list
from devtools.procs import ROOT

INTAKE_TARGET_RATE = 20_000
LIST_TARGET_SECONDS = 1.0
RSS_TARGET_BYTES = 300 * 1024 * 1024
CLAIMS_TARGET_RATE = 2_000
PAGE_TARGET_RATIO = 0.5
PAGE_TARGET_P99_MS = 20.0
MIB = 1024 * 1024


def read_first(path: str, prefix: str) -> str:
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                               check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} with uncommitted changes" if dirty else commit


def load_average() -> str:
    """Return the 1-minute load average, which shows how busy the shared machine was."""
    return f"{os.getloadavg()[0]:.2f}"


def machine_lines(load_at_start: str) -> list[str]:
    memory_kib = read_first("/proc/meminfo", "MemTotal").split()[0]
    memory = f"{int(memory_kib) / 1024 / 1024:.1f} GiB" if memory_kib.isdigit() else "unknown"
    return [
        f"- CPUs available (`nproc`): {len(os.sched_getaffinity(0))}",
        f"- CPU model: {read_first('/proc/cpuinfo', 'model name')}",
        f"- memory: {memory}",
        f"- OS: {platform.system()} {platform.release()}",
        f"- Python: {platform.python_version()}",
        f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- TaskDash commit: {git_commit()}",
        f"- load average (1 min): {load_at_start} at the start of the run, {load_average()} at its end",
    ]


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def intake_section(result: IntakeResult) -> list[str]:
    taskdash_rate = result.median_rate("taskdash")
    tail_rate = result.median_rate("nsq_tail")
    rows = []
    for number, run in enumerate(result.runs, start=1):
        for consumer in (run.taskdash, run.nsq_tail):
            rows.append(
                f"| {number} | {consumer.name} | {consumer.seconds:.2f} | {consumer.rate:,.0f} | "
                f"{consumer.finished:,} | {consumer.requeued:,} | {consumer.timed_out:,} |"
            )
    return [
        "## Intake: heartbeats from an nsqd backlog",
        "",
        f"Each run publishes {result.messages:,} heartbeats of {result.services:,} services to topic `heartBeat`"
        f" of a fresh nsqd {result.nsqd_version} with `/mpub`, before any consumer starts.",
        "Two channels exist before publishing, so each contains the whole backlog.",
        "Then each consumer runs alone on its own channel, TaskDash first.",
        "A consumer's time starts with its first message in flight, as nsqd's `/stats` shows it, sampled"
        " every 20 ms.",
        "TaskDash's time ends when its channel is empty (depth, in flight and deferred all 0).",
        "nsq_tail exits after printing `-n` messages but before FINishing the last few, so its time ends"
        " when it exits.",
        "",
        f"- TaskDash: `{' '.join(result.taskdash_command)}`, all other settings at their defaults"
        " (max in flight 2500, poll interval 10 s), on a fresh SQLite database.",
        "  The services' URLs point at a loopback port that refuses connections, so every poll fails at once.",
        f"- nsq_tail: `{' '.join(result.nsq_tail_command)}`",
        "",
        "| run | consumer | seconds | messages/s | FINished | requeued | timed out |",
        "|---:|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Median over {len(result.runs)} runs: TaskDash {taskdash_rate:,.0f} heartbeats/s,"
        f" nsq_tail {tail_rate:,.0f} messages/s; TaskDash reaches {taskdash_rate / tail_rate:.2f} of nsq_tail's rate.",
        f"Target: at least {INTAKE_TARGET_RATE:,} heartbeats/s, {verdict(taskdash_rate >= INTAKE_TARGET_RATE)}.",
        "",
    ]


def legacy_section(result: LegacyListResult) -> list[str]:
    listing, idle, busy = result.list_latency, result.health_latency_idle, result.health_latency_during_list
    return [
        "## Legacy endpoint: `GetUnclaimedTasks` with a large task list",
        "",
        f"{result.tasks:,} unclaimed tasks of one service are inserted into a fresh SQLite database before the"
        " server starts.",
        "A background thread publishes the service's heartbeat through nsqd every second, so all tasks stay"
        " listed.",
        f"Each response is {result.response_bytes / MIB:.1f} MiB of JSON.",
        "The client sends the list requests one after another with a session cookie, and times each until the"
        " whole body has arrived.",
        "Meanwhile a second client requests `/healthz` every 50 ms, which shows how long a list request blocks"
        " the server.",
        "The resident set size (RSS) of the server process and its children is sampled every 50 ms during the"
        " list requests.",
        "",
        f"Server: `{' '.join(result.command)}`, all other settings at their defaults.",
        "",
        "| request | count | median (s) | max (s) |",
        "|---|---:|---:|---:|",
        f"| `GetUnclaimedTasks` | {listing.count} | {listing.median:.3f} | {listing.max:.3f} |",
        f"| `/healthz`, server idle | {idle.count} | {idle.median:.4f} | {idle.max:.4f} |",
        f"| `/healthz`, during the list requests | {busy.count} | {busy.median:.4f} | {busy.max:.4f} |",
        "",
        f"RSS: {result.rss_before / MIB:.0f} MiB before the list requests, peak {result.rss_peak / MIB:.0f} MiB.",
        "",
        f"Targets: `GetUnclaimedTasks` under {LIST_TARGET_SECONDS:.0f} s,"
        f" {verdict(listing.max < LIST_TARGET_SECONDS)} (max);"
        f" peak RSS under {RSS_TARGET_BYTES // MIB} MiB, {verdict(result.rss_peak < RSS_TARGET_BYTES)}.",
        "",
    ]


def load_row(label: str, result: LoadResult) -> str:
    return (
        f"| {label} | {result.count:,} | {result.seconds:.2f} | {result.rps:,.0f} | {result.p50_ms:.1f} |"
        f" {result.p99_ms:.1f} | {result.errors:,} | {result.server_cpu_share:.2f} | {result.loadgen_cpu_share:.2f} |"
    )


LOAD_TABLE_HEADER = [
    "| run | requests | seconds | requests/s | p50 (ms) | p99 (ms) | errors | server CPU (cores) |"
    " load generator CPU (cores) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
]

LOADGEN_LINES = [
    "The load generator is `taskdash-loadgen` (bench/loadgen, Go, standard library only, built by `make tools`).",
    "It keeps a fixed number of keep-alive connections, each with one request in flight, and measures each request"
    " until its whole body has arrived.",
    "The CPU columns are CPU seconds per second of the run: 1.00 is one core.",
    "TaskDash handles HTTP on one event-loop thread, which can use at most one core, so a server CPU near 1.00"
    " means the server limited the rate. The column also counts its SQLite threads.",
]


def claims_section(result: ClaimsResult) -> list[str]:
    rows = []
    for number, run in enumerate(result.runs, start=1):
        rows.append(load_row(f"{number}: `/healthz`", run.health))
        rows.append(load_row(f"{number}: claims", run.claims))
    check = result.check
    rate = result.median("rps")
    return [
        "## REST API: claims with 50 concurrent clients",
        "",
        f"{result.tasks:,} unclaimed tasks and {result.editors} editor accounts are written into a fresh SQLite"
        " database before the server starts.",
        f"Each editor logs in through `POST /api/v1/session`, and each of the {result.editors} connections sends one"
        " editor's session cookie and `X-CSRF-Token`.",
        "Every request is `POST /api/v1/tasks/{task_id}/claim` for a task that no other request addresses.",
        "A claim does not depend on service liveness, so the server runs without NSQ.",
        f"{result.warmup_claims:,} claims warm the server up first; then each run times {result.claims_per_run:,}"
        " claims.",
        f"Before each run, the same {result.editors} connections request `/healthz` for {HEALTH_SECONDS:.0f} s,"
        " as a reference for what the machine allowed at that moment.",
        *LOADGEN_LINES,
        "",
        f"Server: `{' '.join(result.command)}`, all other settings at their defaults (log level info, so every claim"
        " writes one log line).",
        "",
        *LOAD_TABLE_HEADER,
        *rows,
        "",
        f"Median over {len(result.runs)} runs: {rate:,.0f} claims/s, p50 {result.median('p50_ms'):.1f} ms,"
        f" p99 {result.median('p99_ms'):.1f} ms; claims reach {result.median_ratio:.2f} of `/healthz`'s rate.",
        "",
        f"The database afterwards: {check.claimed_tasks:,} tasks claimed, {check.claim_history_entries:,} claims in"
        f" the history, {check.tasks_claimed_twice} tasks claimed twice, {check.unclaimed_addressed_tasks} addressed"
        f" tasks left unclaimed, claims spread over {check.editors_with_claims} editors.",
        "",
        f"Targets: at least {CLAIMS_TARGET_RATE:,} claims/s, {verdict(rate >= CLAIMS_TARGET_RATE)} (median);"
        f" every claim stored exactly once, {verdict(check.exactly_once(result.tasks))}.",
        "",
    ]


def page_section(result: ListResult) -> list[str]:
    rows = []
    for number, round_ in enumerate(result.rounds, start=1):
        rows.append(load_row(f"{number}: `/healthz`", round_.health))
        rows.append(load_row(f"{number}: page", round_.page))
    ratio = result.median_ratio
    page_p99 = result.median("page", "p99_ms")
    return [
        f"## REST API: a filtered, sorted page of 50 from {result.tasks:,} tasks against `/healthz`",
        "",
        f"{result.tasks:,} tasks of one service are written into a fresh SQLite database before the server starts:"
        f" 80 % unclaimed, 10 % running, 10 % finished, in {DATA_TYPES} data types.",
        f"The page request, sent with an editor's session cookie, is `GET {result.page_path}`;"
        f" {result.matching:,} tasks match it, and its `total` says so.",
        "Task lists do not depend on service liveness, so the server runs without NSQ.",
        f"Each round requests `/healthz` and then the page, each for {result.seconds_per_endpoint:.0f} s over"
        f" {result.rounds[0].page.connections} connections, after a warm-up of {WARMUP_SECONDS:.0f} s each.",
        "The machine is shared, so absolute rates move between runs; the ratio of the two rates within one round is"
        " the measure.",
        *LOADGEN_LINES,
        "",
        f"Server: `{' '.join(result.command)}`, all other settings at their defaults.",
        "",
        *LOAD_TABLE_HEADER,
        *rows,
        "",
        f"Median over {len(result.rounds)} rounds: `/healthz` {result.median('health', 'rps'):,.0f} requests/s,"
        f" page {result.median('page', 'rps'):,.0f} requests/s, ratio {ratio:.2f};"
        f" page p50 {result.median('page', 'p50_ms'):.1f} ms, p99 {page_p99:.1f} ms.",
        "",
        f"Targets: the page at least {PAGE_TARGET_RATIO} of `/healthz`'s rate, {verdict(ratio >= PAGE_TARGET_RATIO)}"
        f" (median ratio); page p99 under {PAGE_TARGET_P99_MS:.0f} ms, {verdict(page_p99 < PAGE_TARGET_P99_MS)}"
        " (median).",
        "",
    ]


def report(
    intake: IntakeResult, legacy: LegacyListResult, claims: ClaimsResult, page: ListResult, command: str,
    total_seconds: float, load_at_start: str,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Measured numbers from one run of `make bench`, which writes this page.",
        "Every process ran on loopback on the machine below, which other work shared at the time,"
        " so single numbers vary between runs.",
        "Compare numbers measured in the same run, such as the ratios to `/healthz` below, rather than rates from"
        " different runs.",
        "",
        f"Command: `{command}` (the whole run took {total_seconds / 60:.1f} min)",
        "",
        "Machine:",
        "",
        *machine_lines(load_at_start),
        "",
        *intake_section(intake),
        *legacy_section(legacy),
        *claims_section(claims),
        *page_section(page),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000, help="heartbeats to publish [default: 200000]")
    parser.add_argument("--services", type=int, default=2_000, help="distinct services [default: 2000]")
    parser.add_argument("--repeats", type=int, default=3, help="intake runs, each on a fresh nsqd [default: 3]")
    parser.add_argument("--tasks", type=int, default=100_000,
                        help="tasks in the legacy list and REST page scenarios [default: 100000]")
    parser.add_argument("--claims", type=int, default=20_000, help="claims per timed REST claims run [default: 20000]")
    parser.add_argument("--warmup-claims", type=int, default=2_000,
                        help="untimed claims before the REST claims runs [default: 2000]")
    parser.add_argument("--page-seconds", type=float, default=5.0,
                        help="seconds of load on each endpoint per REST page round [default: 5]")
    parser.add_argument("--rest-repeats", type=int, default=3,
                        help="timed runs of each REST scenario [default: 3]")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="report file [default: docs/benchmarks.md]")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-output",
                        help="directory for databases and logs, emptied first [default: bench-output]")
    options = parser.parse_args(argv)

    started = time.monotonic()
    load_at_start = load_average()
    shutil.rmtree(options.workdir, ignore_errors=True)
    intake = run_intake(options.workdir / "intake", options.messages, options.services, options.repeats)
    legacy = run_legacy_list(options.workdir / "legacy", options.tasks)
    claims = run_rest_claims(options.workdir / "claims", options.claims, options.warmup_claims, options.rest_repeats)
    page = run_rest_list(options.workdir / "page", options.tasks, options.page_seconds, options.rest_repeats)

    command = " ".join([".venv/bin/python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    text = report(intake, legacy, claims, page, command, time.monotonic() - started, load_at_start)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
