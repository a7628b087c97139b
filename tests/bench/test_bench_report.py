"""bench.report: SQLite and FerretDB numbers side by side, with the targets judged on SQLite only."""

from __future__ import annotations

from bench.intake import ConsumerResult, IntakeResult, IntakeRun
from bench.http_load import LoadResult, combine_slices
from bench.legacy_list import LegacyListResult, Latency
from bench.report import (
    NOT_JUDGED,
    intake_section,
    legacy_section,
    page_section,
    rate_text,
    ratio_text,
)
from bench.rest_list import PAGE_PLANS, ListResult, ListRound
from bench.backends import FERRETDB, SQLITE

MIB = 1024 * 1024


def intake_result(sqlite_rate: float, ferretdb_finished: int, services: int = 2000) -> IntakeResult:
    consumers = [
        ConsumerResult("TaskDash, SQLite", 200_000, 200_000 / sqlite_rate, 200_000, 0, 0),
        ConsumerResult("TaskDash, FerretDB", ferretdb_finished, 20.0, ferretdb_finished, 0, 0, drained=False),
        ConsumerResult("nsq_tail", 200_000, 2.5, 199_999, 0, 0),
    ]
    commands = {"SQLite": ["taskdash", "serve"], "FerretDB": ["taskdash", "serve", "--channel", "taskdash_ferretdb"]}
    return IntakeResult(200_000, services, [IntakeRun(1.0, consumers)], commands, ["nsq_tail"], "1.3.0")


def legacy_result(backend: str, list_seconds: float, rss_peak: int) -> LegacyListResult:
    return LegacyListResult(
        backend=backend, tasks=100_000, prefill_seconds=3.0, response_bytes=11 * MIB,
        list_latency=Latency(list_seconds, list_seconds, 2), health_latency_idle=Latency(0.001, 0.002, 20),
        health_latency_during_list=Latency(0.002, 0.3, 100), rss_before=80 * MIB, rss_peak=rss_peak,
        ferretdb_rss_peak=800 * MIB if backend == "FerretDB" else None, command=["taskdash", "serve"],
    )


def load(rps: float, p99_ms: float) -> LoadResult:
    return LoadResult(
        count=100, errors=0, statuses={"200": 100}, first_error="", seconds=5.0, rps=rps, p50_ms=p99_ms / 2,
        p99_ms=p99_ms, max_ms=p99_ms, connections=10, connections_opened=10, loadgen_cpu_seconds=1.0,
        server_cpu_seconds=5.0,
    )


def list_result(backend: str, plan_backend: str, page_rps: float, page_p99_ms: float) -> ListResult:
    ferretdb_cpu = 4.0 if plan_backend == FERRETDB else None
    round_ = ListRound(load(8000, 3.0), load(page_rps, page_p99_ms), ferretdb_cpu)
    return ListResult(
        backend=backend, tasks=100_000, prefill_seconds=3.0, matching=8000, page_path="/api/v1/tasks?limit=50",
        seconds_per_endpoint=5.0, plan=PAGE_PLANS[plan_backend], rounds=[round_], command=["taskdash", "serve"],
    )


def test_rate_text_decimals_only_below_ten() -> None:
    assert rate_text(0.0274) == "0.03"
    assert rate_text(22_712.4) == "22,712"


def test_ratio_text_tiny_ratio_keeps_digits() -> None:
    assert ratio_text(0.000327) == "0.00033"
    assert ratio_text(0.0000037) == "0.0000037"
    assert ratio_text(0.104) == "0.10"
    assert ratio_text(0.0) == "0.00"


def test_intake_section_rows_per_backend() -> None:
    text = "\n".join(intake_section(intake_result(25_000, 4_000)))

    assert "| 1 | TaskDash, SQLite | 8.00 | 25,000 | 200,000 | 0 | 0 | yes |" in text
    assert "| 1 | TaskDash, FerretDB | 20.00 | 200 | 4,000 | 0 | 0 | no |" in text
    assert "its time ends 20 s after its first message in flight" in text


def test_intake_target_judged_on_sqlite() -> None:
    text = "\n".join(intake_section(intake_result(25_000, 0)))

    assert "Target: at least 20,000 heartbeats/s on SQLite, met." in text


def test_intake_stall_explained_only_when_stalled() -> None:
    stalled = "\n".join(intake_section(intake_result(25_000, 3)))
    moving = "\n".join(intake_section(intake_result(25_000, 4_000)))

    assert "TaskDash on FerretDB FINished under 1% of the heartbeats (at most 3) in 1 of 1 runs." in stalled
    assert "this backlog has 2,000 services" in stalled
    assert "FINished under" not in moving


def test_legacy_targets_ignore_ferretdb() -> None:
    results = [legacy_result("SQLite", 0.25, 140 * MIB), legacy_result("FerretDB", 30.0, 180 * MIB)]

    text = "\n".join(legacy_section(results))

    assert "| FerretDB | `GetUnclaimedTasks` | 2 | 30.000 | 30.000 |" in text
    assert "the FerretDB process peak 800 MiB" in text
    assert "Targets on SQLite: `GetUnclaimedTasks` under 1 s, met (max); peak RSS under 300 MiB, met." in text


def test_legacy_without_sqlite_not_judged() -> None:
    text = "\n".join(legacy_section([legacy_result("FerretDB", 30.0, 180 * MIB)]))

    assert NOT_JUDGED in text
    assert "Targets on SQLite" not in text


def test_page_section_rows_and_sqlite_verdict() -> None:
    results = [list_result("SQLite", SQLITE, 4500, 15.0), list_result("FerretDB", FERRETDB, 0.03, 40_000.0)]

    text = "\n".join(page_section(results))

    assert "| SQLite | 1: page | 100 | 5.00 | 4,500 | 7.5 | 15.0 | 0 | 1.00 | 0.20 | – |" in text
    assert "| FerretDB | 1: page | 100 | 5.00 | 0.03 | 20,000.0 | 40,000.0 | 0 | 1.00 | 0.20 | 0.80 |" in text
    assert "its one round requests `/healthz` for 5 s and then the page 2 times, over 1 connection" in text
    assert "Median over 1 round on FerretDB" in text
    assert "ratio 0.000003" in text
    assert "the page at least 0.5 of `/healthz`'s rate, met (median ratio); page p99 under 20 ms, met" in text
    assert "its one round requests `/healthz` and the page in turns of 1 s, 5 s for each endpoint" in text


def test_combine_slices_adds_counts_and_keeps_highest_p99() -> None:
    first = LoadResult(
        count=300, errors=1, statuses={"200": 299, "503": 1}, first_error="", seconds=1.0, rps=300.0, p50_ms=2.0,
        p99_ms=9.0, max_ms=12.0, connections=10, connections_opened=10, loadgen_cpu_seconds=0.2,
        server_cpu_seconds=1.0,
    )
    second = LoadResult(
        count=100, errors=0, statuses={"200": 100}, first_error="", seconds=1.0, rps=100.0, p50_ms=4.0,
        p99_ms=30.0, max_ms=31.0, connections=10, connections_opened=10, loadgen_cpu_seconds=0.1,
        server_cpu_seconds=0.9,
    )

    combined = combine_slices([first, second])

    assert (combined.count, combined.errors, combined.seconds, combined.rps) == (400, 1, 2.0, 200.0)
    assert combined.statuses == {"200": 399, "503": 1}
    assert (combined.p50_ms, combined.p99_ms, combined.max_ms) == (3.0, 30.0, 31.0)
    assert combined.server_cpu_share == 0.95
