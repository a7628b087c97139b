"""The REST service routes: filtering, paging and state counts, and heartbeat timelines."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from taskdash.store.records import Heartbeat, Registration
from tests.api import conftest
from tests.api.conftest import runtime, seed_accounts

PASSWORD = "correct-horse-1"
ACCOUNTS = {"alice": (["editor"], ["g1"])}


def url(number: int) -> str:
    return f"http://127.0.0.1:9/rpost/service-{number:02d}"


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    """Twelve services: 0-7 with a fresh heartbeat, 8-11 silent for an hour; 0-2 named "ocr"."""
    seed_accounts(app_client, ACCOUNTS, PASSWORD)

    async def work() -> None:
        state = runtime(app_client)
        now = time.time()
        registrations = [
            Registration(url(number), "ocr" if number < 3 else "labels", "2", "", {}, now) for number in range(12)
        ]
        heartbeats = [Heartbeat(url(number), now if number < 8 else now - 3600, None, now) for number in range(12)]
        await state.store.apply_intake_batch(registrations, heartbeats, [])
        await state.refresh_liveness()

    app_client.portal.call(work)
    conftest.login(app_client, "alice", PASSWORD)
    return app_client


def test_page_with_total_and_counts(client: TestClient) -> None:
    body = client.get("/api/v1/services", params={"limit": 5, "offset": 5}).json()

    assert [service["url"] for service in body["services"]] == [url(number) for number in range(5, 10)]
    assert body["total"] == 12
    assert sum(body["counts"].values()) == 12


def test_state_filter(client: TestClient) -> None:
    body = client.get("/api/v1/services", params={"state": "offline"}).json()

    assert [service["url"] for service in body["services"]] == [url(number) for number in range(8, 12)]
    assert body["total"] == 4
    assert body["counts"]["offline"] == 4


def test_text_filter_matches_name(client: TestClient) -> None:
    body = client.get("/api/v1/services", params={"text": "OCR"}).json()

    assert [service["url"] for service in body["services"]] == [url(0), url(1), url(2)]
    assert body["total"] == 3


def test_invalid_state_rejected(client: TestClient) -> None:
    response = client.get("/api/v1/services", params={"state": "sleepy"})

    assert response.status_code == 400
    assert response.json()["errid"] == 1000


def test_timeline_counts_recent_heartbeat(client: TestClient) -> None:
    body = client.get("/api/v1/services/timeline", params={"url": url(0)}).json()

    assert body["bucket_seconds"] == 10
    assert len(body["buckets"]) == 60
    assert sum(bucket["heartbeats"] for bucket in body["buckets"]) == 1
    assert body["buckets"][-1]["at"] <= time.time() < body["buckets"][-1]["at"] + 10


def test_timeline_of_silent_service_empty(client: TestClient) -> None:
    body = client.get("/api/v1/services/timeline", params={"url": url(9)}).json()

    assert sum(bucket["heartbeats"] for bucket in body["buckets"]) == 0


def test_timeline_needs_login(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/services/timeline", params={"url": url(0)})

    assert response.status_code == 401
