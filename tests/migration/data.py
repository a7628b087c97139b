"""Data for the migration tests: a store filled through the repository protocol, and a snapshot of all of it."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient

from taskdash.store import open_store
from taskdash.store.protocol import Repository
from taskdash.store.transfer import KINDS, Kind, open_transfer
from taskdash.store.records import (
    ClaimRequest,
    DeadLetter,
    Heartbeat,
    HistoryEntry,
    Registration,
    ServiceRecord,
    Session,
    TaskQuery,
    TaskRecord,
    TaskSort,
    TaskSortField,
    User,
)

T0 = 1_700_000_000.123456
SERVICE_URLS = [f"http://127.0.0.1:{8001 + index}/rpost/s{index}" for index in range(3)]
# Heard only through heartbeats, so never registered.
UNREGISTERED_URL = "http://127.0.0.1:8009/rpost/unregistered"
SESSION_HASHES = [f"{index:064x}" for index in range(1, 5)]
# Extras that stress both stores: keys MongoDB rejects as field names, an integer beyond 2**53,
# nested values, non-ASCII text and floats that need all 17 digits.
ODD_EXTRA = {"$where": "x", "a.b": [1, 2.5, None], "big": 2**62 + 1, "中文": {"嵌套": True}, "pi": 0.1 + 0.2}


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


async def fill(store: Repository, tasks: int = 40) -> None:
    """Store services, `tasks` tasks in every state with their history, users, groups, sessions and dead letters."""
    registrations = [
        Registration(url, f"服务{index}", str(index), "no", {**ODD_EXTRA, "index": index}, T0 + index)
        for index, url in enumerate(SERVICE_URLS)
    ]
    heartbeats = [
        Heartbeat(SERVICE_URLS[0], T0 + 30.5, T0 + 31.25, T0 + 30.75),
        Heartbeat(SERVICE_URLS[1], T0 + 40.0, None, T0 + 40.0),
        Heartbeat(UNREGISTERED_URL, T0 + 50.0, T0 + 49.0, T0 + 50.5),
    ]
    letters = [
        DeadLetter("heartBeat", "nsqd", b"\x00\xff not json \xc3\x28", "invalid JSON", T0 + 1),
        DeadLetter("taskService", "http", "{\"url\": 5}".encode(), "url: 无效", T0 + 2),
    ]
    await store.apply_intake_batch(registrations, heartbeats, letters)
    await store.record_poll(SERVICE_URLS[0], T0 + 60, True, "", 0)
    await store.record_poll(SERVICE_URLS[1], T0 + 61, False, "timed out after 10 s", 3)

    await store.add_user(User("alice", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", ("editor",), ("mx", "qa"),
                              "爱丽丝", False, T0 + 5))
    await store.add_user(User("bob", "$argon2id$bob", ("checker", "manager"), ("mx",), "", False, T0 + 6))
    await store.add_user(User("carol", "$argon2id$carol", ("editor",), (), "Carol", False, T0 + 7))
    await store.update_user("carol", disabled=True)
    for index, token_hash in enumerate(SESSION_HASHES):
        await store.add_session(Session(token_hash, ["alice", "bob"][index % 2], T0 + index, T0 + 86400 + index))

    await _fill_tasks(store, tasks)


async def _fill_tasks(store: Repository, count: int) -> None:
    records, history = [], []
    for index in range(count):
        task_id = f"task-{count - index:05d}"  # ids against the order of insertion, which must survive
        records.append(TaskRecord(
            task_id=task_id, service_url=SERVICE_URLS[index % 3], status="notget", data_type=f"type{index % 4}",
            description=f"任务 {index}", service_status="notget", reserved="r" if index % 2 else "",
            project_id=f"p{index % 5}", instance_id=f"i{index}", url=f"http://files/{index}",
            create_time="2024-01-02 03:04:05", extra={"n": index, "odd": ODD_EXTRA} if index % 3 == 0 else {},
            fingerprint=f"fp{index:08x}", created_at=T0 + index * 0.001, updated_at=T0 + index * 0.001,
        ))
        history.append(HistoryEntry(task_id, T0 + index * 0.001, SERVICE_URLS[index % 3], "service", "",
                                    "notget", "first reported"))
    # Several calls, so that the order of first insertion differs from the order of the ids.
    for start in range(0, count, 7):
        await store.insert_tasks(records[start:start + 7], [entry for entry in history[start:start + 7]])

    for index, task in enumerate(records):
        if index % 4 == 1:
            await store.change_owner(ClaimRequest(task.task_id, "alice", "alice", T0 + 100 + index, checker="bob",
                                                  group_id="mx", reason="claimed"))
        if index % 4 == 2:
            stored = await store.get_task(task.task_id)
            assert stored is not None
            stored.service_status, stored.description = "finish", f"changed {index}"
            stored.updated_at = T0 + 200 + index
            entry = HistoryEntry(task.task_id, T0 + 200 + index, "poller", "service", "notget", "notget", "")
            assert await store.update_tasks([(stored, stored.version)], [entry]) == []
    missing = [task.task_id for index, task in enumerate(records) if index % 9 == 0]
    await store.set_missing(SERVICE_URLS[0], missing, True, T0 + 300)


@dataclass
class Snapshot:
    """Every record of a store as the repository protocol returns it."""

    services: list[ServiceRecord]
    tasks: list[TaskRecord]
    insertion_order: list[str]
    history: dict[str, list[HistoryEntry]]
    users: list[User]
    groups: dict[str, list[str]]
    sessions: list[Session | None]
    dead_letters: list[DeadLetter]


async def snapshot(store: Repository) -> Snapshot:
    tasks: list[TaskRecord] = []
    cursor = None
    query = TaskQuery(include_missing=True)
    while True:
        page, cursor = await store.find_tasks(query, TaskSort(TaskSortField.TASK_ID), 500, cursor)
        tasks.extend(page)
        if cursor is None:
            break
    return Snapshot(
        services=await store.list_services(include_archived=True),
        tasks=tasks,
        insertion_order=[row[0] for row in await store.task_columns(query, ["task_id"])],
        history={task.task_id: await store.task_history(task.task_id) for task in tasks},
        users=await store.list_users(),
        groups=await store.list_groups(),
        sessions=[await store.get_session(token_hash) for token_hash in SESSION_HASHES],
        dead_letters=await store.list_dead_letters(1000),
    )


def fill_url(url: str, tasks: int = 40) -> None:
    async def work() -> None:
        store = await open_store(url)
        try:
            await fill(store, tasks)
        finally:
            await store.close()

    run(work())


def snapshot_url(url: str) -> Snapshot:
    async def work() -> Snapshot:
        store = await open_store(url)
        try:
            return await snapshot(store)
        finally:
            await store.close()

    return run(work())


def export_all(url: str) -> dict[Kind, list]:
    """Return every record of every kind as the transfer store exports it, in each kind's key order.

    Faster than `snapshot` on FerretDB, which scans the history once per task.
    """

    async def work() -> dict[Kind, list]:
        store = await open_transfer(url, target=False)
        try:
            records: dict[Kind, list] = {}
            for kind in KINDS:
                records[kind] = []
                after = None
                while True:
                    batch = await store.read_batch(kind, after, 1000)
                    records[kind].extend(batch.records)
                    if len(batch.records) < 1000:
                        break
                    after = batch.last_key
            return records
        finally:
            await store.close()

    return run(work())


def archive_service(url: str, service_url: str) -> None:
    """Archive a service directly in the store, because the repository protocol has no method for it."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute("UPDATE service SET archived = 1 WHERE url = ?", (service_url,))
        return
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        client.get_default_database()["service"].update_one({"_id": service_url}, {"$set": {"archived": True}})
    finally:
        client.close()


def sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    """Return every row of TaskDash's tables, with history in each task's order but without its row ids."""
    queries = {
        "service": "SELECT * FROM service ORDER BY url",
        "task": "SELECT * FROM task ORDER BY rowid",
        "task_history": "SELECT task_id, at, actor, actor_kind, from_status, to_status, reason FROM task_history "
                        "ORDER BY task_id, id",
        "account": "SELECT * FROM account ORDER BY username",
        "session": "SELECT * FROM session ORDER BY token_hash",
        "dead_letter": "SELECT * FROM dead_letter ORDER BY id",
        "task_count": "SELECT * FROM task_count WHERE tasks > 0 ORDER BY status, data_type, missing",
    }
    with sqlite3.connect(path) as connection:
        return {table: connection.execute(sql).fetchall() for table, sql in queries.items()}
