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

from bench.intake import IntakeResult, run_intake
from bench.legacy_list import LegacyListResult, run_legacy_list
from devtools.procs import ROOT

INTAKE_TARGET_RATE = 20_000
LIST_TARGET_SECONDS = 1.0
RSS_TARGET_BYTES = 300 * 1024 * 1024
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


def machine_lines() -> list[str]:
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


def report(intake: IntakeResult, legacy: LegacyListResult, command: str, total_seconds: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Measured numbers from one run of `make bench`, which writes this page.",
        "Every process ran on loopback on the machine below, which other work shared at the time,"
        " so single numbers vary between runs.",
        "",
        f"Command: `{command}` (the whole run took {total_seconds / 60:.1f} min)",
        "",
        "Machine:",
        "",
        *machine_lines(),
        "",
        *intake_section(intake),
        *legacy_section(legacy),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000, help="heartbeats to publish [default: 200000]")
    parser.add_argument("--services", type=int, default=2_000, help="distinct services [default: 2000]")
    parser.add_argument("--repeats", type=int, default=3, help="intake runs, each on a fresh nsqd [default: 3]")
    parser.add_argument("--tasks", type=int, default=100_000, help="unclaimed tasks to list [default: 100000]")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="report file [default: docs/benchmarks.md]")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-output",
                        help="directory for databases and logs, emptied first [default: bench-output]")
    options = parser.parse_args(argv)

    started = time.monotonic()
    shutil.rmtree(options.workdir, ignore_errors=True)
    intake = run_intake(options.workdir / "intake", options.messages, options.services, options.repeats)
    legacy = run_legacy_list(options.workdir / "legacy", options.tasks)

    command = " ".join([".venv/bin/python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    text = report(intake, legacy, command, time.monotonic() - started)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
