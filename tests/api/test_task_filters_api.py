"""The REST helpers of the task hall's filters: data types, and claim next with a text filter."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api import conftest
from tests.api.conftest import seed_accounts
from tests.api.test_tasks_api import add_tasks, task

PASSWORD = "correct-horse-1"
URL = "http://127.0.0.1:9/rpost/filters"
ACCOUNTS = {"alice": (["editor"], ["g1"]), "bob": (["editor"], ["g1"])}


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    seed_accounts(app_client, ACCOUNTS, PASSWORD)
    add_tasks(app_client, URL, [
        task("img-1", URL, created_at=1_700_000_000.0, data_type="image", description="street scene"),
        task("img-2", URL, created_at=1_700_000_001.0, data_type="image", description="forest trail"),
        task("txt-1", URL, created_at=1_700_000_002.0, data_type="text", description="forest poem"),
        task("txt-2", URL, created_at=1_700_000_003.0, data_type="text", status="running", user="bob"),
    ])
    conftest.login(app_client, "alice", PASSWORD)
    return app_client


def test_data_types_of_visible_tasks(client: TestClient) -> None:
    response = client.get("/api/v1/tasks/data-types")

    assert response.status_code == 200, response.text
    assert response.json() == {"data_types": [{"data_type": "image", "count": 2}, {"data_type": "text", "count": 1}]}


def test_claim_next_with_text(client: TestClient) -> None:
    response = client.post("/api/v1/tasks/claim-next", json={"text": "forest"})

    assert response.status_code == 200, response.text
    assert response.json()["task_id"] == "img-2"
    assert response.json()["user"] == "alice"


def test_claim_next_text_without_match(client: TestClient) -> None:
    response = client.post("/api/v1/tasks/claim-next", json={"text": "desert"})

    assert response.status_code == 404
    assert "desert" in response.json()["detail"]
