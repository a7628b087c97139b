"""Helpers for the REST API tests: accounts seeded directly into the app's store."""

from __future__ import annotations

import functools
import time

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from taskdash.runtime import Runtime
from taskdash.store.records import User


@functools.cache
def password_hash(password: str) -> str:
    """Return one Argon2id hash per password for the whole run, because Argon2id is slow by design."""
    return PasswordHasher().hash(password)


def runtime(client: TestClient) -> Runtime:
    return client.app.state.runtime


def seed_accounts(client: TestClient, accounts: dict[str, tuple[list[str], list[str]]], password: str) -> TestClient:
    """Store each username -> (roles, groups) with `password` and return the client."""
    store = runtime(client).store
    for username, (roles, groups) in accounts.items():
        user = User(
            username, password_hash(password), tuple(roles), tuple(groups), display_name=username,
            created_at=time.time(),
        )
        client.portal.call(store.add_user, user)
    return client


def login(client: TestClient, username: str, password: str) -> None:
    """Log `client` in as `username` and send the session's CSRF token on its later requests."""
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    response = client.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
