"""End to end: Go reference services, nsqd and `taskdash serve` as real processes on loopback.

The reference services register and heartbeat through nsqd and serve their
task lists over HTTP. TaskDash polls them and serves the legacy endpoint
`/rpost/task` as the original front ends call it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.procs import Nsqd, TaskDashServer, all_services, wait_until

pytestmark = pytest.mark.e2e

SERVICE_TOPIC = "taskService"
HEARTBEAT_TOPIC = "heartBeat"
CHANNEL = "taskdash"
UNCLAIMED_KEYS = ["TaskID", "DataType", "Description", "Status", "Reserved"]
USER_TASK_KEYS = ["TaskID", "DataType", "Status", "User", "Checker", "GroupID", "Reserved"]
SUCCESS = b'"success"'
ALREADY_CLAIMED = {"errid": 1006, "errmsg": "任务已被领取"}


def legacy(client: httpx.Client, operation: str, **fields: str) -> bytes:
    """Call /rpost/task with a urlencoded form, as the original front ends do, and return the raw body."""
    answer = client.post("/rpost/task", data={"operation": operation, **fields})
    assert answer.status_code == 200, f"{operation} answered HTTP {answer.status_code}"
    assert answer.headers["content-type"].startswith("application/json")
    return answer.content


def legacy_objects(body: bytes) -> list[list[tuple[str, Any]]]:
    """Decode a legacy array response into objects as (key, value) lists, keeping the key order."""
    decoded = json.loads(body, object_pairs_hook=list)
    assert isinstance(decoded, list), f"expected a JSON array, got {body[:200]!r}"
    return decoded


def unclaimed_task_ids(client: httpx.Client) -> list[str]:
    return [dict(task)["TaskID"] for task in legacy_objects(legacy(client, "GetUnclaimedTasks"))]


def wait_for_unclaimed(client: httpx.Client, count: int, timeout: float = 60) -> list[str]:
    """Wait until GetUnclaimedTasks lists exactly `count` tasks and return their ids."""

    def listed() -> list[str] | None:
        task_ids = unclaimed_task_ids(client)
        return task_ids if len(task_ids) == count else None

    return wait_until(listed, timeout, f"{count} unclaimed tasks")


def dead_letters(client: httpx.Client) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/dead-letters", params={"limit": 1000})
    answer.raise_for_status()
    return answer.json()["dead_letters"]


def wait_ready(server: TaskDashServer, timeout: float = 30) -> None:
    wait_until(lambda: httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 200, timeout, "/readyz 200")


# Task lists of live and stopped services.


def test_unclaimed_lists_all_tasks(nsqd: Nsqd, start_taskdash, start_refservice, admin) -> None:
    server = start_taskdash(nsqd)
    prefixes = ["sy-a", "sy-b", "sy-c"]
    for prefix in prefixes:
        start_refservice(nsqd, f"service-{prefix}", prefix, tasks=20)
    expected_ids = {f"{prefix}-{index}" for prefix in prefixes for index in range(20)}

    with server.login(*admin) as client:
        wait_for_unclaimed(client, 60)
        body = legacy(client, "GetUnclaimedTasks")

    tasks = legacy_objects(body)
    assert {dict(task)["TaskID"] for task in tasks} == expected_ids
    for task in tasks:
        assert [key for key, _ in task] == UNCLAIMED_KEYS
        assert all(isinstance(value, str) for _, value in task), task
        assert dict(task)["Status"] == "notget"
        assert dict(task)["DataType"] == "2"
    assert body == json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()


def test_stopped_service_goes_offline(nsqd: Nsqd, start_taskdash, start_refservice, admin, offline_after) -> None:
    server = start_taskdash(nsqd)
    services = {prefix: start_refservice(nsqd, f"service-{prefix}", prefix) for prefix in ("sy-a", "sy-b", "sy-c")}
    stopped = services["sy-b"]

    with server.login(*admin) as client:
        wait_for_unclaimed(client, 60)
        assert stopped.managed.stop() == 0

        def offline() -> tuple[float, dict[str, Any]] | None:
            service = all_services(client)[stopped.url]
            return (time.time(), service) if service["status"] == "offline" else None

        seen_offline_at, service = wait_until(offline, 30, f"{stopped.url} to go offline", interval=0.2)
        remaining = unclaimed_task_ids(client)
        others = all_services(client)

    delay = seen_offline_at - service["last_heartbeat_at"]
    assert delay <= offline_after + 2, f"offline {delay:.1f} s after the last heartbeat"
    assert len(remaining) == 40
    assert not [task_id for task_id in remaining if task_id.startswith("sy-b-")]
    assert others[services["sy-a"].url]["status"] == "online"
    assert others[services["sy-c"].url]["status"] == "online"


# A crash while registrations stream in.


def publish_stream(nsqd: Nsqd, rounds: list[tuple[list[bytes], list[bytes]]], done: threading.Event) -> None:
    try:
        for registrations, heartbeats in rounds:
            nsqd.publish_many(SERVICE_TOPIC, registrations)
            nsqd.publish_many(HEARTBEAT_TOPIC, heartbeats)
            time.sleep(0.05)
    finally:
        done.set()


@pytest.mark.parametrize("nsqd_args", [["--msg-timeout=5s"]])
def test_registrations_survive_kill(
    tmp_path: Path, nsqd: Nsqd, start_taskdash, admin, dead_port: int, nsqd_args: list[str], database_url: str
) -> None:
    # FerretDB 1.24's SQLite handler reads every row of a collection to find a document by `_id`, because its
    # query and its index use different expressions. Each service update there takes longer with every service
    # stored, so the stream on FerretDB is smaller.
    count = 5000 if database_url.startswith("sqlite") else 1000
    # The short --msg-timeout makes nsqd requeue the killed consumer's in-flight messages quickly.
    server = start_taskdash(nsqd, "--poll-interval", "60")
    wait_ready(server)
    urls = [f"http://127.0.0.1:{dead_port}/rpost/crash-{index}" for index in range(count)]
    now = int(time.time())
    registrations = [json.dumps({"url": url, "name": f"crash-{index}"}).encode() for index, url in enumerate(urls)]
    heartbeats = [json.dumps({"url": url, "time": now}).encode() for url in urls]
    rounds = [(registrations[start:start + 100], heartbeats[start:start + 100]) for start in range(0, count, 100)]

    done = threading.Event()
    publisher = threading.Thread(target=publish_stream, args=(nsqd, rounds, done), daemon=True)
    publisher.start()

    def streaming() -> bool:
        counters = nsqd.channel_stats(SERVICE_TOPIC, CHANNEL)
        return counters is not None and counters["message_count"] >= count // 5

    wait_until(streaming, 60, f"{count // 5} registrations published")
    server.managed.kill()
    killed_mid_stream = not done.is_set()
    publisher.join(120)
    assert not publisher.is_alive(), "publishing did not finish within 120 s"

    restarted = server.restart(tmp_path)
    try:
        for topic in (SERVICE_TOPIC, HEARTBEAT_TOPIC):
            wait_until(lambda topic=topic: nsqd.channel_drained(topic, CHANNEL, count), 120,
                       f"{count} messages FINished on {topic}", interval=0.5)
        with restarted.login(*admin) as client:
            services = all_services(client)
    finally:
        restarted.managed.stop()
        print(f"--- restarted {restarted.managed.log_path} ---\n{restarted.managed.log_tail(60)}")

    assert killed_mid_stream, "TaskDash was killed only after the stream ended"
    assert set(services) == set(urls)
    assert sum(1 for service in services.values() if service["registered"]) == count
    assert all(service["last_heartbeat_at"] is not None for service in services.values())


# Malformed messages among valid ones.


def malformed_body(index: int) -> bytes:
    """Return a distinct body that both topics reject."""
    kinds = [
        b"not json %d" % index,
        b"[%d]" % index,
        b'{"name": "missing url %d"}' % index,
        b'{"url": %d}' % index,
        b'{"url": "ftp://127.0.0.1/%d"}' % index,
        b'{"url": "http://127.0.0.1:99999/%d"}' % index,
        b"\xff\xfe%d" % index,
    ]
    return kinds[index % len(kinds)]


def stored_body(body: bytes) -> str:
    """Return a body as /api/v1/dead-letters shows it: text if UTF-8, else hex."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.hex()


