"""MongoRepository beyond the contract: URL handling, the original layout, task locks and server failures.

These run on FerretDB, and also on a real MongoDB when TASKDASH_TEST_MONGO_URI is set.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from devtools.procs import FerretDB
from taskdash.errors import StoreReadFailed, StoreWriteFailed
from taskdash.store import open_store
from taskdash.store.mongo.locks import TaskWrite, WriteResult, lock_document
from taskdash.store.mongo.repository import MongoRepository
from taskdash.store.mongo.schema import INDEXES
from taskdash.store.protocol import ClaimOutcome
from taskdash.store.records import ClaimRequest, Heartbeat, HistoryEntry, Registration, TaskRecord, User

URL_A = "http://127.0.0.1:8001/rpost/a"
T0 = 1_700_000_000.0


@pytest.fixture(params=["ferretdb"] + (["mongodb"] if os.environ.get("TASKDASH_TEST_MONGO_URI") else []))
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def raw_db(store_url: str) -> AsyncIterator[AsyncDatabase]:
    """The test's database through a client of its own, to read documents as stored."""
    client: AsyncMongoClient = AsyncMongoClient(store_url)
    yield client.get_default_database()
    await client.close()


def task(task_id: str, **fields: object) -> TaskRecord:
    values = {"service_url": URL_A, "status": "notget", "created_at": T0, "updated_at": T0, **fields}
    return TaskRecord(task_id=task_id, **values)


def claim(task_id: str, user: str) -> ClaimRequest:
    return ClaimRequest(task_id=task_id, user=user, actor=user, at=T0 + 10)


# Opening.


async def test_open_store_selects_mongo(store: MongoRepository, store_url: str) -> None:
    assert isinstance(store, MongoRepository)
    assert store.database_name == store_url.rsplit("/", 1)[1]


async def test_open_without_database_uses_taskdash(ferretdb: FerretDB) -> None:
    repository = await open_store(f"mongodb://{ferretdb.address}/")
    client: AsyncMongoClient = AsyncMongoClient(ferretdb.database_url(""))
    try:
        assert repository.database_name == "taskdash"
        assert "taskdash" in await client.list_database_names()
    finally:
        await repository.close()
        await client.drop_database("taskdash")
        await client.close()


@pytest.mark.parametrize(
    "url", ["mongodb://", "mongodb://127.0.0.1:9/bad%24name", "mongodb://127.0.0.1:9/taskdash.tasks"]
)
async def test_open_invalid_url_raises(url: str) -> None:
    # Each URL fails before any connection is made.
    with pytest.raises(ValueError, match="invalid MongoDB URL"):
        await open_store(url)


async def test_reopen_keeps_indexes(store: MongoRepository, store_url: str, raw_db: AsyncDatabase) -> None:
    again = await open_store(store_url)
    await again.close()

    for collection, indexes in INDEXES.items():
        names = set(await raw_db[collection].index_information())
        assert {index.document["name"] for index in indexes} <= names, collection


# The original layout.


async def test_task_documents_original_layout(store: MongoRepository, raw_db: AsyncDatabase) -> None:
    reported = task("t1", data_type="2", reserved="r", description="d", service_status="notget")
    await store.insert_tasks([reported], [HistoryEntry("t1", T0, URL_A, "service", "", "notget")])
    await store.change_owner(ClaimRequest("t1", "alice", "manager", T0 + 5, checker="bob", group_id="g1"))

    management = await raw_db["management"].find_one({"_id": "t1"})
    metadata = await raw_db["metadata"].find_one({"_id": "t1"})

    assert {key: management[key] for key in ("type", "status", "user", "checker", "group_id", "reserved")} == {
        "type": "2", "status": "running", "user": "alice", "checker": "bob", "group_id": "g1", "reserved": "r",
    }
    assert {key: metadata[key] for key in ("type", "status", "reserved", "description", "service_url")} == {
        "type": "2", "status": "notget", "reserved": "r", "description": "d", "service_url": URL_A,
    }
    assert "user" not in metadata
    assert await raw_db["history"].count_documents({"task_id": "t1"}) == 2
    assert await raw_db["task_lock"].count_documents({}) == 0


async def test_metadata_mirror_follows_updates(store: MongoRepository, raw_db: AsyncDatabase) -> None:
    await store.insert_tasks([task("t1", service_status="notget")], [])
    loaded = await store.get_task("t1")
    loaded.service_status, loaded.description = "shutdown", "stopped"

    assert await store.update_tasks([(loaded, loaded.version)], []) == []
    await store.set_missing(URL_A, ["t1"], True, T0 + 1)

    metadata = await raw_db["metadata"].find_one({"_id": "t1"})
    assert metadata["status"] == "shutdown"
    assert metadata["description"] == "stopped"
    assert metadata["missing"] is True


async def test_service_document_original_layout(store: MongoRepository, raw_db: AsyncDatabase) -> None:
    registration = Registration(url=URL_A, name="abc", type="2", reserved="no", extra={"$odd.key": 1}, seen_at=T0)
    await store.apply_intake_batch([registration], [Heartbeat(URL_A, T0 + 1, T0, T0 + 1)], [])

    document = await raw_db["service"].find_one({"_id": URL_A})

    assert {key: document[key] for key in ("name", "type", "reserved", "last_heartbeat_at")} == {
        "name": "abc", "type": "2", "reserved": "no", "last_heartbeat_at": T0 + 1,
    }
    assert (await store.list_services())[0].extra == {"$odd.key": 1}


