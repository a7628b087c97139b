"""Run the TaskDash benchmarks and write docs/benchmarks.md.

Usage: `python -m bench.run` from the repository root (`make bench`).
Processes, databases and logs go to bench-output/, which is recreated on
every run. The intake and list scenarios run on SQLite and on FerretDB (see
bench/backends.py), the claims scenario on SQLite only. The whole run takes
about ten minutes on a 2-core machine, most of it on FerretDB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from bench.backends import BACKENDS
from bench.intake import run_intake
from bench.legacy_list import run_legacy_list
from bench.machine import load_average
from bench.report import report
from bench.rest_claims import run_rest_claims
from bench.rest_list import run_rest_list
from devtools.procs import ROOT


def parse_backends(text: str) -> list[str]:
    """Parse the --backends value, such as "sqlite,ferretdb", keeping the order of BACKENDS."""
    names = {name.strip().lower() for name in text.split(",") if name.strip()}
    unknown = names - set(BACKENDS)
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"invalid backends {text!r}: use a comma-separated list of {', '.join(BACKENDS)}"
        )
    return [backend for backend in BACKENDS if backend in names]


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
    parser.add_argument("--backends", type=parse_backends, default=list(BACKENDS),
                        help="comma-separated store backends of the intake and list scenarios"
                             f" [default: {','.join(BACKENDS)}]")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="report file [default: docs/benchmarks.md]")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-output",
                        help="directory for databases and logs, emptied first [default: bench-output]")
    options = parser.parse_args(argv)

    started = time.monotonic()
    load_at_start = load_average()
    shutil.rmtree(options.workdir, ignore_errors=True)
    backends = options.backends
    intake = run_intake(options.workdir / "intake", options.messages, options.services, options.repeats, backends)
    legacy = [run_legacy_list(options.workdir / "legacy" / backend, options.tasks, backend) for backend in backends]
    claims = run_rest_claims(options.workdir / "claims", options.claims, options.warmup_claims, options.rest_repeats)
    page = [
        run_rest_list(options.workdir / "page" / backend, options.tasks, options.page_seconds, options.rest_repeats,
                      backend)
        for backend in backends
    ]

    command = " ".join([".venv/bin/python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    text = report(intake, legacy, claims, page, command, time.monotonic() - started, load_at_start)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