def test_malformed_messages_dead_lettered(nsqd: Nsqd, start_taskdash, admin, dead_port: int) -> None:
    server = start_taskdash(nsqd, "--poll-interval", "60")
    wait_ready(server)
    valid_registrations: set[str] = set()
    valid_heartbeats: set[str] = set()
    malformed: list[bytes] = []
    outgoing: dict[str, list[bytes]] = {SERVICE_TOPIC: [], HEARTBEAT_TOPIC: []}
    now = int(time.time())
    for index in range(1100):
        topic = SERVICE_TOPIC if index % 2 == 0 else HEARTBEAT_TOPIC
        if index % 11 == 5:
            body = malformed_body(len(malformed))
            malformed.append(body)
        elif topic == SERVICE_TOPIC:
            url = f"http://127.0.0.1:{dead_port}/rpost/registered-{index}"
            valid_registrations.add(url)
            body = json.dumps({"url": url, "name": f"registered-{index}"}).encode()
        else:
            url = f"http://127.0.0.1:{dead_port}/rpost/beating-{index}"
            valid_heartbeats.add(url)
            body = json.dumps({"url": url, "time": now}).encode()
        outgoing[topic].append(body)

    for start in range(0, 550, 55):
        for topic, bodies in outgoing.items():
            nsqd.publish_many(topic, bodies[start:start + 55])
    for topic, bodies in outgoing.items():
        wait_until(lambda topic=topic, count=len(bodies): nsqd.channel_drained(topic, CHANNEL, count), 60,
                   f"{len(bodies)} messages FINished on {topic}")

    with server.login(*admin) as client:
        services = all_services(client)
        letters = dead_letters(client)
    healthz = httpx.get(f"{server.base_url}/healthz", timeout=10)
    readyz = httpx.get(f"{server.base_url}/readyz", timeout=10)

    assert len(malformed) == 100
    assert len(valid_registrations) + len(valid_heartbeats) == 1000
    assert set(services) == valid_registrations | valid_heartbeats
    assert {url for url, service in services.items() if service["registered"]} == valid_registrations
    assert all(services[url]["last_heartbeat_at"] is not None for url in valid_heartbeats)
    assert len(letters) == 100
    assert Counter(letter["body"] for letter in letters) == Counter(stored_body(body) for body in malformed)
    assert healthz.status_code == 200
    assert healthz.json() == {"status": "ok"}
    assert readyz.status_code == 200
    assert readyz.json()["status"] == "ok"


