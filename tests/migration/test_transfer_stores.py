"""The transfer stores of both backends: key order, repeated writes, progress records and clearing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from taskdash.store import open_store
from taskdash.store.records import TaskQuery, TaskRecord
from taskdash.store.transfer import KINDS, Kind, Progress, StoredTask, TransferStore, open_transfer
from tests.migration.conftest import NewMongoUrl
from tests.migration.data import fill

BATCH = 4


@pytest.fixture(params=["sqlite", "mongo"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, new_mongo_url: NewMongoUrl) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return new_mongo_url()


@pytest.fixture
async def filled_url(store_url: str) -> str:
    repository = await open_store(store_url)
    try:
        await fill(repository, tasks=10)
    finally:
        await repository.close()
    return store_url


@pytest.fixture
async def target(store_url: str) -> AsyncIterator[TransferStore]:
    store = await open_transfer(store_url, target=True)
    yield store
    await store.close()


async def read_all(store: TransferStore, kind: Kind) -> tuple[list, list]:
    """Return every record of `kind` read in batches of BATCH, and the key of each batch."""
    records, keys, after = [], [], None
    while True:
        batch = await store.read_batch(kind, after, BATCH)
        records.extend(batch.records)
        if len(batch.records) < BATCH:
            return records, keys
        after = batch.last_key
        keys.append(after)


async def test_batches_cover_every_record_once(filled_url: str) -> None:
    store = await open_transfer(filled_url, target=False)
    try:
        for kind in KINDS:
            records, _ = await read_all(store, kind)
            whole = await store.read_batch(kind, None, 1000)

            assert records == whole.records, kind
            assert len(records) == await store.count(kind), kind
    finally:
        await store.close()


async def test_reading_again_from_an_earlier_key(filled_url: str) -> None:
    store = await open_transfer(filled_url, target=False)
    try:
        for kind in (Kind.TASKS, Kind.HISTORY, Kind.SESSIONS):
            first = await store.read_batch(kind, None, 2)
            second = await store.read_batch(kind, first.last_key, 2)

            again = await store.read_batch(kind, first.last_key, 2)
            from_start = await store.read_batch(kind, None, 2)

            assert again.records == second.records, kind
            assert from_start.records == first.records, kind
    finally:
        await store.close()


async def test_tasks_come_in_insertion_order(filled_url: str) -> None:
    repository = await open_store(filled_url)
    try:
        order = [row[0] for row in await repository.task_columns(TaskQuery(include_missing=True), ["task_id"])]
    finally:
        await repository.close()
    store = await open_transfer(filled_url, target=False)
    try:
        records, _ = await read_all(store, Kind.TASKS)
    finally:
        await store.close()

    assert [stored.task.task_id for stored in records] == order
    assert order != sorted(order)


def comparable(kind: Kind, records: list) -> list:
    """Return `records` without what a copy onto the other backend may renumber, in one order."""
    if kind is Kind.TASKS:
        # A SQLite target numbers its rows itself; the order of the tasks is what it keeps.
        return [stored.task for stored in records]
    if kind is Kind.HISTORY:
        return sorted(records, key=lambda stored: (stored.entry.task_id, stored.version, stored.index))
    return records


async def test_writing_a_batch_twice_stores_it_once(
    filled_url: str, tmp_path: Path, new_mongo_url: NewMongoUrl
) -> None:
    source = await open_transfer(filled_url, target=False)
    # The copy goes onto the other backend than the source's.
    other = new_mongo_url() if filled_url.startswith("sqlite") else f"sqlite:///{tmp_path / 'other.db'}"
    target = await open_transfer(other, target=True)
    try:
        for kind in KINDS:
            if kind is Kind.HISTORY and other.startswith("sqlite"):
                # SQLite appends history; the progress committed with each batch keeps it from repeating one.
                continue
            batch = await source.read_batch(kind, None, 1000)
            await target.write_batch(kind, batch.records, Progress("source"))
            await target.write_batch(kind, batch.records, Progress("source"))

            stored = await target.read_batch(kind, None, 1000)
            assert await target.count(kind) == len(batch.records), kind
            assert comparable(kind, stored.records) == comparable(kind, batch.records), kind
    finally:
        await source.close()
        await target.close()


async def test_progress_round_trip(target: TransferStore) -> None:
    progress = Progress("sqlite:////srv/taskdash.db", started_at=12.5)
    progress.of(Kind.TASKS).after = [1_733_000_000_123_456_789, "task-1"]
    progress.of(Kind.TASKS).copied = 1000
    progress.of(Kind.SERVICES).done = True

    await target.write_progress(progress)

    assert await target.read_progress() == progress


async def test_no_progress_on_a_new_target(target: TransferStore) -> None:
    assert await target.read_progress() is None


async def test_clear_empties_every_kind(filled_url: str) -> None:
    store = await open_transfer(filled_url, target=True)
    try:
        await store.write_progress(Progress("somewhere"))

        await store.clear()

        for kind in KINDS:
            assert await store.count(kind) == 0, kind
        assert await store.read_progress() is None
    finally:
        await store.close()

async def test_rewriting_many_stored_tasks_on_mongo(mongo_url: str) -> None:
    # FerretDB 1.24.2 does not respond to one update command of 100 or more replacements of stored documents.
    tasks = [
        StoredTask(TaskRecord(task_id=f"t{index:04d}", service_url="http://s", status="notget"), index)
        for index in range(250)
    ]
    target = await open_transfer(mongo_url + "?socketTimeoutMS=20000", target=True)
    try:
        await target.write_batch(Kind.TASKS, tasks, Progress("source"))
        for stored in tasks:
            stored.task.version = 2

        await target.write_batch(Kind.TASKS, tasks, Progress("source"))

        stored = await target.read_batch(Kind.TASKS, None, 1000)
        assert [record.task.version for record in stored.records] == [2] * 250
    finally:
        await target.close()
