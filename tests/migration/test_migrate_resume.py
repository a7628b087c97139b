"""`taskdash migrate` killed with SIGKILL in the middle of a copy, then run again to finish it.

The command runs as its own process with a small batch size, so that the
copy of a few thousand tasks takes long enough to be killed part-way. The
stores are compared through complete exports (`export_all`), because the
repository reads the history of 3,000 tasks from FerretDB too slowly.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import orjson
from pymongo import MongoClient

from devtools.procs import TASKDASH_BIN, wait_until
from taskdash.store.transfer import Kind
from tests.migration.data import export_all, fill_url, sqlite_rows

TASKS = 3000
BATCH_SIZE = 5
# Records of a kind the copy must have written before the test kills it.
KILL_AFTER = 300


def command(source: str, target: str, batch_size: int, *options: str) -> list[str]:
    return [str(TASKDASH_BIN), "migrate", "--from", source, "--to", target, "--batch-size", str(batch_size),
            "--log-format", "json", *options]


def start(source: str, target: str, batch_size: int, log_path: Path, *options: str) -> subprocess.Popen:
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(command(source, target, batch_size, *options), stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def finish(source: str, target: str, batch_size: int) -> subprocess.CompletedProcess:
    return subprocess.run(command(source, target, batch_size), capture_output=True, text=True, timeout=240)


def progress_of(target: str) -> dict[str, Any] | None:
    """Return the target's progress record as stored, or None if it has none yet."""
    if target.startswith("sqlite:///"):
        path = target.removeprefix("sqlite:///")
        if not Path(path).exists():
            return None
        with sqlite3.connect(path, timeout=10) as connection:
            try:
                row = connection.execute("SELECT document FROM migration_progress").fetchone()
            except sqlite3.OperationalError:
                return None
        return None if row is None else orjson.loads(row[0])
    client: MongoClient = MongoClient(target, serverSelectionTimeoutMS=5000)
    try:
        return client.get_default_database()["migration_progress"].find_one({"_id": "progress"})
    finally:
        client.close()


def copied(target: str, kind: str) -> int:
    progress = progress_of(target)
    if progress is None or kind not in progress["kinds"]:
        return 0
    return progress["kinds"][kind]["copied"]


def kill_during(process: subprocess.Popen, target: str, kind: str, log_path: Path) -> None:
    """Kill `process` with SIGKILL once it has copied KILL_AFTER records of `kind`."""
    wait_until(lambda: copied(target, kind) >= KILL_AFTER or process.poll() is not None, 120,
               f"{KILL_AFTER} {kind} copied")
    assert process.poll() is None, f"the copy ended before the kill:\n{log_path.read_text()[-2000:]}"
    process.kill()
    process.wait(10)


def test_sqlite_to_mongo_resumes_after_two_kills(sqlite_source: str, mongo_url: str, tmp_path: Path) -> None:
    fill_url(sqlite_source, TASKS)
    expected = export_all(sqlite_source)
    log_path = tmp_path / "migrate.log"

    kill_during(start(sqlite_source, mongo_url, BATCH_SIZE, log_path), mongo_url, "tasks", log_path)
    after_first_kill = progress_of(mongo_url)
    kill_during(start(sqlite_source, mongo_url, BATCH_SIZE, log_path), mongo_url, "history", log_path)
    result = finish(sqlite_source, mongo_url, BATCH_SIZE)

    assert after_first_kill is not None
    assert after_first_kill["complete"] is False
    assert KILL_AFTER <= after_first_kill["kinds"]["tasks"]["copied"] < TASKS
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resumed and finished the migration" in result.stdout
    actual = export_all(mongo_url)
    # Tasks come in the order of first insertion, with their positions, on both stores.
    assert actual[Kind.TASKS] == expected[Kind.TASKS]
    # SQLite exports history by row id, MongoDB by task; each entry keeps its identity.
    history_key = lambda stored: (stored.entry.task_id, stored.version, stored.index)  # noqa: E731
    assert sorted(actual[Kind.HISTORY], key=history_key) == sorted(expected[Kind.HISTORY], key=history_key)
    for kind in (Kind.SERVICES, Kind.USERS, Kind.GROUPS, Kind.SESSIONS, Kind.DEAD_LETTERS):
        assert actual[kind] == expected[kind], kind


