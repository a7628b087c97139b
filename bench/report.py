"""The Markdown page of one benchmark run (docs/benchmarks.md): machine, scenarios, numbers and targets.

The targets apply to SQLite, the default store. Numbers on FerretDB are
reported next to them without targets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bench.backends import FERRETDB, FERRETDB_SOCKET_TIMEOUT_MS, LABELS, SQLITE
from bench.http_load import LoadResult
from bench.intake import NSQ_TAIL, WINDOWS, IntakeResult, taskdash_consumer
from bench.legacy_list import LegacyListResult
from bench.machine import machine_lines
from bench.rest_claims import HEALTH_SECONDS, ClaimsResult
from bench.rest_list import DATA_TYPES, WARMUP_SECONDS, ListResult

INTAKE_TARGET_RATE = 20_000
LIST_TARGET_SECONDS = 1.0
RSS_TARGET_BYTES = 300 * 1024 * 1024
CLAIMS_TARGET_RATE = 2_000
PAGE_TARGET_RATIO = 0.5
PAGE_TARGET_P99_MS = 20.0
MIB = 1024 * 1024
NOT_JUDGED = "Targets apply to SQLite, which this run skipped."
# Share of the intake backlog under which an undrained run on FerretDB counts as stalled.
STALLED_SHARE = 0.01


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def count_text(count: int, noun: str) -> str:
    """Return "1 round" or "3 rounds", for a noun whose plural ends in s."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def rate_text(rate: float) -> str:
    """Format a rate per second, with decimals only below 10, where FerretDB's slow requests land."""
    return f"{rate:.2f}" if rate < 10 else f"{rate:,.0f}"


def ratio_text(ratio: float) -> str:
    """Format a ratio of two rates with two decimals, or with two significant digits below 0.01."""
    if not 0 < ratio < 0.01:
        return f"{ratio:.2f}"
    decimals = 1 - math.floor(math.log10(ratio))
    return f"{ratio:.{decimals}f}"


def of_backend(results: Sequence[LegacyListResult | ListResult], backend: str) -> LegacyListResult | ListResult | None:
    """Return the result on `backend` (SQLITE or FERRETDB), or None when the run skipped it."""
    return next((result for result in results if result.backend == LABELS[backend]), None)


def backends_section() -> list[str]:
    return [
        "## Store backends",
        "",
        "The intake and both list scenarios run once per store backend; the claims scenario runs on SQLite only.",
        "",
        "- SQLite: TaskDash's default store, a file in a fresh directory of `bench-output/`.",
        "- FerretDB: FerretDB v1.24.2 (built by `make tools`), a server that speaks the MongoDB wire protocol and"
        " keeps each database in an SQLite file.",
        "  Each scenario starts its own FerretDB on loopback, and TaskDash uses its MongoDB store (pymongo's"
        " `AsyncMongoClient`) on it, the same code that runs against MongoDB in production.",
        "  FerretDB runs most of a query's filtering, sorting and counting in its own process, so these numbers"
        " describe FerretDB, not MongoDB: a real MongoDB would give different numbers.",
        f"  Its URLs set `socketTimeoutMS={FERRETDB_SOCKET_TIMEOUT_MS}` (TaskDash's default is 30 s): one read of"
        " 100,000 documents takes FerretDB 20 to 30 s on a shared 2-core machine, so with the default a list over"
        " 100,000 tasks can time out, and the server then returns HTTP 503.",
        "  FerretDB's CPU time and memory belong to its own process, so they are reported apart from the server's.",
        "",
        "The targets apply to SQLite, the default store. FerretDB's numbers have no targets.",
        "Tasks are prefilled through the repository's `insert_tasks`, the code the server uses to store new tasks,"
        " so on FerretDB the documents and indexes are exactly the MongoDB store's.",
        "",
    ]


