"""The machine a benchmark run measured on, as lines of the report."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess

from devtools.procs import ROOT


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
