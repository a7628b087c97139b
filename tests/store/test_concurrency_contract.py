"""The repository contract under concurrency: many clients, each with its own connections, racing on one task.

Each client is a repository opened separately on the same store, as separate
TaskDash instances would open it.
"""

from __future__ import annotations

import asyncio

from taskdash.store.protocol import ClaimOutcome, Repository
from taskdash.store.records import ClaimRequest, DeadLetter, Heartbeat, HistoryEntry, Registration, TaskRecord
from tests.store.conftest import OpenClients

URL_A = "http://127.0.0.1:8001/rpost/a"
T0 = 1_700_000_000.0
CLIENTS = 50

def claim(task_id: str, user: str) -> ClaimRequest:
    return ClaimRequest(task_id=task_id, user=user, actor=user, at=T0 + 10, reason="claimed")


async def test_concurrent_claims_separate_clients_one_wins(store: Repository, open_clients: OpenClients) -> None:
    await store.insert_tasks([TaskRecord("t1", URL_A, "notget", created_at=T0, updated_at=T0)], [])
    clients = await open_clients(CLIENTS)

    results = await asyncio.gather(
        *(client.change_owner(claim("t1", f"user{i}")) for i, client in enumerate(clients))
    )

    outcomes = [outcome for outcome, _ in results]
    winners = [record.user for outcome, record in results if outcome == ClaimOutcome.DONE]
    stored = await store.get_task("t1")
    assert outcomes.count(ClaimOutcome.DONE) == 1
    assert outcomes.count(ClaimOutcome.ALREADY_CLAIMED) == CLIENTS - 1
    assert stored.user == winners[0]
    assert stored.version == 2
    assert [entry.actor for entry in await store.task_history("t1")] == winners


async def test_concurrent_versioned_writes_one_wins(store: Repository, open_clients: OpenClients) -> None:
    await store.insert_tasks([TaskRecord("t1", URL_A, "notget", created_at=T0, updated_at=T0)], [])
    loaded = await store.get_task("t1")
    clients = await open_clients(CLIENTS)

    async def write(index: int, client: Repository) -> list[str]:
        record = await client.get_task("t1")
        record.description = f"writer {index}"
        entry = HistoryEntry("t1", T0 + 1, f"writer {index}", "service", "notget", "notget", "changed")
        return await client.update_tasks([(record, loaded.version)], [entry])

    results = await asyncio.gather(*(write(i, client) for i, client in enumerate(clients)))

    winners = [index for index, stale in enumerate(results) if stale == []]
    stored = await store.get_task("t1")
    assert len(winners) == 1
    assert all(stale == ["t1"] for stale in results if stale)
    assert stored.description == f"writer {winners[0]}"
    assert stored.version == loaded.version + 1
    assert [entry.actor for entry in await store.task_history("t1")] == [f"writer {winners[0]}"]


async def test_claims_racing_writes_one_claim_wins(store: Repository, open_clients: OpenClients) -> None:
    await store.insert_tasks([TaskRecord("t1", URL_A, "notget", created_at=T0, updated_at=T0)], [])
    clients = await open_clients(20)

    async def poll_write(client: Repository) -> list[str]:
        record = await client.get_task("t1")
        version = record.version
        record.description = "from poll"
        return await client.update_tasks([(record, version)], [])

    claims = [client.change_owner(claim("t1", f"user{i}")) for i, client in enumerate(clients[:10])]
    writes = [poll_write(client) for client in clients[10:]]
    results = await asyncio.gather(*claims, *writes)

    outcomes = [outcome for outcome, _ in results[:10]]
    winners = [record.user for outcome, record in results[:10] if outcome == ClaimOutcome.DONE]
    stored = await store.get_task("t1")
    assert outcomes.count(ClaimOutcome.DONE) == 1
    assert outcomes.count(ClaimOutcome.ALREADY_CLAIMED) == 9
    assert stored.user == winners[0]
    assert stored.status == "running"
    assert stored.version == 2 + sum(1 for stale in results[10:] if stale == [])


async def test_concurrent_dead_letters_unique_ids(store: Repository, open_clients: OpenClients) -> None:
    clients = await open_clients(10)

    async def store_letters(index: int, client: Repository) -> None:
        letters = [DeadLetter("heartBeat", "nsq", f"{index}-{n}".encode(), "not JSON", T0) for n in range(3)]
        await client.apply_intake_batch([], [], letters)

    await asyncio.gather(*(store_letters(i, client) for i, client in enumerate(clients)))

    stored = await store.list_dead_letters(limit=100)
    assert sorted(letter.id for letter in stored) == list(range(1, 31))
    assert len({letter.body for letter in stored}) == 30


async def test_heartbeats_racing_poll_records_both_kept(store: Repository) -> None:
    await store.apply_intake_batch([Registration(URL_A, "abc", "2", "no", {}, T0)], [], [])

    heartbeats = [
        store.apply_intake_batch([], [Heartbeat(URL_A, T0 + i, T0 + i, T0 + i)], []) for i in range(1, 21)
    ]
    polls = [store.record_poll(URL_A, T0 + i, False, f"poll {i} failed", i) for i in range(1, 21)]
    await asyncio.gather(*(call for pair in zip(heartbeats, polls) for call in pair))

    [service] = await store.list_services()
    assert service.last_heartbeat_at == T0 + 20
    assert service.last_sender_time == T0 + 20
    assert service.last_poll_at is not None
    assert service.last_poll_error == f"poll {service.poll_failures} failed"


async def test_first_heartbeats_from_two_clients_keep_newest(store: Repository, open_clients: OpenClients) -> None:
    older, newer = await open_clients(2)
    urls = [f"http://127.0.0.1:9/rpost/race-{index}" for index in range(60)]

    # Both clients find every URL new, so the slower insert of each URL meets the faster one's document.
    await asyncio.gather(
        older.apply_intake_batch([], [Heartbeat(url, T0 + 1, T0 + 1, T0 + 1) for url in urls], []),
        newer.apply_intake_batch([], [Heartbeat(url, T0 + 2, T0 + 2, T0 + 2) for url in urls], []),
    )

    times = await store.heartbeat_times()
    assert sorted(times) == sorted(urls)
    assert set(times.values()) == {T0 + 2}
