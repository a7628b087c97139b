"""The REST bulk-assign route: preview, execution, validation and localised per-task errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api import conftest
from tests.api.conftest import runtime, seed_accounts
from tests.api.test_tasks_api import add_tasks, task

PASSWORD = "correct-horse-1"
URL = "http://127.0.0.1:9/rpost/bulk"
ACCOUNTS = {
    "alice": (["editor"], ["g1"]),
    "bob": (["editor"], ["g1"]),
    "mia": (["manager"], ["g1"]),
    "ed": (["editor"], ["g1"]),
}
PATH = "/api/v1/tasks/bulk-assign"


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    seed_accounts(app_client, ACCOUNTS, PASSWORD)
    add_tasks(app_client, URL, [task(f"b{number}", URL, created_at=1_700_000_000.0 + number) for number in range(4)])
    return app_client


def stored_user(client: TestClient, task_id: str) -> str:
    return client.portal.call(runtime(client).store.get_task, task_id).user


def test_preview_round_robin(client: TestClient) -> None:
    conftest.login(client, "mia", PASSWORD)

    response = client.post(PATH, json={"filter": {"status": "notget"}, "round_robin_group": "g1", "dry_run": True})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] is True
    assert [item["user"] for item in body["items"]] == ["alice", "bob", "ed", "alice"]
    assert body["per_user"] == {"alice": 2, "bob": 1, "ed": 1}
    assert body["ok"] == 4
    assert body["total_matching"] == 4
    assert stored_user(client, "b0") == ""


def test_selection_assigned(client: TestClient) -> None:
    conftest.login(client, "mia", PASSWORD)

    response = client.post(PATH, json={"task_ids": ["b1", "b2"], "user": "bob", "group": "g1"})

    assert response.status_code == 200, response.text
    assert response.json()["ok"] == 2
    assert stored_user(client, "b1") == "bob"
    assert stored_user(client, "b2") == "bob"


def test_item_error_in_request_language(client: TestClient) -> None:
    conftest.login(client, "mia", PASSWORD)

    response = client.post(PATH, json={"task_ids": ["b1", "missing"], "user": "bob"}, headers={"Accept-Language": "en"})

    failed = [item for item in response.json()["items"] if not item["ok"]]
    assert response.json()["failed"] == 1
    assert failed == [{
        "task_id": "missing", "user": "", "ok": False, "errid": 1005, "errmsg": "Task not found",
        "detail": "task 'missing' not found",
    }]


def test_editor_rejected(client: TestClient) -> None:
    conftest.login(client, "alice", PASSWORD)

    response = client.post(PATH, json={"task_ids": ["b1"], "user": "alice", "dry_run": True})

    assert response.status_code == 403
    assert response.json()["errid"] == 1004


def test_both_selections_rejected(client: TestClient) -> None:
    conftest.login(client, "mia", PASSWORD)

    response = client.post(PATH, json={"task_ids": ["b1"], "filter": {}, "user": "bob"})

    assert response.status_code == 400
    assert response.json()["errid"] == 1000
    assert "task_ids or filter" in response.json()["detail"]


def test_preview_needs_csrf_token(client: TestClient) -> None:
    conftest.login(client, "mia", PASSWORD)
    client.headers.pop("X-CSRF-Token")

    response = client.post(PATH, json={"task_ids": ["b1"], "user": "bob", "dry_run": True})

    assert response.status_code == 403
    assert response.json()["errid"] == 1013
