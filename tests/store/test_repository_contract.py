"""The repository contract: every backend passes these tests (see conftest.py for the backends)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from taskdash.errors import InvalidRequest
from taskdash.store.protocol import ClaimOutcome, Repository
from taskdash.store.records import (
    ClaimRequest,
    DeadLetter,
    Heartbeat,
    HistoryEntry,
    Registration,
    Session,
    TaskQuery,
    TaskRecord,
    User,
)

URL_A = "http://127.0.0.1:8001/rpost/a"
URL_B = "http://127.0.0.1:8002/rpost/b"
T0 = 1_700_000_000.0


def registration(url: str = URL_A, name: str = "abc", seen_at: float = T0, **extra: object) -> Registration:
    return Registration(url=url, name=name, type="2", reserved="no", extra=dict(extra), seen_at=seen_at)


def heartbeat(
    url: str = URL_A, seen_at: float = T0, sender_time: float | None = None, received_at: float | None = None
) -> Heartbeat:
    return Heartbeat(url=url, seen_at=seen_at, sender_time=sender_time, received_at=received_at or seen_at)


def task(task_id: str, service_url: str = URL_A, status: str = "notget", **fields: object) -> TaskRecord:
    return TaskRecord(task_id=task_id, service_url=service_url, status=status, created_at=T0, updated_at=T0, **fields)


def first_report(task_id: str, service_url: str = URL_A) -> HistoryEntry:
    return HistoryEntry(task_id, T0, service_url, "service", "", "notget", "first reported")


def claim(task_id: str, user: str, **fields: object) -> ClaimRequest:
    return ClaimRequest(task_id=task_id, user=user, actor=user, at=T0 + 10, **fields)


async def service(store: Repository, url: str):
    return next(record for record in await store.list_services() if record.url == url)


# Intake.


async def test_intake_registration_creates_service(store: Repository) -> None:
    await store.apply_intake_batch([registration(region="sy")], [], [])

    record = await service(store, URL_A)
    assert record.name == "abc"
    assert record.type == "2"
    assert record.reserved == "no"
    assert record.extra == {"region": "sy"}
    assert record.registered is True
    assert record.registered_at == T0
    assert record.first_seen_at == T0


async def test_intake_registration_upsert_updates(store: Repository) -> None:
    await store.apply_intake_batch([registration(name="old")], [], [])

    await store.apply_intake_batch([registration(name="new", seen_at=T0 + 5)], [], [])

    services = await store.list_services()
    assert len(services) == 1
    assert services[0].name == "new"
    assert services[0].registered_at == T0 + 5
    assert services[0].first_seen_at == T0


async def test_intake_older_registration_ignored(store: Repository) -> None:
    await store.apply_intake_batch([registration(name="new", seen_at=T0 + 5)], [], [])

    await store.apply_intake_batch([registration(name="old", seen_at=T0)], [], [])

    record = await service(store, URL_A)
    assert record.name == "new"
    assert record.registered_at == T0 + 5


async def test_intake_batch_of_several_services(store: Repository) -> None:
    await store.apply_intake_batch(
        [registration(URL_A), registration(URL_B, name="b")], [heartbeat(URL_A), heartbeat(URL_B)], []
    )

    assert [record.url for record in await store.list_services()] == [URL_A, URL_B]
    assert await store.heartbeat_times() == {URL_A: T0, URL_B: T0}


async def test_heartbeat_stores_times(store: Repository) -> None:
    await store.apply_intake_batch(
        [registration()], [heartbeat(seen_at=T0 + 1, sender_time=T0 - 3, received_at=T0 + 2)], []
    )

    record = await service(store, URL_A)
    assert record.last_heartbeat_at == T0 + 1
    assert record.last_heartbeat_received_at == T0 + 2
    assert record.last_sender_time == T0 - 3
    assert record.clock_skew == pytest.approx(-4.0)


async def test_heartbeat_never_moves_backwards(store: Repository) -> None:
    await store.apply_intake_batch([registration()], [heartbeat(seen_at=T0 + 10, sender_time=T0 + 10)], [])

    await store.apply_intake_batch([], [heartbeat(seen_at=T0 + 2, sender_time=T0 + 2)], [])

    record = await service(store, URL_A)
    assert record.last_heartbeat_at == T0 + 10
    assert record.last_sender_time == T0 + 10
    assert record.last_heartbeat_received_at == T0 + 10


async def test_heartbeat_newer_moves_forward(store: Repository) -> None:
    await store.apply_intake_batch([registration()], [heartbeat(seen_at=T0)], [])

    await store.apply_intake_batch([], [heartbeat(seen_at=T0 + 7, sender_time=T0 + 6)], [])

    record = await service(store, URL_A)
    assert record.last_heartbeat_at == T0 + 7
    assert record.last_sender_time == T0 + 6


async def test_older_messages_later_in_batch_ignored(store: Repository) -> None:
    await store.apply_intake_batch(
        [registration(name="new", seen_at=T0 + 5), registration(name="old", seen_at=T0)],
        [heartbeat(seen_at=T0 + 9, sender_time=T0 + 9), heartbeat(seen_at=T0 + 1, sender_time=T0 + 1)],
        [],
    )

    record = await service(store, URL_A)
    assert record.name == "new"
    assert record.registered_at == T0 + 5
    assert record.last_heartbeat_at == T0 + 9
    assert record.last_sender_time == T0 + 9


async def test_newer_messages_later_in_batch_applied(store: Repository) -> None:
    await store.apply_intake_batch([registration(name="old")], [heartbeat()], [])

    await store.apply_intake_batch(
        [registration(name="mid", seen_at=T0 + 2), registration(name="new", seen_at=T0 + 4)],
        [heartbeat(seen_at=T0 + 3), heartbeat(seen_at=T0 + 6, sender_time=T0 + 5)],
        [],
    )

    record = await service(store, URL_A)
    assert record.name == "new"
    assert record.registered_at == T0 + 4
    assert record.last_heartbeat_at == T0 + 6
    assert record.last_sender_time == T0 + 5


async def test_heartbeat_unknown_url_creates_unregistered(store: Repository) -> None:
    await store.apply_intake_batch([], [heartbeat(URL_B, seen_at=T0 + 1)], [])

    record = await service(store, URL_B)
    assert record.registered is False
    assert record.registered_at is None
    assert record.name == ""
    assert record.first_seen_at == T0 + 1
    assert record.last_heartbeat_at == T0 + 1


async def test_registration_after_heartbeat_registers(store: Repository) -> None:
    await store.apply_intake_batch([], [heartbeat(seen_at=T0)], [])

    await store.apply_intake_batch([registration(seen_at=T0 + 3)], [], [])

    record = await service(store, URL_A)
    assert record.registered is True
    assert record.last_heartbeat_at == T0
    assert record.first_seen_at == T0


async def test_record_poll_stores_outcome(store: Repository) -> None:
    await store.apply_intake_batch([registration()], [], [])

    await store.record_poll(URL_A, T0 + 20, False, "GET timed out", 3)

    record = await service(store, URL_A)
    assert record.last_poll_at == T0 + 20
    assert record.last_poll_ok is False
    assert record.last_poll_error == "GET timed out"
    assert record.poll_failures == 3


# Dead letters.


async def test_dead_letter_keeps_raw_body(store: Repository) -> None:
    raw = b'{"url":\xff\xfe not json'
    await store.apply_intake_batch([], [], [DeadLetter("heartBeat", "nsq", raw, "body is not valid UTF-8 JSON", T0)])

    [stored] = await store.list_dead_letters(limit=10)

    assert stored.body == raw
    assert stored.topic == "heartBeat"
    assert stored.source == "nsq"
    assert stored.reason == "body is not valid UTF-8 JSON"
    assert stored.received_at == T0
    assert stored.id is not None


async def test_dead_letters_newest_first_with_paging(store: Repository) -> None:
    letters = [DeadLetter("taskService", "nsq", f"body {i}".encode(), f"reason {i}", T0 + i) for i in range(5)]
    await store.apply_intake_batch([], [], letters[:2])
    await store.apply_intake_batch([], [], letters[2:])

    first_page = await store.list_dead_letters(limit=2)
    second_page = await store.list_dead_letters(limit=2, before_id=first_page[-1].id)
    last_page = await store.list_dead_letters(limit=2, before_id=second_page[-1].id)

    assert [letter.body for letter in first_page] == [b"body 4", b"body 3"]
    assert [letter.body for letter in second_page] == [b"body 2", b"body 1"]
    assert [letter.body for letter in last_page] == [b"body 0"]


# Tasks: insert and update.


async def test_insert_tasks_stores_fields(store: Repository) -> None:
    record = task("t1", data_type="2", description="描述", reserved="r", extra={"priority": 3}, fingerprint="f1")

    assert await store.insert_tasks([record], [first_report("t1")]) == []

    stored = await store.get_task("t1")
    assert stored == record
    assert await store.task_history("t1") == [first_report("t1")]


async def test_insert_tasks_conflict_returns_owned_ids(store: Repository) -> None:
    await store.insert_tasks([task("shared", URL_A)], [first_report("shared", URL_A)])

    skipped = await store.insert_tasks(
        [task("shared", URL_B), task("own", URL_B)], [first_report("shared", URL_B), first_report("own", URL_B)]
    )

    assert skipped == ["shared"]
    assert (await store.get_task("shared")).service_url == URL_A
    assert (await store.get_task("own")).service_url == URL_B
    assert [entry.actor for entry in await store.task_history("shared")] == [URL_A]


async def test_get_task_unknown_is_none(store: Repository) -> None:
    assert await store.get_task("nope") is None


async def test_task_fingerprints_per_service(store: Repository) -> None:
    await store.insert_tasks([task("a1", fingerprint="fa"), task("b1", URL_B, fingerprint="fb")], [])
    await store.set_missing(URL_A, ["a1"], True, T0 + 1)

    assert await store.task_fingerprints(URL_A) == {"a1": ("fa", True)}


async def test_update_tasks_bumps_version(store: Repository) -> None:
    await store.insert_tasks([task("t1")], [])
    loaded = await store.get_task("t1")
    loaded.description = "changed"
    entry = HistoryEntry("t1", T0 + 1, URL_A, "service", "notget", "running", "service reported 'running'")

    stale = await store.update_tasks([(loaded, loaded.version)], [entry])

    stored = await store.get_task("t1")
    assert stale == []
    assert stored.description == "changed"
    assert stored.version == loaded.version + 1
    assert (await store.task_history("t1"))[-1] == entry


async def test_update_tasks_stale_version_rejected(store: Repository) -> None:
    await store.insert_tasks([task("t1"), task("t2")], [])
    t1, t2 = await store.get_tasks(["t1", "t2"])
    await store.change_owner(claim("t1", "alice"))
    t1.description = t2.description = "from poll"
    history = [
        HistoryEntry("t1", T0 + 1, URL_A, "service", "notget", "shutdown"),
        HistoryEntry("t2", T0 + 1, URL_A, "service", "notget", "shutdown"),
    ]

    stale = await store.update_tasks([(t1, t1.version), (t2, t2.version)], history)

    assert stale == ["t1"]
    stored_t1 = await store.get_task("t1")
    assert stored_t1.description == ""
    assert stored_t1.user == "alice"
    assert (await store.get_task("t2")).description == "from poll"
    assert [entry.to_status for entry in await store.task_history("t1")] == ["running"]
    assert [entry.to_status for entry in await store.task_history("t2")] == ["shutdown"]


async def test_set_missing_and_back(store: Repository) -> None:
    await store.insert_tasks([task("t1"), task("t2")], [])

    assert await store.set_missing(URL_A, ["t1"], True, T0 + 1) == 1
    assert await store.set_missing(URL_A, ["t1"], True, T0 + 2) == 0
    assert (await store.get_task("t1")).missing is True
    assert await store.set_missing(URL_A, ["t1"], False, T0 + 3) == 1
    assert (await store.get_task("t1")).missing is False


async def test_set_missing_other_service_untouched(store: Repository) -> None:
    await store.insert_tasks([task("t1", URL_A)], [])

    assert await store.set_missing(URL_B, ["t1"], True, T0 + 1) == 0
    assert (await store.get_task("t1")).missing is False


async def test_service_task_count_excludes_missing(store: Repository) -> None:
    await store.apply_intake_batch([registration()], [], [])
    await store.insert_tasks([task("t1"), task("t2"), task("t3")], [])
    await store.set_missing(URL_A, ["t3"], True, T0 + 1)

    assert (await service(store, URL_A)).task_count == 2


# Tasks: change of owner.


async def test_change_owner_unknown_task(store: Repository) -> None:
    outcome, record = await store.change_owner(claim("nope", "alice"))

    assert outcome == ClaimOutcome.NOT_FOUND
    assert record is None


async def test_change_owner_missing_task_not_found(store: Repository) -> None:
    await store.insert_tasks([task("t1")], [])
    await store.set_missing(URL_A, ["t1"], True, T0 + 1)

    outcome, _ = await store.change_owner(claim("t1", "alice"))

    assert outcome == ClaimOutcome.NOT_FOUND


async def test_change_owner_claim_done(store: Repository) -> None:
    await store.insert_tasks([task("t1")], [])

    outcome, record = await store.change_owner(claim("t1", "alice", checker="bob", group_id="g1", reason="claimed"))

    stored = await store.get_task("t1")
    assert outcome == ClaimOutcome.DONE
    assert record == stored
    assert stored.status == "running"
    assert stored.user == "alice"
    assert stored.checker == "bob"
    assert stored.group_id == "g1"
    assert stored.claimed_at == T0 + 10
    assert stored.version == 2


async def test_change_owner_writes_history(store: Repository) -> None:
    await store.insert_tasks([task("t1")], [])

    await store.change_owner(claim("t1", "alice", reason="claimed"))

    assert await store.task_history("t1") == [HistoryEntry("t1", T0 + 10, "alice", "user", "notget", "running", "claimed")]


async def test_change_owner_already_claimed(store: Repository) -> None:
    await store.insert_tasks([task("t1")], [])
    await store.change_owner(claim("t1", "alice"))

    outcome, record = await store.change_owner(claim("t1", "bob"))

    assert outcome == ClaimOutcome.ALREADY_CLAIMED
    assert record.user == "alice"
    assert (await store.get_task("t1")).user == "alice"


async def test_change_owner_finished_task_invalid_status(store: Repository) -> None:
    await store.insert_tasks([task("t1", status="finish")], [])

    outcome, _ = await store.change_owner(claim("t1", "alice"))

    assert outcome == ClaimOutcome.INVALID_STATUS


async def test_change_owner_limit_reached(store: Repository) -> None:
    await store.insert_tasks([task("t1"), task("t2"), task("t3")], [])
    await store.change_owner(claim("t1", "alice", max_in_work=2))
    await store.change_owner(claim("t2", "alice", max_in_work=2))

    outcome, _ = await store.change_owner(claim("t3", "alice", max_in_work=2))

    assert outcome == ClaimOutcome.LIMIT_REACHED
    assert (await store.get_task("t3")).status == "notget"


async def test_change_owner_limit_counts_only_user(store: Repository) -> None:
    await store.insert_tasks([task("t1"), task("t2")], [])
    await store.change_owner(claim("t1", "alice", max_in_work=1))

    outcome, _ = await store.change_owner(claim("t2", "bob", max_in_work=1))

    assert outcome == ClaimOutcome.DONE


async def test_change_owner_reassign(store: Repository) -> None:
    await store.insert_tasks([task("t1")], [])
    await store.change_owner(claim("t1", "alice"))

    outcome, _ = await store.change_owner(
        ClaimRequest(task_id="t1", user="bob", actor="manager", at=T0 + 20, checker="carol", allow_reassign=True)
    )

    stored = await store.get_task("t1")
    assert outcome == ClaimOutcome.DONE
    assert stored.user == "bob"
    assert stored.checker == "carol"
    assert stored.status == "running"
    assert [entry.actor for entry in await store.task_history("t1")] == ["alice", "manager"]


async def test_change_owner_reassign_not_in_checking(store: Repository) -> None:
    await store.insert_tasks([task("t1", status="checking", user="alice")], [])

    outcome, _ = await store.change_owner(
        ClaimRequest(task_id="t1", user="bob", actor="manager", at=T0, allow_reassign=True)
    )

    assert outcome == ClaimOutcome.INVALID_STATUS


async def test_change_owner_concurrent_claims_one_wins(store: Repository) -> None:
    await store.insert_tasks([task("t1")], [])

    results = await asyncio.gather(*(store.change_owner(claim("t1", f"user{i}")) for i in range(50)))

    outcomes = [outcome for outcome, _ in results]
    winners = [record.user for outcome, record in results if outcome == ClaimOutcome.DONE]
    assert outcomes.count(ClaimOutcome.DONE) == 1
    assert outcomes.count(ClaimOutcome.ALREADY_CLAIMED) == 49
    assert (await store.get_task("t1")).user == winners[0]
    assert len(await store.task_history("t1")) == 1


# Tasks: column queries.


async def test_task_columns_first_insertion_order(store: Repository) -> None:
    await store.insert_tasks([task("b")], [])
    await store.insert_tasks([task("a"), task("c")], [])
    await store.change_owner(claim("b", "alice"))
    await store.set_missing(URL_A, ["b"], True, T0 + 1)
    await store.set_missing(URL_A, ["b"], False, T0 + 2)

    rows = await store.task_columns(TaskQuery(), ["task_id"])

    assert rows == [("b",), ("a",), ("c",)]


async def test_task_columns_caller_column_order(store: Repository) -> None:
    await store.insert_tasks([task("t1", data_type="2", reserved="r")], [])

    rows = await store.task_columns(TaskQuery(), ["reserved", "task_id", "data_type", "user"])

    assert rows == [("r", "t1", "2", "")]


async def test_task_columns_filters(store: Repository) -> None:
    await store.insert_tasks(
        [task("a1"), task("a2"), task("a3"), task("b1", URL_B), task("gone")], []
    )
    await store.change_owner(claim("a2", "alice"))
    await store.change_owner(claim("b1", "bob"))
    await store.set_missing(URL_A, ["gone"], True, T0 + 1)

    async def ids(query: TaskQuery) -> list[str]:
        return [row[0] for row in await store.task_columns(query, ["task_id"])]

    assert await ids(TaskQuery()) == ["a1", "a2", "a3", "b1"]
    assert await ids(TaskQuery(status="notget")) == ["a1", "a3"]
    assert await ids(TaskQuery(user="alice")) == ["a2"]
    assert await ids(TaskQuery(users=("alice", "bob"))) == ["a2", "b1"]
    assert await ids(TaskQuery(users=())) == []
    assert await ids(TaskQuery(service_urls=(URL_B,))) == ["b1"]
    assert await ids(TaskQuery(service_urls=())) == []
    assert await ids(TaskQuery(status="running", service_urls=(URL_A,))) == ["a2"]
    assert await ids(TaskQuery(include_missing=True)) == ["a1", "a2", "a3", "b1", "gone"]


async def test_task_columns_unknown_column_raises(store: Repository) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        await store.task_columns(TaskQuery(), ["task_id", "fingerprint"])


# Accounts and sessions.


def user(username: str = "alice", **fields: object) -> User:
    values = {"password_hash": "$argon2id$placeholder", "roles": ("editor",), "created_at": T0, **fields}
    return User(username=username, **values)


async def test_user_round_trip(store: Repository) -> None:
    await store.add_user(user(roles=("manager", "editor"), groups=("g2", "g1"), display_name="Alice"))

    stored = await store.get_user("alice")

    assert stored.roles == ("editor", "manager")
    assert stored.groups == ("g1", "g2")
    assert stored.display_name == "Alice"
    assert stored.disabled is False


async def test_user_duplicate_raises(store: Repository) -> None:
    await store.add_user(user())

    with pytest.raises(InvalidRequest, match="already exists"):
        await store.add_user(user(display_name="other"))

    assert (await store.get_user("alice")).display_name == ""


async def test_user_unknown_is_none(store: Repository) -> None:
    assert await store.get_user("nobody") is None


async def test_list_users_sorted(store: Repository) -> None:
    await store.add_user(user("carol"))
    await store.add_user(user("alice"))

    assert [account.username for account in await store.list_users()] == ["alice", "carol"]


async def test_session_add_get_delete(store: Repository) -> None:
    session = Session("hash1", "alice", T0, T0 + 3600)
    await store.add_session(session)

    assert await store.get_session("hash1") == session

    await store.delete_session("hash1")
    assert await store.get_session("hash1") is None


async def test_expired_sessions_purged(store: Repository) -> None:
    await store.add_session(Session("old", "alice", T0, T0 + 10))
    await store.add_session(Session("edge", "alice", T0, T0 + 20))
    await store.add_session(Session("live", "alice", T0, T0 + 30))

    assert await store.delete_expired_sessions(T0 + 20) == 2

    assert await store.get_session("old") is None
    assert await store.get_session("edge") is None
    assert await store.get_session("live") is not None


# Batches larger than FerretDB 1.24 completes in one update command (99 updates).


@pytest.mark.timeout(120)
async def test_intake_batch_of_many_services(store: Repository) -> None:
    urls = [f"http://127.0.0.1:9000/rpost/s{number}" for number in range(250)]

    await store.apply_intake_batch(
        [registration(url=url, name=f"s{number}") for number, url in enumerate(urls)],
        [heartbeat(url=url, seen_at=T0 + 1) for url in urls],
        [],
    )

    services = {record.url: record for record in await store.list_services()}
    assert sorted(services) == sorted(urls)
    assert all(record.last_heartbeat_at == T0 + 1 for record in services.values())
    assert services[urls[249]].name == "s249"


@pytest.mark.timeout(120)
async def test_update_of_many_tasks(store: Repository) -> None:
    tasks = [task(f"t{number:03d}") for number in range(250)]
    await store.insert_tasks(tasks, [first_report(record.task_id) for record in tasks])

    changed = [(replace(record, status="running", description="changed"), record.version) for record in tasks]
    stale = await store.update_tasks(changed, [])

    assert stale == []
    stored = await store.get_tasks([record.task_id for record in tasks])
    assert len(stored) == 250
    assert {record.description for record in stored} == {"changed"}
    assert {record.version for record in stored} == {2}