# Claims through the legacy endpoint.


@contextmanager
def legacy_login(server: TaskDashServer, username: str, password: str) -> Iterator[httpx.Client]:
    """Yield a client logged in through the legacy userLogin operation."""
    with server.client() as client:
        body = legacy(client, "userLogin", username=username, password=password)
        assert body == SUCCESS, f"userLogin of {username!r} answered {body!r}"
        yield client


def test_claim_then_user_tasks(nsqd: Nsqd, start_taskdash, start_refservice, editor) -> None:
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "claimable", "sy-claim", tasks=20)

    with legacy_login(server, *editor) as client:
        task_id = wait_for_unclaimed(client, 20)[0]
        claimed = client.post("/rpost/task", json={"operation": "ClaimTask", "task_id": task_id}).content
        user_tasks = legacy(client, "GetUserTasks", user=editor[0])
        remaining = unclaimed_task_ids(client)

    assert claimed == SUCCESS
    tasks = legacy_objects(user_tasks)
    assert len(tasks) == 1
    assert [key for key, _ in tasks[0]] == USER_TASK_KEYS
    assert dict(tasks[0]) == {
        "TaskID": task_id, "DataType": "2", "Status": "running", "User": editor[0], "Checker": "",
        "GroupID": "", "Reserved": "",
    }
    assert user_tasks == json.dumps(json.loads(user_tasks), separators=(",", ":"), ensure_ascii=False).encode()
    assert task_id not in remaining
    assert len(remaining) == 19