def test_mongo_to_sqlite_resumes_after_kill(
    sqlite_source: str, mongo_url: str, sqlite_target: str, tmp_path: Path
) -> None:
    fill_url(sqlite_source, TASKS)
    # Filling FerretDB through the repository takes about 65 ms per task, a copy far less.
    seeded = subprocess.run(command(sqlite_source, mongo_url, 1000), capture_output=True, text=True, timeout=240)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    log_path = tmp_path / "migrate.log"

    kill_during(start(mongo_url, sqlite_target, BATCH_SIZE, log_path), sqlite_target, "history", log_path)
    after_kill = progress_of(sqlite_target)
    result = finish(mongo_url, sqlite_target, BATCH_SIZE)

    assert after_kill is not None
    assert after_kill["complete"] is False
    assert after_kill["kinds"]["tasks"]["done"] is True
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resumed and finished the migration" in result.stdout
    # Every row of every table equals the original's, so no history entry was written twice.
    original = sqlite_rows(Path(sqlite_source.removeprefix("sqlite:///")))
    copy = sqlite_rows(Path(sqlite_target.removeprefix("sqlite:///")))
    for table, rows in original.items():
        assert copy[table] == rows, table


def interrupt_during(process: subprocess.Popen, target: str, log_path: Path, signals: int) -> int:
    """Send `signals` SIGINTs to `process` once it has copied KILL_AFTER tasks; return its exit status."""
    wait_until(lambda: copied(target, "tasks") >= KILL_AFTER or process.poll() is not None, 120,
               f"{KILL_AFTER} tasks copied")
    assert process.poll() is None, f"the copy ended before the interrupt:\n{log_path.read_text()[-2000:]}"
    for _ in range(signals):
        process.send_signal(signal.SIGINT)
    return process.wait(30)


def test_interrupt_exits_130_and_resumes(sqlite_source: str, mongo_url: str, tmp_path: Path) -> None:
    fill_url(sqlite_source, TASKS)
    log_path = tmp_path / "migrate.log"

    # --replace on an empty target deletes nothing, but a run that resumes must leave it out.
    process = start(sqlite_source, mongo_url, BATCH_SIZE, log_path, "--replace")
    status = interrupt_during(process, mongo_url, log_path, signals=1)
    after_interrupt = progress_of(mongo_url)
    result = finish(sqlite_source, mongo_url, BATCH_SIZE)

    log_text = log_path.read_text()
    assert status == 130
    assert "stopping after the current batch" in log_text
    assert "interrupted: stopped after" in log_text
    assert "run the same command again to continue where it stopped (leave out --replace" in log_text
    assert after_interrupt is not None
    # The copy stopped at a batch boundary, with its progress saved.
    assert after_interrupt["kinds"]["tasks"]["copied"] % BATCH_SIZE == 0
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resumed and finished the migration" in result.stdout


def test_second_interrupt_stops_at_once_and_resumes(sqlite_source: str, mongo_url: str, tmp_path: Path) -> None:
    fill_url(sqlite_source, TASKS)
    expected = export_all(sqlite_source)
    log_path = tmp_path / "migrate.log"

    status = interrupt_during(start(sqlite_source, mongo_url, BATCH_SIZE, log_path), mongo_url, log_path, signals=2)
    result = finish(sqlite_source, mongo_url, BATCH_SIZE)

    assert status == 130
    assert "run the same command again to continue where it stopped" in log_path.read_text()
    assert result.returncode == 0, result.stderr[-3000:]
    assert export_all(mongo_url)[Kind.TASKS] == expected[Kind.TASKS]