def intake_section(result: IntakeResult) -> list[str]:
    rows = []
    for number, run in enumerate(result.runs, start=1):
        for consumer in run.consumers:
            rows.append(
                f"| {number} | {consumer.name} | {consumer.seconds:.2f} | {rate_text(consumer.rate)} | "
                f"{consumer.finished:,} | {consumer.requeued:,} | {consumer.timed_out:,} | {yes_no(consumer.drained)} |"
            )
    commands = [f"  - on {label}: `{' '.join(command)}`" for label, command in result.taskdash_commands.items()]
    windows = [
        f"TaskDash on {LABELS[backend]} stores heartbeats far more slowly, so its time ends {seconds:.0f} s after"
        " its first message in flight, drained or not; its rate is then the heartbeats FINished by that time per"
        " second. FerretDB 1.24.2 takes longer for each update as the service collection grows, because it scans"
        " the collection's SQLite table to find a document even by `_id` (see src/taskdash/store/mongo/server.py)."
        " An intake batch sends one update per stored service, however many heartbeats of it the batch holds."
        for backend, seconds in WINDOWS.items()
        if LABELS[backend] in result.taskdash_commands
    ]
    names = [consumer.name for consumer in result.runs[0].consumers]
    medians = ", ".join(f"{name} {rate_text(result.median_rate(name))} messages/s" for name in names)
    return [
        "## Intake: heartbeats from an nsqd backlog",
        "",
        f"Each run publishes {result.messages:,} heartbeats of {result.services:,} services to topic `heartBeat`"
        f" of a fresh nsqd {result.nsqd_version} with `/mpub`, before any consumer starts.",
        "Every consumer has its own channel, created before publishing, so each contains the whole backlog.",
        "Then each consumer runs alone on its channel: TaskDash on each backend, then nsq_tail.",
        "A consumer's time starts with its first message in flight, as nsqd's `/stats` shows it, sampled"
        " every 20 ms.",
        "TaskDash's time ends when its channel is empty (depth, in flight and deferred all 0).",
        *windows,
        "nsq_tail exits after printing `-n` messages but before FINishing the last few, so its time ends"
        " when it exits.",
        "",
        "- TaskDash, on a fresh store in each run, with all other settings at their defaults (max in flight 2500,"
        " poll interval 10 s):",
        *commands,
        "  The services' URLs point at a loopback port that refuses connections, so every poll fails at once.",
        f"- nsq_tail: `{' '.join(result.nsq_tail_command)}`",
        "",
        "| run | consumer | seconds | messages/s | FINished | requeued | timed out | channel drained |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
        f"Median over {count_text(len(result.runs), 'run')}: {medians}.",
        *intake_verdict(result),
        *intake_stalls(result),
        "",
    ]


def intake_verdict(result: IntakeResult) -> list[str]:
    if LABELS[SQLITE] not in result.taskdash_commands:
        return [NOT_JUDGED]
    rate = result.median_rate(taskdash_consumer(LABELS[SQLITE]))
    return [
        f"TaskDash on SQLite reaches {rate / result.median_rate(NSQ_TAIL):.2f} of nsq_tail's rate.",
        f"Target: at least {INTAKE_TARGET_RATE:,} heartbeats/s on SQLite, {verdict(rate >= INTAKE_TARGET_RATE)}.",
    ]


def intake_stalls(result: IntakeResult) -> list[str]:
    """Return the explanation for FerretDB runs that FINished under STALLED_SHARE of the backlog, if there were any."""
    name = taskdash_consumer(LABELS[FERRETDB])
    stalled = [
        consumer for run in result.runs for consumer in run.consumers
        if consumer.name == name and not consumer.drained and consumer.finished < result.messages * STALLED_SHARE
    ]
    if not stalled:
        return []
    max_finished = max(consumer.finished for consumer in stalled)
    return [
        "",
        f"TaskDash on FerretDB FINished under {STALLED_SHARE:.0%} of the heartbeats (at most {max_finished:,}) in"
        f" {len(stalled)} of {len(result.runs)} runs.",
        "A likely cause: each update takes FerretDB 1.24.2 time in proportion to the number of services, because it"
        " scans the collection's SQLite table to find a document even by `_id`, and TaskDash sends one update per"
        f" stored service of an intake batch; this backlog has {result.services:,} services.",
        "The server's log is `taskdash-intake-ferretdb.log` in each run's directory under `bench-output/intake/`.",
    ]


