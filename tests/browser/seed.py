"""Accounts and task states set up through the REST API, so that the browser tests start from known data."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from devtools.procs import Nsqd, TaskDashServer, wait_until

PASSWORD = "browser-password-1"


@dataclass(frozen=True)
class Account:
    username: str
    roles: tuple[str, ...]
    groups: tuple[str, ...] = ()
    password: str = PASSWORD


def create_accounts(admin_client: httpx.Client, *accounts: Account) -> None:
    for account in accounts:
        response = admin_client.post("/api/v1/users", json={
            "username": account.username, "password": account.password,
            "roles": list(account.roles), "groups": list(account.groups),
        })
        assert response.status_code == 201, f"creating {account.username!r}: {response.text}"


def post(client: httpx.Client, path: str, body: dict | None = None) -> dict:
    response = client.post(path, json=body) if body is not None else client.post(path)
    assert response.status_code == 200, f"POST {path}: HTTP {response.status_code} {response.text}"
    return response.json()


def seed_dashboard(server: TaskDashServer, nsqd: Nsqd, admin: tuple[str, str], task_ids: list[str]) -> None:
    """Give every page something to show: users in a group, tasks in each status, and one dead letter.

    The admin also gets the editor and checker roles, so that their own task and review lists have rows.
    `task_ids` needs at least 4 unclaimed tasks, and the tasks after the fourth stay unclaimed.
    """
    editor = Account("ed", ("editor",), ("team-a",))
    checker = Account("ck", ("checker",), ("team-a",))
    with server.login(*admin) as admin_client:
        create_accounts(admin_client, editor, checker, Account("mgr", ("manager",), ("team-a", "team-b")))
        response = admin_client.patch(f"/api/v1/users/{admin[0]}", json={"roles": ["admin", "editor", "checker"]})
        assert response.status_code == 200, response.text

        running, checking, finished, admins = task_ids[:4]
        post(admin_client, f"/api/v1/tasks/{running}/assign", {"user": "ed", "checker": "ck", "group": "team-a"})
        post(admin_client, f"/api/v1/tasks/{checking}/assign", {"user": "ed", "checker": admin[0], "group": "team-a"})
        post(admin_client, f"/api/v1/tasks/{finished}/assign", {"user": "ed", "checker": "ck", "group": "team-a"})
        post(admin_client, f"/api/v1/tasks/{admins}/assign", {"user": admin[0], "checker": "ck"})

    with server.login(editor.username, editor.password) as editor_client:
        post(editor_client, f"/api/v1/tasks/{checking}/submit")
        post(editor_client, f"/api/v1/tasks/{finished}/submit")
    with server.login(checker.username, checker.password) as checker_client:
        post(checker_client, f"/api/v1/tasks/{finished}/approve")

    # A heartbeat that is not JSON becomes a dead letter.
    nsqd.publish("heartBeat", b"not json: a dead letter for the admin page")
    with server.login(*admin) as admin_client:
        wait_until(lambda: admin_client.get("/api/v1/dead-letters").json()["dead_letters"], 30, "a dead letter")
