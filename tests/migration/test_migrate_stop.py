"""A stop requested during `migrate_store` (what Ctrl-C does) ends the copy after a whole batch, and a rerun resumes."""

from __future__ import annotations

import asyncio

import pytest

from taskdash.migration.engine import MigrationInterrupted, migrate_store
from taskdash.migration.urls import parse_store_url
from taskdash.store.transfer import KINDS, Kind
from tests.migration.data import fill_url, run, snapshot_url

TASKS = 60
BATCH_SIZE = 7
# Task records the reporter lets through before it requests the stop.
STOP_AFTER = 20


class StoppingReporter:
    """Records what the engine reports, and sets `stop` once STOP_AFTER task records were written."""

    def __init__(self, stop: asyncio.Event | None) -> None:
        self.stop = stop
        self.kind: Kind | None = None
        self.tasks_written = 0
        self.finished: list[tuple[Kind | None, bool]] = []

    def start(self, kind: Kind, total: int, copied: int) -> None:
        self.kind = kind
        if kind is Kind.TASKS:
            self.tasks_written = copied

    def advance(self, count: int) -> None:
        if self.kind is Kind.TASKS:
            self.tasks_written += count
            if self.stop is not None and self.tasks_written >= STOP_AFTER:
                self.stop.set()

    def finish(self, complete: bool) -> None:
        self.finished.append((self.kind, complete))


async def copy(source: str, target: str, reporter: StoppingReporter) -> object:
    return await migrate_store(
        parse_store_url(source, "--from"), parse_store_url(target, "--to"), reporter,
        batch_size=BATCH_SIZE, stop=reporter.stop,
    )


def test_stop_into_sqlite(sqlite_source: str, sqlite_target: str) -> None:
    check_stop_and_resume(sqlite_source, sqlite_target)


def test_stop_into_mongo(sqlite_source: str, mongo_url: str) -> None:
    check_stop_and_resume(sqlite_source, mongo_url)


def check_stop_and_resume(sqlite_source: str, target: str) -> None:
    fill_url(sqlite_source, TASKS)
    expected = snapshot_url(sqlite_source)
    stopping = StoppingReporter(asyncio.Event())

    with pytest.raises(MigrationInterrupted, match=r"stopped after 21 records of tasks: run the same command again"):
        run(copy(sqlite_source, target, stopping))
    resuming = StoppingReporter(None)
    result = run(copy(sqlite_source, target, resuming))

    # Services come first and were finished; the tasks stopped after three batches of seven.
    assert stopping.finished == [(Kind.SERVICES, True), (Kind.TASKS, False)]
    assert result.resumed is True
    assert (Kind.TASKS, True) in resuming.finished
    actual = snapshot_url(target)
    assert actual.tasks == expected.tasks
    assert actual.history == expected.history


class StopAtLastKind(StoppingReporter):
    """Sets `stop` when the copy of the last kind finishes, so that the stop falls in the verification."""

    def advance(self, count: int) -> None:
        pass

    def finish(self, complete: bool) -> None:
        super().finish(complete)
        if self.kind is KINDS[-1] and self.stop is not None:
            self.stop.set()


def test_stop_during_verification(sqlite_source: str, sqlite_target: str) -> None:
    fill_url(sqlite_source, TASKS)

    with pytest.raises(MigrationInterrupted, match="stopped while verifying the counts"):
        run(copy(sqlite_source, sqlite_target, StopAtLastKind(asyncio.Event())))
    result = run(copy(sqlite_source, sqlite_target, StoppingReporter(None)))

    assert result.resumed is True
    assert all(count.source == count.target for count in result.counts)
