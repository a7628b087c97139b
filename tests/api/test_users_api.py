"""The REST user and group routes on an in-process app with a real SQLite store."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from taskdash.store.records import User
from tests.api import conftest
from tests.api.conftest import runtime, seed_accounts

PASSWORD = "correct-horse-1"
NEW_PASSWORD = "battery-staple-2"

# username -> (roles, groups)
ACCOUNTS = {
    "alice": (["editor"], ["g1"]),
    "mia": (["manager"], ["g1", "g2"]),
    "root": (["admin"], []),
}


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return seed_accounts(app_client, ACCOUNTS, PASSWORD)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    conftest.login(client, username, password)


def stored_user(client: TestClient, username: str) -> User | None:
    return client.portal.call(runtime(client).store.get_user, username)


def test_list_users_hides_hashes(client: TestClient) -> None:
    login(client, "root")

    response = client.get("/api/v1/users")

    assert response.status_code == 200
    by_name = {entry["username"]: entry for entry in response.json()}
    assert {"alice", "mia", "root"} <= set(by_name)
    assert by_name["mia"]["groups"] == ["g1", "g2"]
    assert by_name["alice"]["disabled"] is False
    assert "password" not in response.text
    assert "argon2" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/users/alice", None),
        ("POST", "/api/v1/users", {"username": "bob", "password": PASSWORD, "roles": ["editor"]}),
        ("PATCH", "/api/v1/users/alice", {"disabled": True}),
        ("POST", "/api/v1/users/alice/password", {"password": NEW_PASSWORD}),
        ("GET", "/api/v1/groups", None),
    ],
)
def test_user_routes_admin_only(client: TestClient, method: str, path: str, body: dict | None) -> None:
    login(client, "mia")

    response = client.request(method, path, json=body)

    assert response.status_code == 403
    assert response.json()["errid"] == 1004
    assert stored_user(client, "bob") is None
    assert stored_user(client, "alice").disabled is False


def test_user_routes_need_login(client: TestClient) -> None:
    response = client.get("/api/v1/users")

    assert response.status_code == 401
    assert response.json()["errid"] == 1003


def test_create_user(client: TestClient) -> None:
    login(client, "root")

    response = client.post(
        "/api/v1/users",
        json={"username": "bob", "password": PASSWORD, "roles": ["editor", "checker"], "groups": ["g2"],
              "display_name": "Bob"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["roles"] == ["checker", "editor"]
    assert body["groups"] == ["g2"]
    assert body["display_name"] == "Bob"
    assert "password" not in response.text
    login(client, "bob")


def test_create_existing_user_rejected(client: TestClient) -> None:
    login(client, "root")

    response = client.post("/api/v1/users", json={"username": "alice", "password": PASSWORD, "roles": ["editor"]})

    assert response.status_code == 400
    assert "already exists" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "bob", "password": "short", "roles": ["editor"]},
        {"username": "bob", "password": PASSWORD, "roles": []},
        {"username": "bob", "password": PASSWORD, "roles": ["owner"]},
        {"username": "bob", "password": PASSWORD, "roles": ["editor"], "groups": ["bad group"]},
        {"username": "bad name", "password": PASSWORD, "roles": ["editor"]},
        {"username": "bob", "password": PASSWORD, "roles": ["editor"], "display_name": "x" * 129},
    ],
)
def test_create_user_invalid_rejected(client: TestClient, body: dict) -> None:
    login(client, "root")

    response = client.post("/api/v1/users", json=body)

    assert response.status_code == 400
    assert response.json()["errid"] == 1000
    assert stored_user(client, body["username"]) is None


def test_patch_roles_groups_name(client: TestClient) -> None:
    login(client, "root")

    response = client.patch(
        "/api/v1/users/alice", json={"roles": ["checker"], "groups": ["g3"], "display_name": "Alice S."}
    )

    assert response.status_code == 200
    stored = stored_user(client, "alice")
    assert stored.roles == ("checker",)
    assert stored.groups == ("g3",)
    assert stored.display_name == "Alice S."


def test_patch_disable_logs_user_out(client: TestClient) -> None:
    login(client, "alice")
    alice_cookies = dict(client.cookies)
    login(client, "root")

    response = client.patch("/api/v1/users/alice", json={"disabled": True})

    assert response.json()["disabled"] is True
    client.cookies.clear()
    client.cookies.update(alice_cookies)
    assert client.get("/api/v1/session").status_code == 401
    failed = client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
    assert failed.status_code == 401


def test_patch_enable_allows_login(client: TestClient) -> None:
    login(client, "root")
    client.patch("/api/v1/users/alice", json={"disabled": True})

    response = client.patch("/api/v1/users/alice", json={"disabled": False})

    assert response.json()["disabled"] is False
    login(client, "alice")


def test_patch_self_disable_rejected(client: TestClient) -> None:
    login(client, "root")

    response = client.patch("/api/v1/users/root", json={"disabled": True})

    assert response.status_code == 400
    assert "your own account" in response.json()["detail"]
    assert stored_user(client, "root").disabled is False


def test_patch_self_drop_admin_rejected(client: TestClient) -> None:
    login(client, "root")

    response = client.patch("/api/v1/users/root", json={"roles": ["editor"]})

    assert response.status_code == 400
    assert "your own admin role" in response.json()["detail"]


def test_patch_unknown_user_not_found(client: TestClient) -> None:
    login(client, "root")

    response = client.patch("/api/v1/users/nobody", json={"disabled": True})

    assert response.status_code == 404
    assert response.json()["errid"] == 1010


def test_get_user(client: TestClient) -> None:
    login(client, "root")

    assert client.get("/api/v1/users/mia").json()["roles"] == ["manager"]
    assert client.get("/api/v1/users/nobody").status_code == 404


def test_reset_password(client: TestClient) -> None:
    login(client, "alice")
    alice_cookies = dict(client.cookies)
    login(client, "root")

    response = client.post("/api/v1/users/alice/password", json={"password": NEW_PASSWORD})

    assert response.status_code == 204
    client.cookies.clear()
    client.cookies.update(alice_cookies)
    assert client.get("/api/v1/session").status_code == 401
    old = client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
    assert old.status_code == 401
    login(client, "alice", NEW_PASSWORD)


def test_reset_password_too_short(client: TestClient) -> None:
    login(client, "root")

    response = client.post("/api/v1/users/alice/password", json={"password": "short"})

    assert response.status_code == 400
    login(client, "alice")


def test_list_groups(client: TestClient) -> None:
    login(client, "root")

    response = client.get("/api/v1/groups")

    assert response.status_code == 200
    assert response.json() == {"g1": ["alice", "mia"], "g2": ["mia"]}
