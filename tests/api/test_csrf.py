"""CSRF protection of REST writes: the session's token in the X-CSRF-Token header."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import seed_accounts

PASSWORD = "correct-horse-1"
ACCOUNTS = {"root": (["admin"], []), "alice": (["editor"], ["g1"])}
NEW_USER = {"username": "bob", "password": PASSWORD, "roles": ["editor"]}


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return seed_accounts(app_client, ACCOUNTS, PASSWORD)


def log_in(client: TestClient, username: str) -> str:
    """Log in without setting the CSRF header and return the session's token."""
    response = client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def test_login_and_session_return_same_token(client: TestClient) -> None:
    token = log_in(client, "root")

    assert token
    assert client.get("/api/v1/session").json()["csrf_token"] == token


def test_write_without_token_rejected(client: TestClient) -> None:
    log_in(client, "root")

    response = client.post("/api/v1/users", json=NEW_USER)

    assert response.status_code == 403
    assert response.json()["errid"] == 1013
    assert response.json()["errmsg"] == "CSRF 令牌缺失或无效，请刷新页面"
    assert "X-CSRF-Token" in response.json()["detail"]
    assert client.get("/api/v1/users/bob").status_code == 404


def test_write_with_token_accepted(client: TestClient) -> None:
    token = log_in(client, "root")

    response = client.post("/api/v1/users", json=NEW_USER, headers={"X-CSRF-Token": token})

    assert response.status_code == 201, response.text


def test_token_of_other_session_rejected(client: TestClient) -> None:
    other_token = log_in(client, "alice")
    client.cookies.clear()
    log_in(client, "root")

    response = client.post("/api/v1/users", json=NEW_USER, headers={"X-CSRF-Token": other_token})

    assert response.status_code == 403
    assert response.json()["errid"] == 1013


def test_token_changes_with_session(client: TestClient) -> None:
    first = log_in(client, "root")
    client.cookies.clear()

    assert log_in(client, "root") != first


def test_reads_need_no_token(client: TestClient) -> None:
    log_in(client, "root")

    assert client.get("/api/v1/users").status_code == 200
    assert client.get("/api/v1/tasks").status_code == 200


def test_logout_needs_token(client: TestClient) -> None:
    token = log_in(client, "root")

    refused = client.delete("/api/v1/session")
    accepted = client.delete("/api/v1/session", headers={"X-CSRF-Token": token})

    assert refused.status_code == 403
    assert accepted.status_code == 204
    assert client.get("/api/v1/session").status_code == 401


def test_write_without_session_reports_login(client: TestClient) -> None:
    response = client.post("/api/v1/tasks/t1/claim", headers={"Accept-Language": "en"})

    assert response.status_code == 401
    assert response.json()["errid"] == 1003


def test_legacy_endpoint_needs_no_token(client: TestClient) -> None:
    login = client.post("/rpost/task", data={"operation": "userLogin", "username": "alice", "password": PASSWORD})
    logout = client.post("/rpost/task", data={"operation": "userLogout"})

    assert login.text == '"success"'
    assert logout.text == '"success"'


def test_claim_without_token_rejected(client: TestClient) -> None:
    # Claims run on a RequestRoute, which checks the session itself instead of through FastAPI's dependencies.
    log_in(client, "root")

    response = client.post("/api/v1/tasks/t1/claim")

    assert response.status_code == 403
    assert response.json()["errid"] == 1013