def legacy_section(results: list[LegacyListResult]) -> list[str]:
    rows = []
    for result in results:
        listing, idle, busy = result.list_latency, result.health_latency_idle, result.health_latency_during_list
        rows += [
            f"| {result.backend} | `GetUnclaimedTasks` | {listing.count} | {listing.median:.3f} | {listing.max:.3f} |",
            f"| {result.backend} | `/healthz`, server idle | {idle.count} | {idle.median:.4f} | {idle.max:.4f} |",
            f"| {result.backend} | `/healthz`, during the list requests | {busy.count} | {busy.median:.4f} |"
            f" {busy.max:.4f} |",
        ]
    first = results[0]
    return [
        "## Legacy endpoint: `GetUnclaimedTasks` with a large task list",
        "",
        f"{first.tasks:,} unclaimed tasks of one service are inserted into a fresh store before the server starts.",
        "A background thread publishes the service's heartbeat through nsqd every second, so all tasks stay"
        " listed.",
        f"Each response is {first.response_bytes / MIB:.1f} MiB of JSON.",
        "The client sends the list requests one after another with a session cookie, and times each until the"
        " whole body has arrived.",
        "Before that, one untimed request must return every task, which shows that the server reads the"
        " prefilled store.",
        "Meanwhile a second client requests `/healthz` every 50 ms, which shows how long a list request blocks"
        " the server.",
        "The resident set size (RSS) of the server process and its children is sampled every 50 ms during the"
        " list requests, and on FerretDB that of the FerretDB process too.",
        *request_counts(results),
        "",
        *(f"Server on {result.backend}: `{' '.join(result.command)}`, all other settings at their defaults."
          for result in results),
        "",
        "| backend | request | count | median (s) | max (s) |",
        "|---|---|---:|---:|---:|",
        *rows,
        "",
        *(rss_line(result) for result in results),
        prefill_line(results),
        "",
        *legacy_verdict(results),
        "",
    ]


def request_counts(results: list[LegacyListResult]) -> list[str]:
    sqlite, ferretdb = of_backend(results, SQLITE), of_backend(results, FERRETDB)
    if sqlite is None or ferretdb is None:
        return []
    return [
        f"One list request takes far longer on FerretDB, so it is timed {ferretdb.list_latency.count} times there"
        f" and {sqlite.list_latency.count} times on SQLite."
    ]


def rss_line(result: LegacyListResult) -> str:
    line = (f"RSS on {result.backend}: the server {result.rss_before / MIB:.0f} MiB before the list requests,"
            f" peak {result.rss_peak / MIB:.0f} MiB")
    if result.ferretdb_rss_peak is not None:
        line += f"; the FerretDB process peak {result.ferretdb_rss_peak / MIB:.0f} MiB"
    return line + "."


def prefill_line(results: Sequence[LegacyListResult | ListResult]) -> str:
    times = " and ".join(f"{result.prefill_seconds:.1f} s on {result.backend}" for result in results)
    return f"Inserting the {results[0].tasks:,} tasks before the server started took {times}."


def legacy_verdict(results: list[LegacyListResult]) -> list[str]:
    result = of_backend(results, SQLITE)
    if result is None:
        return [NOT_JUDGED]
    listing = result.list_latency
    return [
        f"Targets on SQLite: `GetUnclaimedTasks` under {LIST_TARGET_SECONDS:.0f} s,"
        f" {verdict(listing.max < LIST_TARGET_SECONDS)} (max);"
        f" peak RSS under {RSS_TARGET_BYTES // MIB} MiB, {verdict(result.rss_peak < RSS_TARGET_BYTES)}."
    ]


def load_row(label: str, result: LoadResult) -> str:
    return (
        f"| {label} | {result.count:,} | {result.seconds:.2f} | {rate_text(result.rps)} | {result.p50_ms:,.1f} |"
        f" {result.p99_ms:,.1f} | {result.errors:,} | {result.server_cpu_share:.2f} | {result.loadgen_cpu_share:.2f} |"
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
        f"SQLite quick writes: {result.quick_writes.get('on_loop', 0):,.0f} committed on the event loop,"
        f" {result.quick_writes.get('moved_to_thread', 0):,.0f} moved to the writer thread.",
        "",
        f"The database afterwards: {check.claimed_tasks:,} tasks claimed, {check.claim_history_entries:,} claims in"
        f" the history, {check.tasks_claimed_twice} tasks claimed twice, {check.unclaimed_addressed_tasks} addressed"
        f" tasks left unclaimed, claims spread over {check.editors_with_claims} editors.",
        "",
        f"Targets: at least {CLAIMS_TARGET_RATE:,} claims/s, {verdict(rate >= CLAIMS_TARGET_RATE)} (median);"
        f" every claim stored exactly once, {verdict(check.exactly_once(result.tasks))}.",
        "",
    ]


