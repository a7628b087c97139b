"""The REST task routes on an in-process app with a real SQLite store.

Users are created through the accounts module and log in through
`POST /api/v1/session`. Tasks are inserted through the store; their service
is made live by a heartbeat batch and a liveness refresh, as the NSQ intake
would do. Coroutines run on the app's event loop through the TestClient's portal.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from taskdash.api import csv_export
from taskdash.store.records import Heartbeat, TaskRecord
from tests.api import conftest
from tests.api.conftest import runtime, seed_accounts

PASSWORD = "correct-horse-1"
T0 = 1_700_000_000.0

# username -> (roles, groups)
ACCOUNTS = {
    "alice": (["editor"], ["g1"]),
    "bob": (["editor"], ["g1"]),
    "vera": (["checker"], ["g1"]),
    "mia": (["manager"], ["g1"]),
    "root": (["admin"], []),
}


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return seed_accounts(app_client, ACCOUNTS, PASSWORD)


def task(task_id: str, service_url: str, created_at: float = T0, **fields: Any) -> TaskRecord:
    values = {"status": "notget", "data_type": "2", "created_at": created_at, "updated_at": created_at, **fields}
    return TaskRecord(task_id=task_id, service_url=service_url, **values)


def add_tasks(client: TestClient, service_url: str, tasks: list[TaskRecord], heartbeat_age: float = 0.0) -> None:
    """Store `tasks` of a service whose last heartbeat is `heartbeat_age` seconds old, and judge liveness."""

    async def work() -> None:
        state = runtime(client)
        seen = time.time() - heartbeat_age
        await state.store.apply_intake_batch([], [Heartbeat(service_url, seen, None, seen)], [])
        assert await state.store.insert_tasks(tasks, []) == []
        await state.refresh_liveness()

    client.portal.call(work)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    conftest.login(client, username, password)


def post(client: TestClient, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post(f"/api/v1/tasks{path}", json=body, headers=headers)


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["task_id"] for item in response.json()["tasks"]]


# Lists.


def test_list_needs_login(client: TestClient) -> None:
    response = client.get("/api/v1/tasks")

    assert response.status_code == 401
    assert response.json()["errid"] == 1003


def test_list_shape_and_visibility(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [
        task("free", service_url, created_at=T0),
        task("alice-own", service_url, created_at=T0 + 1, status="running", user="alice"),
        task("bob-own", service_url, created_at=T0 + 2, status="running", user="bob"),
    ])
    login(client, "alice")

    response = client.get("/api/v1/tasks")

    body = response.json()
    assert ids(response) == ["free", "alice-own"]
    assert body["total"] == 2
    assert body["next_cursor"] is None
    first = body["tasks"][0]
    assert first["service_url"] == service_url
    assert first["status"] == "notget"
    assert first["user"] == ""
    assert first["missing"] is False
    assert first["version"] == 1


def test_list_manager_sees_group(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [
        task("alice-own", service_url, status="running", user="alice"),
        task("root-own", service_url, status="running", user="root"),
    ])
    login(client, "mia")

    assert ids(client.get("/api/v1/tasks")) == ["alice-own"]


def test_list_filters_sort_and_totals(client: TestClient, service_url: str) -> None:
    other_url = service_url.replace("/rpost/test", "/rpost/other")
    add_tasks(client, service_url, [
        task("img-1", service_url, created_at=T0, data_type="image", description="Street scene"),
        task("img-2", service_url, created_at=T0 + 1, data_type="image", status="running", user="alice",
             checker="vera", group_id="g1"),
    ])
    add_tasks(client, other_url, [task("txt-1", other_url, created_at=T0 + 2, data_type="text")])
    login(client, "root")
    cases = [
        ({"status": "notget"}, ["img-1", "txt-1"]),
        ({"data_type": "image"}, ["img-1", "img-2"]),
        ({"service_url": other_url}, ["txt-1"]),
        ({"user": "alice"}, ["img-2"]),
        ({"checker": "vera"}, ["img-2"]),
        ({"group_id": "g1"}, ["img-2"]),
        ({"text": "street"}, ["img-1"]),
        ({"sort": "task_id", "order": "desc"}, ["txt-1", "img-2", "img-1"]),
        ({"sort": "created_at", "order": "desc"}, ["txt-1", "img-2", "img-1"]),
    ]

    for params, expected in cases:
        response = client.get("/api/v1/tasks", params=params)
        assert ids(response) == expected, params
        assert response.json()["total"] == len(expected), params


def test_pagination_with_inserts(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task(f"t{i:03}", service_url, created_at=T0 + i) for i in range(120)])
    login(client, "root")
    seen: list[str] = []
    totals: list[int] = []
    params: dict[str, Any] = {"limit": 50}

    for page_number in range(10):
        response = client.get("/api/v1/tasks", params=params)
        seen.extend(ids(response))
        totals.append(response.json()["total"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        params["cursor"] = cursor
        add_tasks(client, service_url, [
            task(f"early-{page_number}", service_url, created_at=T0 - 1 - page_number),
            task(f"late-{page_number}", service_url, created_at=T0 + 500 + page_number),
        ])

    assert len(seen) == len(set(seen))
    assert seen[:120] == [f"t{i:03}" for i in range(120)]
    assert seen[120:] == ["late-0", "late-1"]
    assert totals == [120, 122, 124]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 501}, {"sort": "status"}, {"order": "up"}, {"cursor": "not-a-cursor"}],
)
def test_list_invalid_params(client: TestClient, params: dict[str, Any]) -> None:
    login(client, "alice")

    response = client.get("/api/v1/tasks", params=params)

    assert response.status_code == 400
    assert response.json()["errid"] == 1000


# Detail.


def export(client: TestClient, **params: Any) -> list[list[str]]:
    response = client.get("/api/v1/tasks/export.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_export_filter_content(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [
        task("img-1", service_url, created_at=T0, data_type="image", description="街景, \"第一批\"\n两行",
             reserved="=HYPERLINK(\"x\")"),
        task("img-2", service_url, created_at=T0 + 1, data_type="image", status="running", user="alice",
             checker="vera", group_id="g1", description="@SUM(A1)", service_status="running"),
        task("txt-1", service_url, created_at=T0 + 2, data_type="text"),
    ])
    login(client, "root")

    rows = export(client, data_type="image", order="desc")

    assert rows[0] == [
        "task_id", "service_url", "data_type", "status", "service_status", "user", "checker", "group_id",
        "description", "reserved", "created_at", "updated_at",
    ]
    assert [row[0] for row in rows[1:]] == ["img-2", "img-1"]
    assert rows[1] == [
        "img-2", service_url, "image", "running", "running", "alice", "vera", "g1", "'@SUM(A1)", "",
        "2023-11-14T22:13:21+00:00", "2023-11-14T22:13:21+00:00",
    ]
    assert rows[2][8] == "街景, \"第一批\"\n两行"
    assert rows[2][9] == "'=HYPERLINK(\"x\")"
    assert rows[2][10] == "2023-11-14T22:13:20+00:00"


def test_export_visibility(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [
        task("free", service_url, created_at=T0),
        task("alice-own", service_url, created_at=T0 + 1, status="running", user="alice"),
        task("bob-own", service_url, created_at=T0 + 2, status="running", user="bob"),
    ])
    login(client, "alice")

    rows = export(client)

    assert [row[0] for row in rows[1:]] == ["free", "alice-own"]


def test_export_many_pages(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task(f"t{i:04d}", service_url, created_at=T0 + i) for i in range(1203)])
    login(client, "root")

    rows = export(client, sort="task_id")

    assert len(rows) == 1 + 1203
    assert [row[0] for row in rows[1:]] == [f"t{i:04d}" for i in range(1203)]


def test_export_empty(client: TestClient) -> None:
    login(client, "root")

    rows = export(client, status="nothing")

    assert len(rows) == 1


def test_export_invalid_filter(client: TestClient) -> None:
    login(client, "root")

    response = client.get("/api/v1/tasks/export.csv", params={"text": "a\x00b"})

    assert response.status_code == 400
    assert response.json()["errid"] == 1000


def test_export_needs_login(client: TestClient) -> None:
    response = client.get("/api/v1/tasks/export.csv")

    assert response.status_code == 401
    assert response.json()["errid"] == 1003


def test_detail_history_in_order(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url)])
    login(client, "mia")
    assert post(client, "/t1/assign", {"user": "alice", "checker": "vera", "group": "g1"}).status_code == 200
    login(client, "alice")
    assert post(client, "/t1/submit").status_code == 200
    login(client, "vera")
    assert post(client, "/t1/reject", {"reason": "box 2 is too loose"}).status_code == 200

    response = client.get("/api/v1/tasks/t1")

    assert response.status_code == 200
    body = response.json()
    assert body["task"]["status"] == "running"
    steps = [(entry["actor"], entry["from_status"], entry["to_status"]) for entry in body["history"]]
    assert steps == [("mia", "notget", "running"), ("alice", "running", "checking"), ("vera", "checking", "running")]
    assert body["history"][2]["reason"] == "box 2 is too loose"
    assert {entry["actor_kind"] for entry in body["history"]} == {"user"}


def test_detail_not_found(client: TestClient) -> None:
    login(client, "alice")

    response = client.get("/api/v1/tasks/no-such-task")

    assert response.status_code == 404
    assert response.json()["errid"] == 1005


def test_detail_invisible_not_found(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url, status="running", user="bob")])
    login(client, "alice")

    response = client.get("/api/v1/tasks/t1")

    assert response.status_code == 404
    assert response.json()["errid"] == 1005


# Actions.


def test_claim_release_submit_approve(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url)])
    login(client, "alice")

    claimed = post(client, "/t1/claim")
    released = post(client, "/t1/release")
    post(client, "/t1/claim")
    submitted = post(client, "/t1/submit")

    assert (claimed.status_code, claimed.json()["status"], claimed.json()["user"]) == (200, "running", "alice")
    assert (released.status_code, released.json()["status"], released.json()["user"]) == (200, "notget", "")
    assert (submitted.status_code, submitted.json()["status"]) == (200, "checking")

    login(client, "root")
    approved = post(client, "/t1/approve")

    assert (approved.status_code, approved.json()["status"]) == (200, "finish")


def test_action_invalid_state(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url)])
    login(client, "root")

    response = post(client, "/t1/approve")

    assert response.status_code == 409
    assert response.json()["errid"] == 1008


@pytest.mark.parametrize("action", ["claim", "release", "submit", "approve"])
def test_action_too_long_task_id_rejected(client: TestClient, action: str) -> None:
    login(client, "root")

    response = post(client, f"/{'x' * 513}/{action}")

    assert response.status_code == 400
    assert response.json()["errid"] == 1000
    assert response.json()["detail"].startswith("path.task_id:")


def test_action_without_session_rejected(client: TestClient) -> None:
    response = post(client, "/t1/claim")

    assert response.status_code == 401
    assert response.json()["errid"] == 1003


def test_action_permission_denied(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url, status="checking", user="alice", checker="vera")])
    login(client, "alice")

    response = post(client, "/t1/approve")

    assert response.status_code == 403
    assert response.json()["errid"] == 1004


def test_action_on_invisible_task_not_found(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url, status="checking", user="alice", checker="vera")])
    login(client, "bob")

    response = post(client, "/t1/approve")

    assert response.status_code == 404
    assert response.json()["errid"] == 1005
    assert "vera" not in response.text


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": 5}])
def test_reject_without_reason(client: TestClient, service_url: str, body: dict[str, Any] | None) -> None:
    add_tasks(client, service_url, [task("t1", service_url, status="checking", user="alice", checker="vera")])
    login(client, "vera")

    response = post(client, "/t1/reject", body)

    assert response.status_code == 400
    assert response.json()["errid"] == 1000
    assert client.get("/api/v1/tasks/t1").json()["task"]["status"] == "checking"


def test_assign_outside_group_denied(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url)])
    login(client, "mia")

    response = post(client, "/t1/assign", {"user": "root"})

    assert response.status_code == 403
    assert response.json()["errid"] == 1004


def test_set_checker_then_approve(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url, status="checking", user="alice", group_id="g1")])
    login(client, "mia")

    response = post(client, "/t1/checker", {"checker": "vera"})

    assert response.status_code == 200, response.text
    assert response.json()["checker"] == "vera"
    assert response.json()["status"] == "checking"
    history = client.get("/api/v1/tasks/t1").json()["history"]
    assert history[-1]["reason"] == "checker set to vera"
    login(client, "vera")
    assert post(client, "/t1/approve").json()["status"] == "finish"


@pytest.mark.parametrize(
    ("user", "body", "status_code", "errid"),
    [
        ("alice", {"checker": "vera"}, 403, 1004),
        ("root", {"checker": "alice"}, 403, 1004),
        ("root", {"checker": "bob"}, 403, 1004),
        ("root", {"checker": "nobody"}, 404, 1010),
        ("root", {"checker": ""}, 400, 1000),
        ("root", {}, 400, 1000),
    ],
)
def test_set_checker_errors(
    client: TestClient, service_url: str, user: str, body: dict[str, Any], status_code: int, errid: int
) -> None:
    add_tasks(client, service_url, [task("t1", service_url, status="running", user="alice", group_id="g1")])
    login(client, user)

    response = post(client, "/t1/checker", body)

    assert response.status_code == status_code, response.text
    assert response.json()["errid"] == errid
    assert client.get("/api/v1/tasks/t1").json()["task"]["checker"] == ""


def test_set_checker_on_unclaimed_task(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [task("t1", service_url)])
    login(client, "root")

    response = post(client, "/t1/checker", {"checker": "vera"})

    assert response.status_code == 409
    assert response.json()["errid"] == 1008


def test_claim_next_oldest_live(client: TestClient, service_url: str) -> None:
    silent_url = service_url.replace("/rpost/test", "/rpost/silent")
    add_tasks(client, silent_url, [task("silent-oldest", silent_url, created_at=T0 - 100)], heartbeat_age=3600)
    add_tasks(client, service_url, [
        task("newer", service_url, created_at=T0 + 1),
        task("older", service_url, created_at=T0),
        task("text", service_url, created_at=T0 - 50, data_type="text"),
    ])
    login(client, "alice")

    first = post(client, "/claim-next")
    second = post(client, "/claim-next", {"data_type": "2"})
    third = post(client, "/claim-next", {"service_url": service_url})

    assert [response.json()["task_id"] for response in (first, second, third)] == ["text", "older", "newer"]
    assert first.json()["user"] == "alice"

    exhausted = post(client, "/claim-next")
    assert exhausted.status_code == 404
    assert exhausted.json()["errid"] == 1005


# Error language.


@pytest.mark.parametrize(
    ("accept_language", "errmsg"),
    [
        (None, "任务不存在"),
        ("zh-CN,zh;q=0.9", "任务不存在"),
        ("en", "Task not found"),
        ("en-US,en;q=0.9,zh;q=0.5", "Task not found"),
        ("fr", "任务不存在"),
        ("en;q=0.1, zh;q=0.9", "任务不存在"),
        ("zh;q=0.2, en;q=0.8", "Task not found"),
        ("fr, en;q=0.5", "Task not found"),
    ],
)
def test_error_language(client: TestClient, accept_language: str | None, errmsg: str) -> None:
    login(client, "alice")
    headers = {"accept-language": accept_language} if accept_language else {}

    response = client.post("/api/v1/tasks/no-such-task/release", headers=headers)

    assert response.status_code == 404
    assert response.json()["errid"] == 1005
    assert response.json()["errmsg"] == errmsg
    assert "no-such-task" in response.json()["detail"]


# Statistics.


def test_stats_counts_and_visibility(client: TestClient, service_url: str) -> None:
    add_tasks(client, service_url, [
        task("free", service_url),
        task("alice-run", service_url, status="running", user="alice", group_id="g1"),
        task("root-run", service_url, status="running", user="root"),
    ])
    login(client, "alice")
    post(client, "/alice-run/submit")
    login(client, "root")
    post(client, "/alice-run/approve")

    admin = client.get("/api/v1/stats").json()
    login(client, "mia")
    manager = client.get("/api/v1/stats").json()

    assert admin["by_status"] == {"notget": 1, "running": 1, "finish": 1}
    assert admin["by_user"] == {"alice": {"finish": 1}, "root": {"running": 1}}
    assert admin["by_group"] == {"g1": {"finish": 1}}
    assert admin["by_service"] == {service_url: {"notget": 1, "running": 1, "finish": 1}}
    assert len(admin["finished_per_day"]) == 30
    today = datetime.now(UTC).date().isoformat()
    assert admin["finished_per_day"][-1] == {"date": today, "count": 1}
    assert manager["by_status"] == {"finish": 1}
    assert manager["by_user"] == {"alice": {"finish": 1}}


def test_stats_needs_login(client: TestClient) -> None:
    response = client.get("/api/v1/stats")

    assert response.status_code == 401
    assert response.json()["errid"] == 1003


def test_openapi_documents_routes(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]

    for path, method in [
        ("/api/v1/tasks", "get"),
        ("/api/v1/tasks/{task_id}", "get"),
        ("/api/v1/tasks/claim-next", "post"),
        ("/api/v1/tasks/{task_id}/claim", "post"),
        ("/api/v1/tasks/{task_id}/release", "post"),
        ("/api/v1/tasks/{task_id}/submit", "post"),
        ("/api/v1/tasks/{task_id}/approve", "post"),
        ("/api/v1/tasks/{task_id}/reject", "post"),
        ("/api/v1/tasks/{task_id}/assign", "post"),
        ("/api/v1/tasks/{task_id}/checker", "post"),
        ("/api/v1/tasks/export.csv", "get"),
        ("/api/v1/stats", "get"),
    ]:
        assert method in paths[path], path
        assert paths[path][method]["summary"], path


def test_openapi_documents_task_list(client: TestClient) -> None:
    operation = client.get("/api/openapi.json").json()["paths"]["/api/v1/tasks"]["get"]

    names = {parameter["name"] for parameter in operation["parameters"]}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"status", "data_type", "sort", "order", "limit", "cursor", "text"} <= names
    assert schema == {"$ref": "#/components/schemas/TaskPageOut"}


def test_list_repeated_invalid_query_rejected(client: TestClient) -> None:
    login(client, "alice")

    responses = [client.get("/api/v1/tasks", params={"limit": 0}) for _ in range(2)]

    assert [response.status_code for response in responses] == [400, 400]
    assert responses[1].json()["detail"].startswith("query.limit:")


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
     ("a=b", "a=b"), ("", ""), ("标注", "标注")],
)
def test_export_cell_formula_guard(value: str, cell: str) -> None:
    assert csv_export.safe_cell(value) == cell