async def test_group_mirror_follows_users(store: MongoRepository, raw_db: AsyncDatabase) -> None:
    for name, groups in (("alice", ("g1", "g2")), ("bob", ("g1",))):
        await store.add_user(User(name, "$argon2id$placeholder", ("editor",), groups, created_at=T0))

    await store.update_user("alice", groups=["g1"])

    groups = {document["_id"]: document["members"] for document in await raw_db["group"].find().to_list()}
    assert groups == {"g1": ["alice", "bob"]}


# Task locks.


async def insert_lock(raw_db: AsyncDatabase, write: TaskWrite, at: float) -> None:
    await raw_db["task_lock"].insert_one(lock_document(write, at))


async def test_abandoned_lock_completed_by_next_writer(store_url: str, raw_db: AsyncDatabase) -> None:
    repository = await MongoRepository.open(store_url, lock_wait=2, abandoned_after=30)
    try:
        await repository.insert_tasks([task("t1")], [])
        ghost_entry = HistoryEntry("t1", T0 + 1, "ghost", "user", "notget", "running")
        ghost = TaskWrite("t1", 1, {"status": "running", "user": "ghost"}, history=[ghost_entry])
        # A writer that took its lock a minute ago and died before applying its write.
        await insert_lock(raw_db, ghost, time.time() - 60)

        outcome, record = await repository.change_owner(claim("t1", "alice"))

        assert outcome == ClaimOutcome.ALREADY_CLAIMED
        assert record.user == "ghost"
        assert record.version == 2
        assert await repository.task_history("t1") == [ghost_entry]
        assert await raw_db["task_lock"].count_documents({}) == 0
    finally:
        await repository.close()


async def test_live_lock_blocks_writers(store_url: str, raw_db: AsyncDatabase) -> None:
    repository = await MongoRepository.open(store_url, lock_wait=0.3, abandoned_after=300)
    try:
        await repository.insert_tasks([task("t1")], [])
        loaded = await repository.get_task("t1")
        await insert_lock(raw_db, TaskWrite("t1", 1, {"description": "in flight"}), time.time())

        with pytest.raises(StoreWriteFailed, match="another write has held it"):
            await repository.change_owner(claim("t1", "alice"))
        assert await repository.update_tasks([(loaded, 1)], []) == ["t1"]
        assert (await repository.get_task("t1")).version == 1
    finally:
        await repository.close()


async def test_claim_against_live_claim_lock_answers_at_once(store_url: str, raw_db: AsyncDatabase) -> None:
    # A claim that waited for the lock would raise StoreWriteFailed after lock_wait, because this lock never lands.
    repository = await MongoRepository.open(store_url, lock_wait=30, abandoned_after=300)
    try:
        await repository.insert_tasks([task("t1")], [])
        await insert_lock(raw_db, TaskWrite("t1", 1, {"status": "running", "user": "bob"}), time.time())

        outcome, record = await repository.change_owner(claim("t1", "alice"))

        assert outcome == ClaimOutcome.ALREADY_CLAIMED
        assert record.user == "bob"
        assert record.version == 2
        assert (await repository.get_task("t1")).version == 1
    finally:
        await repository.close()


async def test_claim_ignores_lock_of_stale_writer(store_url: str, raw_db: AsyncDatabase) -> None:
    claimer = await MongoRepository.open(store_url, lock_wait=30, abandoned_after=300)
    poller = await MongoRepository.open(store_url)
    try:
        await poller.insert_tasks([task("t1")], [])
        write = claimer._writer.write
        stale_lock = lock_document(TaskWrite("t1", 1, {"status": "running", "user": "bob"}), time.time())

        async def interleaved(writes: list[TaskWrite], wait: bool = True) -> WriteResult:
            # After alice's claim read t1 at version 1: a poll marks t1 missing (version 2), and bob's claim,
            # which also read version 1, takes the free lock of version 1 before it finds its version stale.
            await poller.set_missing(URL_A, ["t1"], True, T0 + 5)
            await raw_db["task_lock"].insert_one(stale_lock)
            return await write(writes, wait=wait)

        claimer._writer.write = interleaved  # type: ignore[method-assign]
        outcome, _ = await claimer.change_owner(claim("t1", "alice"))

        assert outcome == ClaimOutcome.NOT_FOUND
    finally:
        await claimer.close()
        await poller.close()


async def test_stale_writer_leaves_no_lock(store: MongoRepository, raw_db: AsyncDatabase) -> None:
    await store.insert_tasks([task("t1")], [])
    loaded = await store.get_task("t1")
    await store.change_owner(claim("t1", "alice"))

    assert await store.update_tasks([(loaded, loaded.version)], []) == ["t1"]
    assert await raw_db["task_lock"].count_documents({}) == 0
    assert (await store.get_task("t1")).user == "alice"


async def test_same_task_twice_in_one_update(store: MongoRepository) -> None:
    await store.insert_tasks([task("t1")], [])
    first, second = await store.get_task("t1"), await store.get_task("t1")
    first.description, second.description = "first", "second"

    assert await store.update_tasks([(first, 1), (second, 1)], []) == ["t1"]
    assert (await store.get_task("t1")).description == "first"


# Server failures.


async def test_server_down_raises_store_errors(tmp_path: Path) -> None:
    server = FerretDB.start(tmp_path)
    repository = await open_store(server.database_url("down") + "?serverSelectionTimeoutMS=300")
    try:
        await repository.insert_tasks([task("t1")], [])
        server.managed.kill()

        with pytest.raises(StoreReadFailed, match="list_services"):
            await repository.list_services()
        with pytest.raises(StoreWriteFailed, match="apply_intake_batch"):
            await repository.apply_intake_batch([], [Heartbeat(URL_A, T0, None, T0)], [])
        with pytest.raises(StoreWriteFailed, match="change_owner"):
            await repository.change_owner(claim("t1", "alice"))
    finally:
        await repository.close()
        server.managed.stop()
