"""Intake of registrations and heartbeats through a real nsqd and over HTTP.

Every test starts its own nsqd, SQLite database and `taskdash serve`
process, publishes with nsqd's HTTP API and checks the outcome through
TaskDash's REST API, /metrics and nsqd's /stats.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devtools.procs import Nsqd, Nsqlookupd, TaskDashServer, all_services, wait_until

SERVICE_TOPIC = "taskService"
HEARTBEAT_TOPIC = "heartBeat"
CHANNEL = "taskdash"
MAX_MESSAGE_BYTES = 64 * 1024


def service_url(port: int, name: str) -> str:
    return f"http://127.0.0.1:{port}/rpost/{name}"


def wait_for_services(client: httpx.Client, urls: set[str], timeout: float = 30) -> dict[str, dict[str, Any]]:
    """Wait until every URL in `urls` is in the catalogue and return the whole catalogue."""

    def all_present() -> dict[str, dict[str, Any]] | None:
        services = all_services(client)
        return services if urls <= services.keys() else None

    return wait_until(all_present, timeout, f"{len(urls)} services in /api/v1/services")


def wait_for_status(client: httpx.Client, url: str, status: str, timeout: float = 30) -> dict[str, Any]:
    """Wait until the service at `url` has liveness `status` and return it.

    A new service shows `unknown` until the next liveness refresh (once a second) judges it.
    """

    def in_status() -> dict[str, Any] | None:
        service = all_services(client).get(url)
        return service if service is not None and service["status"] == status else None

    return wait_until(in_status, timeout, f"service {url} to be {status}")


def dead_letters(client: httpx.Client) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/dead-letters", params={"limit": 1000})
    answer.raise_for_status()
    return answer.json()["dead_letters"]


def metric(server: TaskDashServer, sample_name: str, **labels: str) -> float:
    """Return the value of one Prometheus sample from /metrics, or 0 when it is absent."""
    text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name and all(sample.labels.get(key) == value for key, value in labels.items()):
                return sample.value
    return 0.0


def wait_ready(server: TaskDashServer, timeout: float = 30) -> None:
    """Wait until /readyz reports the store and both NSQ readers connected."""
    wait_until(lambda: httpx.get(f"{server.base_url}/readyz", timeout=5).status_code == 200, timeout, "/readyz 200")


# Registrations and heartbeats.


def test_registration_stored(nsqd: Nsqd, start_taskdash, admin) -> None:
    server = start_taskdash(nsqd=nsqd)
    url = "http://127.0.0.1:1/rpost/registration-only"
    body = {"url": url, "name": "标注服务", "type": "2", "reserved": "no", "region": "sy"}

    nsqd.publish(SERVICE_TOPIC, json.dumps(body, ensure_ascii=False).encode())

    with server.login(*admin) as client:
        service = wait_for_services(client, {url})[url]
    assert service["registered"] is True
    assert service["name"] == "标注服务"
    assert service["type"] == "2"
    assert service["reserved"] == "no"
    assert service["extra"] == {"region": "sy"}
    assert service["last_heartbeat_at"] is None


def test_registration_update_keeps_newest(nsqd: Nsqd, start_taskdash, admin) -> None:
    server = start_taskdash(nsqd=nsqd)
    url = "http://127.0.0.1:1/rpost/renamed"

    for name in ("first", "second", "second"):
        nsqd.publish(SERVICE_TOPIC, json.dumps({"url": url, "name": name}).encode())
    wait_until(lambda: nsqd.channel_drained(SERVICE_TOPIC, CHANNEL, 3), 30, "3 registrations FINished")

    with server.login(*admin) as client:
        services = all_services(client)
    assert list(services) == [url]
    assert services[url]["name"] == "second"


def test_heartbeat_stored(nsqd: Nsqd, start_taskdash, admin, dead_port: int) -> None:
    server = start_taskdash(nsqd=nsqd)
    url = service_url(dead_port, "heartbeat-only")
    sender_time = int(time.time())

    published_at = time.time()
    nsqd.publish(HEARTBEAT_TOPIC, json.dumps({"url": url, "time": sender_time, "reserved": "no"}).encode())

    with server.login(*admin) as client:
        service = wait_for_status(client, url, "online")
    assert service["registered"] is False
    assert service["last_sender_time"] == sender_time
    assert abs(service["last_heartbeat_at"] - published_at) < 5


def test_heartbeat_then_registration(nsqd: Nsqd, start_taskdash, admin, dead_port: int) -> None:
    server = start_taskdash(nsqd=nsqd)
    url = service_url(dead_port, "late-registration")
    nsqd.publish(HEARTBEAT_TOPIC, json.dumps({"url": url, "time": int(time.time())}).encode())

    with server.login(*admin) as client:
        wait_for_services(client, {url})
        nsqd.publish(SERVICE_TOPIC, json.dumps({"url": url, "name": "late"}).encode())

        def registered() -> dict[str, Any] | None:
            service = all_services(client)[url]
            return service if service["registered"] else None

        service = wait_until(registered, 30, "the registration after the heartbeat")
    assert service["name"] == "late"
    assert service["last_heartbeat_at"] is not None


# Liveness on the server clock.


def test_old_sender_time_counts(nsqd: Nsqd, start_taskdash, admin, dead_port: int) -> None:
    server = start_taskdash(nsqd=nsqd)
    url = service_url(dead_port, "slow-clock")
    an_hour_ago = int(time.time()) - 3600

    published_at = time.time()
    nsqd.publish(HEARTBEAT_TOPIC, json.dumps({"url": url, "time": an_hour_ago}).encode())

    with server.login(*admin) as client:
        service = wait_for_status(client, url, "online")
    assert abs(service["last_heartbeat_at"] - published_at) < 5
    assert service["last_sender_time"] == an_hour_ago
    assert -3600 - 5 < service["clock_skew"] < -3600 + 5


def test_future_sender_time_expires(nsqd: Nsqd, start_taskdash, admin, dead_port: int) -> None:
    server = start_taskdash(nsqd=nsqd)
    wait_ready(server)
    url = service_url(dead_port, "fast-clock")
    in_an_hour = int(time.time()) + 3600

    nsqd.publish(HEARTBEAT_TOPIC, json.dumps({"url": url, "time": in_an_hour}).encode())

    with server.login(*admin) as client:
        wait_for_status(client, url, "online")
        # The sender's clock must not keep the service alive past --offline-after (4 s).
        service = wait_for_status(client, url, "offline", timeout=15)
    assert service["last_sender_time"] == in_an_hour


def publish_backlog_heartbeat(nsqd: Nsqd, url: str, age: float) -> float:
    """Publish one heartbeat that waits `age` seconds in the channel before any consumer starts.

    Return the time of publishing.
    """
    nsqd.create_channel(HEARTBEAT_TOPIC, CHANNEL)
    published_at = time.time()
    nsqd.publish(HEARTBEAT_TOPIC, json.dumps({"url": url, "time": int(published_at)}).encode())
    time.sleep(age)
    return published_at


def wait_for_judgement(client: httpx.Client, url: str) -> dict[str, Any]:
    """Wait until the liveness refresh has judged the service, so its status is no longer `unknown`."""

    def judged() -> dict[str, Any] | None:
        service = all_services(client).get(url)
        return service if service is not None and service["status"] != "unknown" else None

    return wait_until(judged, 15, f"the first judgement of {url}")


def test_backlog_heartbeat_stays_offline(nsqd: Nsqd, start_taskdash, admin, dead_port: int) -> None:
    url = service_url(dead_port, "backlog")
    # Older than --offline-after (4 s) when TaskDash reads it.
    published_at = publish_backlog_heartbeat(nsqd, url, age=6)

    server = start_taskdash(nsqd=nsqd)

    with server.login(*admin) as client:
        service = wait_for_judgement(client, url)
    assert service["status"] == "offline"
    assert abs(service["last_heartbeat_at"] - published_at) < 2


def test_heartbeat_receipt_time_stored(nsqd: Nsqd, start_taskdash, admin, dead_port: int) -> None:
    url = service_url(dead_port, "receipt")
    published_at = publish_backlog_heartbeat(nsqd, url, age=3)

    server = start_taskdash(nsqd=nsqd)
    started_at = time.time()

    with server.login(*admin) as client:
        service = wait_for_services(client, {url})[url]
    assert abs(service["last_heartbeat_at"] - published_at) < 2
    assert service["last_heartbeat_received_at"] >= started_at - 1


# Poison messages.

# (topic, body, part of the reason, whether the body is UTF-8)
POISON_CASES: list[tuple[str, bytes, str, bool]] = [
    (HEARTBEAT_TOPIC, b"not json", "not valid UTF-8 JSON", True),
    (HEARTBEAT_TOPIC, b"\xff\xfe{}", "not valid UTF-8 JSON", False),
    (SERVICE_TOPIC, b"[1, 2]", "JSON list, expected an object", True),
    (SERVICE_TOPIC, b'{"name": "no url"}', "field 'url' is missing", True),
    (HEARTBEAT_TOPIC, b'{"url": 42}', "field 'url' is a int", True),
    (SERVICE_TOPIC, b'{"url": "ftp://127.0.0.1/tasks"}', "not an absolute http(s) URL", True),
    (SERVICE_TOPIC, b'{"url": "/rpost/task"}', "not an absolute http(s) URL", True),
    (HEARTBEAT_TOPIC, b'{"url": "http://127.0.0.1:1/x", "time": true}', "field 'time' is a boolean", True),
    (HEARTBEAT_TOPIC, b'{"url": "http://127.0.0.1:1/x", "time": "yesterday"}', "is not a number", True),
    (SERVICE_TOPIC, b'{"url": "http://127.0.0.1:1/x", "name": {"a": 1}}', "field 'name' is a dict", True),
    (
        SERVICE_TOPIC,
        b'{"url": "http://127.0.0.1:1/x", "name": "' + b"a" * MAX_MESSAGE_BYTES + b'"}',
        f"over the limit of {MAX_MESSAGE_BYTES} bytes",
        True,
    ),
]


def publish_poison(nsqd: Nsqd) -> None:
    for topic, body, _, _ in POISON_CASES:
        nsqd.publish(topic, body)


def test_poison_messages_dead_lettered(nsqd: Nsqd, start_taskdash, admin) -> None:
    server = start_taskdash(nsqd=nsqd)
    publish_poison(nsqd)

    with server.login(*admin) as client:

        def all_stored() -> list[dict[str, Any]] | None:
            letters = dead_letters(client)
            return letters if len(letters) >= len(POISON_CASES) else None

        letters = wait_until(all_stored, 30, f"{len(POISON_CASES)} dead letters")
        services = all_services(client)

    assert len(letters) == len(POISON_CASES)
    assert services == {}
    for topic, body, reason, is_utf8 in POISON_CASES:
        stored_body = body.decode() if is_utf8 else body.hex()
        matches = [letter for letter in letters if letter["body"] == stored_body]
        assert len(matches) == 1, f"no single dead letter for body {body[:60]!r}"
        letter = matches[0]
        assert letter["topic"] == topic
        assert letter["source"] == "nsq"
        assert letter["body_is_utf8"] is is_utf8
        assert reason in letter["reason"], f"reason {letter['reason']!r} for body {body[:60]!r}"


def test_poison_messages_finished(nsqd: Nsqd, start_taskdash) -> None:
    start_taskdash(nsqd=nsqd)
    publish_poison(nsqd)
    expected = {
        topic: sum(1 for case in POISON_CASES if case[0] == topic) for topic in (SERVICE_TOPIC, HEARTBEAT_TOPIC)
    }

    for topic, count in expected.items():
        wait_until(lambda topic=topic, count=count: nsqd.channel_drained(topic, CHANNEL, count), 30,
                   f"{count} messages FINished on {topic}")
        counters = nsqd.channel_stats(topic, CHANNEL)
        assert counters is not None
        assert counters["message_count"] == count
        assert counters["depth"] == 0
        assert counters["in_flight_count"] == 0
        assert counters["requeue_count"] == 0
        assert counters["timeout_count"] == 0


def test_poison_does_not_block_valid(nsqd: Nsqd, start_taskdash, admin) -> None:
    server = start_taskdash(nsqd=nsqd)
    urls = [f"http://127.0.0.1:1/rpost/after-poison-{index}" for index in range(3)]

    nsqd.publish_many(SERVICE_TOPIC, [b"{", json.dumps({"url": urls[0]}).encode(), b"[]",
                                      json.dumps({"url": urls[1]}).encode(), b"null",
                                      json.dumps({"url": urls[2]}).encode()])

    with server.login(*admin) as client:
        services = wait_for_services(client, set(urls))
        assert len(dead_letters(client)) == 3
    assert all(services[url]["registered"] for url in urls)


# Coalescing.


def test_heartbeats_coalesced(nsqd: Nsqd, start_taskdash, admin, dead_port: int) -> None:
    server = start_taskdash(nsqd=nsqd)
    wait_ready(server)
    urls = [service_url(dead_port, f"coalesced-{index}") for index in range(10)]
    now = int(time.time())
    bodies = [json.dumps({"url": urls[index % 10], "time": now + index // 10}).encode() for index in range(2000)]
    batches_before = metric(server, "taskdash_intake_batches_total", result="committed")

    nsqd.publish_many(HEARTBEAT_TOPIC, bodies)
    wait_until(lambda: nsqd.channel_drained(HEARTBEAT_TOPIC, CHANNEL, 2000), 60, "2000 heartbeats FINished")

    accepted = metric(server, "taskdash_intake_messages_total", topic=HEARTBEAT_TOPIC, outcome="accepted")
    batches = metric(server, "taskdash_intake_batches_total", result="committed") - batches_before
    failed = metric(server, "taskdash_intake_batches_total", result="failed")
    assert accepted == 2000
    assert failed == 0
    assert 1 <= batches <= 2000 / 20, f"{batches:.0f} store batches for 2000 heartbeats"
    with server.login(*admin) as client:
        services = all_services(client)
    assert set(services) == set(urls)
    assert all(services[url]["last_heartbeat_at"] is not None for url in urls)


# Discovery through nsqlookupd.


def test_lookupd_discovery(tmp_path: Path, start_taskdash, admin) -> None:
    lookupd = Nsqlookupd.start(tmp_path)
    nsqd = Nsqd.start(tmp_path, lookupd_tcp_address=lookupd.tcp_address, name="nsqd-lookupd")
    try:
        announce_topics(nsqd, lookupd)
        server = start_taskdash("--lookupd-http-address", f"http://{lookupd.http_address}")
        wait_ready(server)
        url = "http://127.0.0.1:1/rpost/discovered"

        nsqd.publish(SERVICE_TOPIC, json.dumps({"url": url, "name": "discovered"}).encode())

        with server.login(*admin) as client:
            service = wait_for_services(client, {url})[url]
        assert service["registered"] is True
    finally:
        nsqd.managed.stop()
        lookupd.managed.stop()


def test_lookupd_finds_later_nsqd(tmp_path: Path, start_taskdash, admin) -> None:
    lookupd = Nsqlookupd.start(tmp_path)
    first = Nsqd.start(tmp_path, lookupd_tcp_address=lookupd.tcp_address, name="nsqd-first")
    second: Nsqd | None = None
    try:
        announce_topics(first, lookupd)
        server = start_taskdash("--lookupd-http-address", lookupd.http_address)
        wait_ready(server)

        second = Nsqd.start(tmp_path, lookupd_tcp_address=lookupd.tcp_address, name="nsqd-second")
        announce_topics(second, lookupd, producers=2)
        url = "http://127.0.0.1:1/rpost/on-second-nsqd"
        second.publish(SERVICE_TOPIC, json.dumps({"url": url, "name": "late"}).encode())

        # pynsq queries nsqlookupd for producers every LOOKUPD_POLL_INTERVAL (15 s), with up to 10% jitter.
        with server.login(*admin) as client:
            service = wait_for_services(client, {url}, timeout=45)[url]
        assert service["name"] == "late"
    finally:
        for nsqd in (second, first):
            if nsqd is not None:
                nsqd.managed.stop()
        lookupd.managed.stop()


def announce_topics(nsqd: Nsqd, lookupd: Nsqlookupd, producers: int = 1) -> None:
    """Create the intake topics on `nsqd` and wait until nsqlookupd lists `producers` nsqd for each."""
    for topic in (SERVICE_TOPIC, HEARTBEAT_TOPIC):
        nsqd.create_topic(topic)

        def listed(topic: str = topic) -> bool:
            answer = httpx.get(f"http://{lookupd.http_address}/lookup", params={"topic": topic}, timeout=5)
            return answer.status_code == 200 and len(answer.json().get("producers", [])) >= producers

        wait_until(listed, 15, f"nsqlookupd to list {producers} nsqd for topic {topic}")


# HTTP intake.

INTAKE_TOKEN = "intake-token-for-tests"


def test_http_intake_disabled_without_token(start_taskdash) -> None:
    server = start_taskdash()
    body = {"url": "http://127.0.0.1:1/rpost/x"}

    for route in ("/api/v1/intake/services", "/api/v1/intake/heartbeats"):
        answer = httpx.post(f"{server.base_url}{route}", json=body,
                            headers={"Authorization": f"Bearer {INTAKE_TOKEN}"}, timeout=10)
        assert answer.status_code == 403, route
        assert answer.json()["errid"] == 1004, route


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Bearer", f"Basic {INTAKE_TOKEN}"])
def test_http_intake_rejects_bad_token(start_taskdash, authorization: str | None) -> None:
    server = start_taskdash("--intake-token", INTAKE_TOKEN)
    headers = {} if authorization is None else {"Authorization": authorization}

    answer = httpx.post(f"{server.base_url}/api/v1/intake/services", json={"url": "http://127.0.0.1:1/rpost/x"},
                        headers=headers, timeout=10)

    assert answer.status_code == 403
    assert answer.json()["errid"] == 1004


def test_http_intake_stores_with_token(start_taskdash, admin, dead_port: int) -> None:
    server = start_taskdash("--intake-token", INTAKE_TOKEN)
    url = service_url(dead_port, "over-http")
    headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}

    registered = httpx.post(f"{server.base_url}/api/v1/intake/services", headers=headers, timeout=10,
                            json={"url": url, "name": "http", "type": "3", "reserved": "no"})
    beat = httpx.post(f"{server.base_url}/api/v1/intake/heartbeats", headers=headers, timeout=10,
                      json={"url": url, "time": "1594885152"})

    assert registered.status_code == 200
    assert registered.json() == {"status": "stored", "url": url}
    assert beat.status_code == 200
    assert beat.json() == {"status": "stored", "url": url}
    # A 200 means committed, so the catalogue shows both without waiting.
    with server.login(*admin) as client:
        service = all_services(client)[url]
    assert service["registered"] is True
    assert service["name"] == "http"
    assert service["type"] == "3"
    assert service["last_sender_time"] == 1594885152
    assert service["last_heartbeat_at"] is not None


def test_http_intake_rejects_invalid_body(start_taskdash, admin) -> None:
    server = start_taskdash("--intake-token", INTAKE_TOKEN)
    headers = {"Authorization": f"Bearer {INTAKE_TOKEN}", "Content-Type": "application/json"}

    answer = httpx.post(f"{server.base_url}/api/v1/intake/heartbeats", content=b'{"url": "ftp://x/"}',
                        headers=headers, timeout=10)

    assert answer.status_code == 400
    assert answer.json()["errid"] == 1000
    assert "not an absolute http(s) URL" in answer.json()["detail"]
    with server.login(*admin) as client:
        assert all_services(client) == {}
