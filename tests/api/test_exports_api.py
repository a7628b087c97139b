"""The CSV exports of services, users, groups, dead letters and statistics, on an in-process app with a real SQLite store.

The task export is tested with the other task routes, in test_tasks_api.py.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from taskdash.api import dead_letters as dead_letter_routes
from taskdash.store.records import DeadLetter, Heartbeat, Registration, TaskRecord, User
from tests.api import conftest
from tests.api.conftest import password_hash, runtime, seed_accounts

PASSWORD = "correct-horse-1"
T0 = 1_700_000_000.0

# username -> (roles, groups)
ACCOUNTS = {
    "alice": (["editor"], ["g1"]),
    "bob": (["editor"], ["g1"]),
    "vera": (["checker"], ["g1"]),
    "mia": (["manager"], ["g1", "g2"]),
    "root": (["admin"], []),
}

ADMIN_EXPORTS = [
    "/api/v1/users/export.csv",
    "/api/v1/groups/export.csv",
    "/api/v1/dead-letters/export.csv",
]
EXPORTS = [*ADMIN_EXPORTS, "/api/v1/services/export.csv", "/api/v1/stats/export.csv?table=by_status"]


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    return seed_accounts(app_client, ACCOUNTS, PASSWORD)


def login(client: TestClient, username: str) -> None:
    conftest.login(client, username, PASSWORD)


def export(client: TestClient, path: str, **params: Any) -> list[list[str]]:
    """Return the rows of a successful export, header first, after checking the encoding."""
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.endswith(b"\r\n")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def add_services(client: TestClient, services: list[tuple[str, str, float]]) -> None:
    """Register (url, name, heartbeat age in seconds) services and judge their liveness."""

    async def work() -> None:
        state = runtime(client)
        now = time.time()
        registrations = [Registration(url, name, "2", "", {}, now) for url, name, _ in services]
        heartbeats = [Heartbeat(url, now - age, None, now) for url, _, age in services]
        await state.store.apply_intake_batch(registrations, heartbeats, [])
        await state.refresh_liveness()

    client.portal.call(work)


def add_tasks(client: TestClient, tasks: list[TaskRecord]) -> None:
    assert client.portal.call(runtime(client).store.insert_tasks, tasks, []) == []


def add_dead_letters(client: TestClient, letters: list[DeadLetter]) -> None:
    client.portal.call(runtime(client).store.apply_intake_batch, [], [], letters)


def task(task_id: str, service_url: str, **fields: Any) -> TaskRecord:
    values = {"status": "notget", "data_type": "2", "created_at": T0, "updated_at": T0, **fields}
    return TaskRecord(task_id=task_id, service_url=service_url, **values)


# Errors before the stream starts.


@pytest.mark.parametrize("path", EXPORTS)
def test_export_needs_login(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errid"] == 1003


@pytest.mark.parametrize("path", ADMIN_EXPORTS)
def test_admin_export_rejects_editor(client: TestClient, path: str) -> None:
    login(client, "alice")

    response = client.get(path)

    assert response.status_code == 403
    assert response.json()["errid"] == 1004


@pytest.mark.parametrize("path", ADMIN_EXPORTS)
def test_admin_export_rejects_manager(client: TestClient, path: str) -> None:
    login(client, "mia")

    response = client.get(path)

    assert response.status_code == 403
    assert response.json()["errid"] == 1004


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/services/export.csv", {"state": "sleepy"}),
        ("/api/v1/services/export.csv", {"text": "x" * 513}),
        ("/api/v1/users/export.csv", {"role": "owner"}),
        ("/api/v1/groups/export.csv", {"text": "x" * 65}),
        ("/api/v1/stats/export.csv", {}),
        ("/api/v1/stats/export.csv", {"table": "by_day"}),
    ],
)
def test_export_invalid_filter(client: TestClient, path: str, params: dict[str, str]) -> None:
    login(client, "root")

    response = client.get(path, params=params)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errid"] == 1000


def test_export_error_in_english(client: TestClient) -> None:
    login(client, "alice")

    response = client.get("/api/v1/users/export.csv", headers={"Accept-Language": "en"})

    assert response.status_code == 403
    assert response.json()["errmsg"] == "Permission denied"


def test_exports_documented_as_csv(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]

    for path in ["/api/v1/tasks/export.csv", *(path.partition("?")[0] for path in EXPORTS)]:
        operation = paths[path]["get"]
        assert operation["summary"], path
        assert "text/csv" in operation["responses"]["200"]["content"], path
        assert "application/json" in operation["responses"]["4XX"]["content"], path


# Services.


def test_services_export_state_filter(client: TestClient) -> None:
    add_services(client, [
        ("http://127.0.0.1:9/rpost/a", "ocr", 0),
        ("http://127.0.0.1:9/rpost/b", "labels", 3600),
        ("http://127.0.0.1:9/rpost/c", "ocr", 3600),
    ])
    login(client, "alice")

    rows = export(client, "/api/v1/services/export.csv", state="offline")

    assert rows[0] == [
        "url", "name", "type", "reserved", "state", "registered", "last_heartbeat_at", "heartbeat_age_seconds",
        "clock_skew_seconds", "last_poll_at", "last_poll_ok", "last_poll_error", "poll_failures", "task_count",
    ]
    assert [row[0] for row in rows[1:]] == ["http://127.0.0.1:9/rpost/b", "http://127.0.0.1:9/rpost/c"]
    assert {row[4] for row in rows[1:]} == {"offline"}


def test_services_export_text_filter(client: TestClient) -> None:
    add_services(client, [
        ("http://127.0.0.1:9/rpost/a", "ocr", 0),
        ("http://127.0.0.1:9/rpost/b", "labels", 3600),
        ("http://127.0.0.1:9/rpost/c", "OCR-2", 3600),
    ])
    login(client, "alice")

    rows = export(client, "/api/v1/services/export.csv", text="ocr")

    assert [row[1] for row in rows[1:]] == ["ocr", "OCR-2"]


def test_services_export_matches_list(client: TestClient) -> None:
    add_services(client, [(f"http://127.0.0.1:9/rpost/s{number:03d}", "ocr", 0) for number in range(120)])
    login(client, "alice")

    rows = export(client, "/api/v1/services/export.csv", state="online")
    listed = client.get("/api/v1/services", params={"state": "online", "limit": 500}).json()

    assert [row[0] for row in rows[1:]] == [service["url"] for service in listed["services"]]
    assert len(rows) == 1 + 120


def test_services_export_cells(client: TestClient) -> None:
    add_services(client, [("http://127.0.0.1:9/rpost/a", "=HYPERLINK(\"x\")", 60)])
    login(client, "alice")

    row = export(client, "/api/v1/services/export.csv")[1]

    assert row[1] == "'=HYPERLINK(\"x\")"
    assert row[2] == "2"
    assert row[5] == "true"
    assert datetime.fromisoformat(row[6]).tzinfo == UTC
    assert 59 <= int(row[7]) <= 62
    assert row[8] == ""
    assert row[9:14] == ["", "", "", "0", "0"]


def test_services_export_empty(client: TestClient) -> None:
    login(client, "alice")

    rows = export(client, "/api/v1/services/export.csv")

    assert len(rows) == 1


# Users and groups.


def test_users_export_columns(client: TestClient) -> None:
    login(client, "root")

    rows = export(client, "/api/v1/users/export.csv")

    assert rows[0] == ["username", "display_name", "roles", "groups", "disabled", "created_at"]
    # "admin" is the account TaskDash creates at its first start.
    assert [row[0] for row in rows[1:]] == ["admin", "alice", "bob", "mia", "root", "vera"]
    mia = rows[4]
    assert mia[1:5] == ["mia", "manager", "g1 g2", "false"]
    assert datetime.fromisoformat(mia[5]).tzinfo == UTC


def test_users_export_text_filter(client: TestClient) -> None:
    login(client, "root")

    rows = export(client, "/api/v1/users/export.csv", text="G2")

    assert [row[0] for row in rows[1:]] == ["mia"]


def test_users_export_role_filter(client: TestClient) -> None:
    login(client, "root")

    rows = export(client, "/api/v1/users/export.csv", role="editor")

    assert [row[0] for row in rows[1:]] == ["alice", "bob"]


def test_users_list_takes_export_filters(client: TestClient) -> None:
    login(client, "root")

    response = client.get("/api/v1/users", params={"text": "g1", "role": "editor"})

    assert response.status_code == 200
    assert [user["username"] for user in response.json()] == ["alice", "bob"]


def test_users_export_formula_guard(client: TestClient) -> None:
    user = User("@ops", password_hash(PASSWORD), ("editor",), ("-team",), display_name="=1+2", created_at=T0)
    client.portal.call(runtime(client).store.add_user, user)
    login(client, "root")

    rows = export(client, "/api/v1/users/export.csv", text="ops")

    assert rows[1] == ["'@ops", "'=1+2", "editor", "'-team", "false", "2023-11-14T22:13:20+00:00"]


def test_groups_export_columns(client: TestClient) -> None:
    disabled = User("dora", password_hash(PASSWORD), ("editor",), ("g1",), disabled=True, created_at=T0)
    client.portal.call(runtime(client).store.add_user, disabled)
    login(client, "root")

    rows = export(client, "/api/v1/groups/export.csv")

    assert rows == [
        ["group", "member_count", "members", "editors", "managers"],
        ["g1", "5", "alice bob dora mia vera", "alice bob", "mia"],
        ["g2", "1", "mia", "", "mia"],
    ]


def test_groups_export_member_filter(client: TestClient) -> None:
    login(client, "root")

    rows = export(client, "/api/v1/groups/export.csv", text="MIA")
    only_g2 = export(client, "/api/v1/groups/export.csv", text="g2")

    assert [row[0] for row in rows[1:]] == ["g1", "g2"]
    assert [row[0] for row in only_g2[1:]] == ["g2"]


def test_groups_list_takes_export_filter(client: TestClient) -> None:
    login(client, "root")

    response = client.get("/api/v1/groups", params={"text": "g2"})

    assert response.status_code == 200
    assert response.json() == {"g2": ["mia"]}


# Dead letters.


def test_dead_letters_export_pages(client: TestClient) -> None:
    count = 2 * dead_letter_routes.EXPORT_PAGE_SIZE + 3
    add_dead_letters(client, [
        DeadLetter("heartBeat", "nsq", f'{{"n": {number}}}'.encode(), "url missing", T0 + number)
        for number in range(count)
    ])
    login(client, "root")

    rows = export(client, "/api/v1/dead-letters/export.csv")

    assert rows[0] == ["id", "received_at", "topic", "source", "reason", "body_is_utf8", "body"]
    assert len(rows) == 1 + count
    ids = [int(row[0]) for row in rows[1:]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == count
    assert rows[1][6] == f'{{"n": {count - 1}}}'
    assert rows[-1][6] == '{"n": 0}'
    assert rows[-1][1] == "2023-11-14T22:13:20+00:00"


def test_dead_letters_export_one_full_page(client: TestClient) -> None:
    count = dead_letter_routes.EXPORT_PAGE_SIZE
    add_dead_letters(client, [DeadLetter("heartBeat", "nsq", b"{}", "url missing", T0) for _ in range(count)])
    login(client, "root")

    rows = export(client, "/api/v1/dead-letters/export.csv")

    assert len(rows) == 1 + count


def test_dead_letters_export_bodies(client: TestClient) -> None:
    add_dead_letters(client, [
        DeadLetter("taskService", "http", b"\xff\xfe not json", "invalid JSON", T0),
        DeadLetter("heartBeat", "nsq", b"=cmd|' /C calc'!A0", "not JSON", T0 + 1),
        DeadLetter("heartBeat", "nsq", "第一行,\n\"第二行\"".encode(), "-reason", T0 + 2),
    ])
    login(client, "root")

    rows = export(client, "/api/v1/dead-letters/export.csv")

    assert rows[1][2:] == ["heartBeat", "nsq", "'-reason", "true", "第一行,\n\"第二行\""]
    assert rows[2][6] == "'=cmd|' /C calc'!A0"
    assert rows[3][2:] == ["taskService", "http", "invalid JSON", "false", "fffe206e6f74206a736f6e"]


def test_dead_letters_export_empty(client: TestClient) -> None:
    login(client, "root")

    rows = export(client, "/api/v1/dead-letters/export.csv")

    assert len(rows) == 1


# Statistics.


@pytest.fixture
def stats_client(client: TestClient, service_url: str) -> TestClient:
    """Seven tasks of one service named "annotate", one of them unclaimed.

    In group g1, alice has 2 running and 1 checking, and bob 1 running and 1 that the service reported as
    "@restart". In group g2, mia has 1 running.
    """
    add_services(client, [(service_url, "annotate", 0)])
    add_tasks(client, [
        task("a1", service_url, status="running", user="alice", group_id="g1"),
        task("a2", service_url, status="running", user="alice", group_id="g1"),
        task("a3", service_url, status="checking", user="alice", checker="vera", group_id="g1"),
        task("b1", service_url, status="running", user="bob", group_id="g1"),
        task("b2", service_url, status="@restart", service_status="@restart", user="bob", group_id="g1"),
        task("m1", service_url, status="running", user="mia", group_id="g2"),
        task("free", service_url),
    ])
    return client


def test_stats_export_by_user(stats_client: TestClient) -> None:
    login(stats_client, "root")

    rows = export(stats_client, "/api/v1/stats/export.csv", table="by_user")

    assert rows == [
        ["user", "notget", "running", "checking", "finish", "'@restart", "total"],
        ["alice", "0", "2", "1", "0", "0", "3"],
        ["bob", "0", "1", "0", "0", "1", "2"],
        ["mia", "0", "1", "0", "0", "0", "1"],
    ]


def test_stats_export_by_status(stats_client: TestClient) -> None:
    login(stats_client, "root")

    rows = export(stats_client, "/api/v1/stats/export.csv", table="by_status")

    assert rows == [
        ["status", "count"], ["notget", "1"], ["running", "4"], ["checking", "1"], ["finish", "0"], ["'@restart", "1"],
    ]


def test_stats_export_by_group(stats_client: TestClient) -> None:
    login(stats_client, "root")

    rows = export(stats_client, "/api/v1/stats/export.csv", table="by_group")

    assert [row[0] for row in rows[1:]] == ["g1", "g2"]
    assert rows[1][-1] == "5"


def test_stats_export_by_service(stats_client: TestClient, service_url: str) -> None:
    login(stats_client, "root")

    rows = export(stats_client, "/api/v1/stats/export.csv", table="by_service")

    assert rows[0][:2] == ["service_url", "service_name"]
    assert rows[1] == [service_url, "annotate", "1", "4", "1", "0", "1", "7"]


def test_stats_export_visibility(stats_client: TestClient) -> None:
    login(stats_client, "alice")

    rows = export(stats_client, "/api/v1/stats/export.csv", table="by_user")

    assert rows == [
        ["user", "notget", "running", "checking", "finish", "total"],
        ["alice", "0", "2", "1", "0", "3"],
    ]


def test_stats_export_finished_per_day(stats_client: TestClient) -> None:
    login(stats_client, "vera")
    assert stats_client.post("/api/v1/tasks/a3/approve").status_code == 200
    login(stats_client, "alice")

    rows = export(stats_client, "/api/v1/stats/export.csv", table="finished_per_day")

    assert rows[0] == ["date", "finished"]
    assert len(rows) == 1 + 30
    assert rows[-1] == [datetime.now(UTC).date().isoformat(), "1"]
    assert {row[1] for row in rows[1:-1]} == {"0"}
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])