PAGE_TABLE_HEADER = [
    "| backend | run | requests | seconds | requests/s | p50 (ms) | p99 (ms) | errors | server CPU (cores) |"
    " load generator CPU (cores) | FerretDB CPU (cores) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def page_rows(result: ListResult) -> list[str]:
    rows = []
    for number, round_ in enumerate(result.rounds, start=1):
        ferretdb_cpu = round_.ferretdb_page_cpu_share
        rows.append(f"| {result.backend} {load_row(f'{number}: `/healthz`', round_.health)} – |")
        rows.append(f"| {result.backend} {load_row(f'{number}: page', round_.page)}"
                    f" {'–' if ferretdb_cpu is None else f'{ferretdb_cpu:.2f}'} |")
    return rows


def each_round(count: int) -> str:
    return "its one round" if count == 1 else f"each of its {count} rounds"


def page_plan_line(result: ListResult) -> str:
    plan = result.plan
    connections = f"over {plan.connections} connection{'s' if plan.connections > 1 else ''}"
    warmup = f", after a warm-up of {WARMUP_SECONDS:.0f} s each" if plan.warmup else ", without a warm-up"
    if plan.page_requests:
        return (
            f"On {result.backend}, one page request takes far longer, so {each_round(len(result.rounds))}"
            f" requests `/healthz` for {result.seconds_per_endpoint:.0f} s and then the page {plan.page_requests}"
            f" times, {connections}{warmup}."
        )
    if plan.slices > 1:
        return (
            f"On {result.backend}, {each_round(len(result.rounds))} requests `/healthz` and the page in turns of"
            f" {result.seconds_per_endpoint / plan.slices:g} s, {result.seconds_per_endpoint:g} s for each endpoint"
            f" {connections}{warmup}. A round's row adds up its turns. Its p50 is the median of the turns' p50,"
            " and its p99 the highest of their p99."
        )
    return (
        f"On {result.backend}, {each_round(len(result.rounds))} requests `/healthz` and then the page, each for"
        f" {result.seconds_per_endpoint:.0f} s {connections}{warmup}."
    )


def page_medians(result: ListResult) -> str:
    return (
        f"Median over {count_text(len(result.rounds), 'round')} on {result.backend}: `/healthz`"
        f" {rate_text(result.median('health', 'rps'))} requests/s, page {rate_text(result.median('page', 'rps'))}"
        " requests/s,"
        f" ratio {ratio_text(result.median_ratio)}; page p50 {result.median('page', 'p50_ms'):,.1f} ms,"
        f" p99 {result.median('page', 'p99_ms'):,.1f} ms."
    )


def page_verdict(results: list[ListResult]) -> list[str]:
    result = of_backend(results, SQLITE)
    if result is None:
        return [NOT_JUDGED]
    ratio = result.median_ratio
    page_p99 = result.median("page", "p99_ms")
    return [
        f"Targets on SQLite: the page at least {PAGE_TARGET_RATIO} of `/healthz`'s rate,"
        f" {verdict(ratio >= PAGE_TARGET_RATIO)} (median ratio); page p99 under {PAGE_TARGET_P99_MS:.0f} ms,"
        f" {verdict(page_p99 < PAGE_TARGET_P99_MS)} (median)."
    ]


def page_section(results: list[ListResult]) -> list[str]:
    first = results[0]
    return [
        f"## REST API: a filtered, sorted page of 50 from {first.tasks:,} tasks against `/healthz`",
        "",
        f"{first.tasks:,} tasks of one service are written into a fresh store before the server starts:"
        f" 80 % unclaimed, 10 % running, 10 % finished, in {DATA_TYPES} data types.",
        f"The page request, sent with an editor's session cookie, is `GET {first.page_path}`;"
        f" {first.matching:,} tasks match it.",
        "One untimed request first checks that the page holds 50 tasks in order and that its `total` says"
        f" {first.matching:,}, which shows that the server reads the prefilled store.",
        "Task lists do not depend on service liveness, so the server runs without NSQ.",
        *(page_plan_line(result) for result in results),
        "The machine is shared, so absolute rates move between runs; the ratio of the two rates within one round is"
        " the measure.",
        *LOADGEN_LINES,
        "The FerretDB CPU column is the FerretDB process's CPU during the page requests.",
        "",
        *(f"Server on {result.backend}: `{' '.join(result.command)}`, all other settings at their defaults."
          for result in results),
        "",
        *PAGE_TABLE_HEADER,
        *(row for result in results for row in page_rows(result)),
        "",
        *(page_medians(result) for result in results),
        prefill_line(results),
        "",
        *page_verdict(results),
        "",
    ]


def report(
    intake: IntakeResult, legacy: list[LegacyListResult], claims: ClaimsResult, page: list[ListResult], command: str,
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
        *backends_section(),
        *intake_section(intake),
        *legacy_section(legacy),
        *claims_section(claims),
        *page_section(page),
    ]
    return "\n".join(lines)
