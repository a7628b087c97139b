"""REST sessions: login throttling and its Retry-After header."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from taskdash.errors import ErrId
from tests.api.conftest import seed_accounts

PASSWORD = "correct-horse-1"
# The defaults of login_max_failures and login_failure_window.
MAX_FAILURES = 5
WINDOW_SECONDS = 300


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return seed_accounts(app_client, {"alice": (["editor"], [])}, PASSWORD)


def log_in(client: TestClient, password: str, language: str = "") -> httpx.Response:
    headers = {"Accept-Language": language} if language else {}
    return client.post("/api/v1/session", json={"username": "alice", "password": password}, headers=headers)


def test_throttled_login_returns_429_with_retry_after(client: TestClient) -> None:
    for _ in range(MAX_FAILURES):
        assert log_in(client, "wrong-password").status_code == 401

    # The throttle rejects even the right password.
    response = log_in(client, PASSWORD)

    assert response.status_code == 429
    assert response.json()["errid"] == ErrId.TOO_MANY_ATTEMPTS
    assert response.json()["errmsg"] == "尝试次数过多，请稍后再试"
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= WINDOW_SECONDS


def test_throttled_login_message_in_english(client: TestClient) -> None:
    for _ in range(MAX_FAILURES):
        log_in(client, "wrong-password")

    response = log_in(client, PASSWORD, language="en")

    assert response.status_code == 429
    assert response.json()["errmsg"] == "Too many attempts, try again later"


def test_failed_login_has_no_retry_after(client: TestClient) -> None:
    response = log_in(client, "wrong-password")

    assert response.status_code == 401
    assert "Retry-After" not in response.headers