def test_concurrent_claims_one_wins(nsqd: Nsqd, make_editors, start_taskdash, start_refservice) -> None:
    editors = make_editors(20)
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "contended", "sy-race", tasks=5)
    barrier = threading.Barrier(len(editors), timeout=60)

    with ExitStack() as stack:
        clients = [stack.enter_context(legacy_login(server, *account)) for account in editors]
        task_id = wait_for_unclaimed(clients[0], 5)[0]

        def claim(client: httpx.Client) -> bytes:
            barrier.wait()
            return legacy(client, "ClaimTask", task_id=task_id)

        with ThreadPoolExecutor(len(clients)) as pool:
            answers = list(pool.map(claim, clients))
        winners = [index for index, answer in enumerate(answers) if answer == SUCCESS]
        winner_tasks = [legacy(clients[index], "GetUserTasks", user=editors[index][0]) for index in winners]

    assert len(winners) == 1, answers
    losers = [json.loads(answer) for answer in answers if answer != SUCCESS]
    assert losers == [ALREADY_CLAIMED] * 19
    assert [dict(task)["TaskID"] for task in legacy_objects(winner_tasks[0])] == [task_id]


def test_fifty_clients_claim_thousand_tasks(nsqd: Nsqd, make_editors, start_taskdash, start_refservice, admin) -> None:
    editors = make_editors(50)
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "crowded", "sy-crowd", tasks=1000)
    attempts_per_client = 40

    with ExitStack() as stack:
        clients = [stack.enter_context(server.login(*account)) for account in editors]
        task_ids = wait_for_unclaimed(clients[0], 1000)
        barrier = threading.Barrier(len(clients), timeout=60)

        def claim_many(index: int) -> list[tuple[str, int, int]]:
            # Each client tries its own slice of a shuffled order, overlapping its neighbours', so claims collide.
            order = task_ids[index * 20:] + task_ids[:index * 20]
            barrier.wait()
            results = []
            for task_id in order[:attempts_per_client]:
                response = clients[index].post(f"/api/v1/tasks/{task_id}/claim")
                errid = response.json().get("errid", 0) if response.status_code != 200 else 0
                results.append((task_id, response.status_code, errid))
            return results

        with ThreadPoolExecutor(len(clients)) as pool:
            outcomes = list(pool.map(claim_many, range(len(clients))))

    owners: dict[str, str] = {}
    with server.login(*admin) as admin_client:
        cursor = None
        for _ in range(10):
            params = {"status": "running", "limit": 500, **({"cursor": cursor} if cursor else {})}
            page = admin_client.get("/api/v1/tasks", params=params).json()
            owners.update((task["task_id"], task["user"]) for task in page["tasks"])
            cursor = page["next_cursor"]
            if cursor is None:
                break

    won: dict[str, list[str]] = {}
    for index, results in enumerate(outcomes):
        for task_id, status, errid in results:
            if status == 200:
                won.setdefault(task_id, []).append(editors[index][0])
            else:
                assert (status, errid) == (409, 1006), (task_id, status, errid)
    assert all(len(winners) == 1 for winners in won.values())
    assert {task_id: winners[0] for task_id, winners in won.items()} == owners


# Polling with POST operation=GetAllTasks.


def test_post_polling(nsqd: Nsqd, start_taskdash, start_refservice, admin) -> None:
    server = start_taskdash(nsqd, "--poll-method", "post")
    service = start_refservice(nsqd, "polled-by-post", "sy-post", tasks=20)

    with server.login(*admin) as client:
        task_ids = wait_for_unclaimed(client, 20)
        polled = all_services(client)[service.url]

    assert set(task_ids) == {f"sy-post-{index}" for index in range(20)}
    assert polled["last_poll_ok"] is True
    assert polled["last_poll_error"] == ""
    assert polled["task_count"] == 20
