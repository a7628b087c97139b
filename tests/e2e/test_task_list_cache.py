"""GET /api/v1/tasks on a real `taskdash serve` with SQLite, against the task detail, as a service changes its tasks.

The task service is a small HTTP server in this process on 127.0.0.1. It
registers and sends heartbeats through the HTTP intake, so the poller reads
its task list as it reads a real service's. Each test compares the task list
with `GET /api/v1/tasks/{id}`, which reads the task without the SQLite task
JSON cache.
"""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from devtools.procs import TaskDashServer, add_user, wait_until

ADMIN = "admin"
PASSWORD = "review-password-1"
INTAKE_TOKEN = "review-intake-token"
POLL_TIMEOUT = 20.0


class FakeTaskService:
    """A task service on 127.0.0.1 that returns `tasks` as a JSON array on every GET."""

    def __init__(self) -> None:
        self.tasks: list[dict[str, Any]] = []
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's method name)
                body = orjson.dumps(service.tasks)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rpost/task"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def task_service() -> Iterator[FakeTaskService]:
    service = FakeTaskService()
    yield service
    service.close()


@pytest.fixture
def taskdash(tmp_path: Path) -> Iterator[TaskDashServer]:
    database_url = f"sqlite:///{tmp_path / 'taskdash.db'}"
    add_user(database_url, ADMIN, PASSWORD, ["admin"])
    server = TaskDashServer.start(tmp_path, [
        "--database-url", database_url, "--intake-token", INTAKE_TOKEN,
        "--allowed-service-network", "127.0.0.1/32", "--poll-interval", "0.5",
    ])
    yield server
    server.managed.stop()


@pytest.fixture
def admin_client(taskdash: TaskDashServer, task_service: FakeTaskService) -> Iterator[httpx.Client]:
    """A logged-in admin client, after `task_service` registered and sent one heartbeat."""
    auth = {"authorization": f"Bearer {INTAKE_TOKEN}"}
    with taskdash.client() as intake:
        registration = {"url": task_service.url, "name": "review", "type": "2"}
        assert intake.post("/api/v1/intake/services", json=registration, headers=auth).status_code == 200
        assert intake.post("/api/v1/intake/heartbeats", json={"url": task_service.url}, headers=auth).status_code == 200
    with taskdash.login(ADMIN, PASSWORD) as client:
        yield client


def task_detail(client: httpx.Client, task_id: str) -> dict[str, Any] | None:
    response = client.get(f"/api/v1/tasks/{urllib.parse.quote(task_id, safe='')}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()["task"]


def wait_for_task(client: httpx.Client, task_id: str, **expected: Any) -> dict[str, Any]:
    """Wait until the poller has stored `task_id` with the `expected` field values, and return its detail."""

    def stored() -> dict[str, Any] | None:
        detail = task_detail(client, task_id)
        if detail is None or any(detail[name] != value for name, value in expected.items()):
            return None
        return detail

    return wait_until(stored, POLL_TIMEOUT, f"task {task_id!r} with {expected}")


def listed_tasks(client: httpx.Client, **params: Any) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/tasks", params={"limit": 500, "include_missing": "true", **params})
    assert response.status_code == 200, response.text
    return {task["task_id"]: task for task in response.json()["tasks"]}


def test_list_follows_service_reports(admin_client: httpx.Client, task_service: FakeTaskService) -> None:
    task_service.tasks = [{"TaskID": "t1", "Status": "notget", "Description": "first", "DataType": "2"}]
    first = wait_for_task(admin_client, "t1", description="first")
    # The first page read fills the task JSON cache.
    assert listed_tasks(admin_client)["t1"] == first

    task_service.tasks = [{"TaskID": "t1", "Status": "restart", "Description": "second", "DataType": "2", "k": 1}]
    second = wait_for_task(admin_client, "t1", description="second")
    assert listed_tasks(admin_client)["t1"] == second

    task_service.tasks = []
    missing = wait_for_task(admin_client, "t1", missing=True)
    assert listed_tasks(admin_client)["t1"] == missing

    claimed = admin_client.post("/api/v1/tasks/t1/assign", json={"user": ADMIN})
    assert claimed.status_code == 404, claimed.text
    task_service.tasks = [{"TaskID": "t1", "Status": "notget", "Description": "second", "DataType": "2", "k": 1}]
    back = wait_for_task(admin_client, "t1", missing=False)
    assert listed_tasks(admin_client)["t1"] == back

    claimed = admin_client.post("/api/v1/tasks/t1/assign", json={"user": ADMIN})
    assert claimed.status_code == 200, claimed.text
    detail = task_detail(admin_client, "t1")
    assert claimed.json() == detail
    assert listed_tasks(admin_client)["t1"] == detail


def test_list_with_nul_in_task_id(admin_client: httpx.Client, task_service: FakeTaskService) -> None:
    # JSON allows U+0000 in a string, and the poller stores such an id as it comes.
    task_service.tasks = [{"TaskID": "ok-1", "DataType": "2"}, {"TaskID": "bad\u0000id", "DataType": "2"}]
    wait_for_task(admin_client, "ok-1")

    response = admin_client.get("/api/v1/tasks", params={"limit": 500})

    assert response.status_code == 200, response.text
    assert sorted(task["task_id"] for task in response.json()["tasks"]) == ["bad\u0000id", "ok-1"]
