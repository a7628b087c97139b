"""The legacy endpoint `/rpost/task` on an in-process app with a real SQLite store.

Tasks are inserted through the store, and their service is made live by a
heartbeat batch followed by a liveness refresh, as the NSQ intake would do.
Coroutines run on the app's own event loop through the TestClient's portal.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from taskdash.accounts.users import create_user
from taskdash.api.session import SESSION_COOKIE
from taskdash.runtime import Runtime
from taskdash.store.records import Heartbeat, TaskRecord

ENDPOINT = "/rpost/task"
PASSWORD = "correct-horse-1"

BAD_REQUEST = '{"errid":1000,"errmsg":"请求格式不正确"}'.encode()
STORE_WRITE_FAILED = '{"errid":1001,"errmsg":"数据库存储失败"}'.encode()
STORE_READ_FAILED = '{"errid":1002,"errmsg":"数据库查询失败"}'.encode()
NOT_LOGGED_IN = '{"errid":1003,"errmsg":"用户未登录"}'.encode()
PERMISSION_DENIED = '{"errid":1004,"errmsg":"没有操作权限"}'.encode()
TASK_NOT_FOUND = '{"errid":1005,"errmsg":"任务不存在"}'.encode()
ALREADY_CLAIMED = '{"errid":1006,"errmsg":"任务已被领取"}'.encode()
WRONG_CREDENTIALS = '{"errid":1007,"errmsg":"用户名或密码错误"}'.encode()
TOO_MANY_ATTEMPTS = '{"errid":1009,"errmsg":"尝试次数过多，请稍后再试"}'.encode()
USER_NOT_FOUND = '{"errid":1010,"errmsg":"用户不存在"}'.encode()
CHECKER_IS_EDITOR = '{"errid":1011,"errmsg":"校验员不能是任务的领取人"}'.encode()
SUCCESS = b'"success"'

# username -> (roles, groups)
ACCOUNTS = {
    "alice": (["editor"], ["g1"]),
    "bob": (["editor"], ["g1"]),
    "carol": (["editor"], ["g2"]),
    "mia": (["manager"], ["g1"]),
    "vera": (["checker"], ["g1"]),
    "root": (["admin"], []),
}


def runtime(client: TestClient) -> Runtime:
    return client.app.state.runtime


def add_users(client: TestClient, *usernames: str) -> None:
    store = runtime(client).store
    for username in usernames:
        roles, groups = ACCOUNTS[username]
        client.portal.call(create_user, store, username, PASSWORD, roles, groups)


def add_live_tasks(client: TestClient, service_url: str, tasks: list[TaskRecord]) -> None:
    async def work() -> None:
        state = runtime(client)
        await state.store.apply_intake_batch([], [Heartbeat(service_url, time.time(), None, time.time())], [])
        await state.store.insert_tasks(tasks, [])
        await state.refresh_liveness()

    client.portal.call(work)


def task(task_id: str, service_url: str, **fields: Any) -> TaskRecord:
    values = {"status": "notget", "data_type": "2", "created_at": time.time(), "updated_at": time.time(), **fields}
    return TaskRecord(task_id=task_id, service_url=service_url, **values)


def stored_task(client: TestClient, task_id: str) -> TaskRecord:
    return client.portal.call(runtime(client).store.get_task, task_id)


def call(client: TestClient, **fields: str) -> bytes:
    response = client.post(ENDPOINT, json=fields)
    assert response.status_code == 200
    return response.content


def login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    assert call(client, operation="userLogin", username=username, password=PASSWORD) == SUCCESS


# Logging in, and the three body encodings.


def test_login_json_success(app_client: TestClient) -> None:
    add_users(app_client, "alice")

    response = app_client.post(ENDPOINT, json={"operation": "userLogin", "username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert response.content == SUCCESS
    assert response.headers["content-type"].startswith("application/json")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower()


def test_login_urlencoded(app_client: TestClient) -> None:
    add_users(app_client, "alice")

    response = app_client.post(ENDPOINT, data={"operation": "userLogin", "username": "alice", "password": PASSWORD})

    assert response.content == SUCCESS
    assert SESSION_COOKIE in response.cookies


def test_login_multipart(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    fields = {"operation": "userLogin", "username": "alice", "password": PASSWORD}

    response = app_client.post(ENDPOINT, files={key: (None, value) for key, value in fields.items()})

    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.content == SUCCESS
    assert SESSION_COOKIE in response.cookies


def test_login_by_get_rejected(app_client: TestClient) -> None:
    add_users(app_client, "alice")

    response = app_client.get(ENDPOINT, params={"operation": "userLogin", "username": "alice", "password": PASSWORD})

    assert response.content == BAD_REQUEST
    assert SESSION_COOKIE not in response.cookies


@pytest.mark.parametrize("operation", ["ClaimTask", "TaskBind", "AssignTask", "ReleaseTask", "userLogout"])
def test_write_by_get_rejected(app_client: TestClient, operation: str) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")

    response = app_client.get(ENDPOINT, params={"operation": operation, "task_id": "t1", "user": "alice"})

    assert response.status_code == 200
    assert response.content == BAD_REQUEST


@pytest.mark.parametrize("operation", ["userLogin", "UserLogin", "USERLOGIN", "userlogin", " userLogin "])
def test_operation_case_insensitive(app_client: TestClient, operation: str) -> None:
    add_users(app_client, "alice")

    assert call(app_client, operation=operation, username="alice", password=PASSWORD) == SUCCESS


def test_login_session_works(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")

    assert call(app_client, operation="GetUnclaimedTasks") == b"[]"


def test_login_wrong_password(app_client: TestClient) -> None:
    add_users(app_client, "alice")

    response = app_client.post(ENDPOINT, json={"operation": "userLogin", "username": "alice", "password": "wrong-pass"})

    assert response.status_code == 200
    assert response.content == WRONG_CREDENTIALS
    assert "set-cookie" not in response.headers


def test_login_unknown_user(app_client: TestClient) -> None:
    assert call(app_client, operation="userLogin", username="nobody", password=PASSWORD) == WRONG_CREDENTIALS


def test_login_throttled_after_failures(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    for _ in range(5):
        assert call(app_client, operation="userLogin", username="alice", password="wrong-pass") == WRONG_CREDENTIALS

    # The throttle rejects even the right password.
    assert call(app_client, operation="userLogin", username="alice", password=PASSWORD) == TOO_MANY_ATTEMPTS


def test_logout_ends_session(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")
    token = app_client.cookies[SESSION_COOKIE]

    assert call(app_client, operation="userLogout") == SUCCESS

    app_client.cookies.set(SESSION_COOKIE, token)
    assert call(app_client, operation="GetUnclaimedTasks") == NOT_LOGGED_IN


# Malformed requests.


def test_no_operation(app_client: TestClient) -> None:
    assert call(app_client, username="alice") == BAD_REQUEST


def test_empty_operation(app_client: TestClient) -> None:
    assert call(app_client, operation="") == BAD_REQUEST


def test_unknown_operation(app_client: TestClient) -> None:
    assert call(app_client, operation="DropAllTasks") == BAD_REQUEST


def test_operation_not_string(app_client: TestClient) -> None:
    response = app_client.post(ENDPOINT, json={"operation": {"name": "userLogin"}})

    assert response.content == BAD_REQUEST


@pytest.mark.parametrize("body", [b'["userLogin"]', b'"userLogin"', b"42", b"null"], ids=["array", "string", "number", "null"])
def test_json_not_object(app_client: TestClient, body: bytes) -> None:
    response = app_client.post(ENDPOINT, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 200
    assert response.content == BAD_REQUEST


@pytest.mark.parametrize("body", [b'{"operation":"userLogin"', b"operation=userLogin", b"\xff\xfe"], ids=["truncated", "form as json", "binary"])
def test_invalid_json(app_client: TestClient, body: bytes) -> None:
    response = app_client.post(ENDPOINT, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 200
    assert response.content == BAD_REQUEST


def test_empty_body(app_client: TestClient) -> None:
    response = app_client.post(ENDPOINT, content=b"", headers={"Content-Type": "application/json"})

    assert response.content == BAD_REQUEST


def test_oversized_body(app_client: TestClient) -> None:
    body = orjson.dumps({"operation": "userLogin", "username": "alice", "password": "x" * (2 * 1024 * 1024)})

    response = app_client.post(ENDPOINT, content=body, headers={"Content-Type": "application/json"})

    assert response.content == BAD_REQUEST


def test_login_missing_password(app_client: TestClient) -> None:
    assert call(app_client, operation="userLogin", username="alice") == BAD_REQUEST


def test_claim_missing_task_id(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")

    assert call(app_client, operation="ClaimTask") == BAD_REQUEST


def test_user_tasks_missing_user(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")

    assert call(app_client, operation="GetUserTasks") == BAD_REQUEST


def test_assign_missing_user(app_client: TestClient) -> None:
    add_users(app_client, "mia")
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="t1") == BAD_REQUEST


def test_unclaimed_invalid_status(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")

    assert call(app_client, operation="GetUnclaimedTasks", status="notget' OR 1=1 --") == BAD_REQUEST


def test_multipart_file_field_ignored(app_client: TestClient) -> None:
    response = app_client.post(ENDPOINT, files={"operation": ("operation.txt", b"userLogin", "text/plain")})

    assert response.content == BAD_REQUEST


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"content": b"\x00\x01\x02", "headers": {"Content-Type": "application/octet-stream"}},
        {"content": b"--x\r\nbroken", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
        {"content": b"operation=%ZZ&%%%", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"json": {"operation": "ClaimTask", "task_id": ["a", "b"]}},
        {"json": {"operation": "userLogin", "username": "x" * 10_000, "password": PASSWORD}},
    ],
    ids=["binary", "broken multipart", "broken urlencoded", "list field", "overlong field"],
)
def test_malformed_body_has_no_traceback(app_client: TestClient, kwargs: dict[str, Any]) -> None:
    response = app_client.post(ENDPOINT, **kwargs)

    assert response.status_code == 200
    assert b"Traceback" not in response.content
    assert set(orjson.loads(response.content)) == {"errid", "errmsg"}


# Not logged in.


@pytest.mark.parametrize(
    "fields",
    [
        {"operation": "GetUnclaimedTasks"},
        {"operation": "GetUserTasks", "user": "alice"},
        {"operation": "ClaimTask", "task_id": "t1"},
        {"operation": "TaskBind", "id": "t1"},
        {"operation": "AssignTask", "task_id": "t1", "user": "alice"},
    ],
    ids=lambda fields: fields["operation"],
)
def test_not_logged_in(app_client: TestClient, fields: dict[str, str]) -> None:
    assert call(app_client, **fields) == NOT_LOGGED_IN


def test_unknown_session_cookie(app_client: TestClient) -> None:
    app_client.cookies.set(SESSION_COOKIE, "forged-token")

    assert call(app_client, operation="GetUnclaimedTasks") == NOT_LOGGED_IN


# GetUnclaimedTasks.


def test_unclaimed_exact_bytes(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(
        app_client,
        service_url,
        [
            task("sy-hn-0", service_url),
            task("sy-hn-1", service_url, description="<b>标注</b>", reserved="r&d"),
            task("sy-hn-2", service_url, status="running", user="bob"),
        ],
    )
    login(app_client, "alice")

    body = call(app_client, operation="GetUnclaimedTasks")

    assert body == (
        '[{"TaskID":"sy-hn-0","DataType":"2","Description":"","Status":"notget","Reserved":""},'
        '{"TaskID":"sy-hn-1","DataType":"2","Description":"\\u003cb\\u003e标注\\u003c/b\\u003e","Status":"notget",'
        '"Reserved":"r\\u0026d"}]'
    ).encode()


def test_unclaimed_get_query_string(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "alice")

    response = app_client.get(ENDPOINT, params={"operation": "getunclaimedtasks"})

    assert response.content == b'[{"TaskID":"sy-hn-0","DataType":"2","Description":"","Status":"notget","Reserved":""}]'


def test_unclaimed_status_field(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("t-free", service_url), task("t-busy", service_url, status="running")])
    login(app_client, "alice")

    body = call(app_client, operation="GetUnclaimedTasks", status="running")

    assert [row["TaskID"] for row in orjson.loads(body)] == ["t-busy"]


def test_unclaimed_username_alias_for_status(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("t-free", service_url), task("t-busy", service_url, status="running")])
    login(app_client, "alice")

    body = call(app_client, operation="GetUnclaimedTasks", username="running")

    assert [row["TaskID"] for row in orjson.loads(body)] == ["t-busy"]


def test_unclaimed_skips_offline_service(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("t-live", service_url)])
    silent_url = service_url.replace("/rpost/test", "/rpost/silent")

    async def add_silent_service() -> None:
        # Its last heartbeat is an hour old, so it is offline even while the app is still starting.
        state = runtime(app_client)
        await state.store.apply_intake_batch([], [Heartbeat(silent_url, time.time() - 3600, None, time.time() - 3600)], [])
        await state.store.insert_tasks([task("t-silent", silent_url)], [])
        await state.refresh_liveness()

    app_client.portal.call(add_silent_service)
    login(app_client, "alice")

    body = call(app_client, operation="GetUnclaimedTasks")

    assert [row["TaskID"] for row in orjson.loads(body)] == ["t-live"]


def test_unclaimed_skips_missing_task(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("t-here", service_url), task("t-gone", service_url, missing=True)])
    login(app_client, "alice")

    body = call(app_client, operation="GetUnclaimedTasks")

    assert [row["TaskID"] for row in orjson.loads(body)] == ["t-here"]


def test_unclaimed_store_failure(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")
    with sqlite3.connect(runtime(app_client).store.path) as connection:
        connection.execute("DROP TABLE task")

    response = app_client.post(ENDPOINT, json={"operation": "GetUnclaimedTasks"})

    assert response.status_code == 200
    assert response.content == STORE_READ_FAILED


# ClaimTask and TaskBind.


@pytest.mark.parametrize(
    "fields",
    [
        {"operation": "ClaimTask", "task_id": "sy-hn-0"},
        {"operation": "TaskBind", "task_id": "sy-hn-0"},
        {"operation": "ClaimTask", "id": "sy-hn-0"},
        {"operation": "ClaimTask", "TaskID": "sy-hn-0"},
        {"operation": "taskbind", "TaskID": "sy-hn-0"},
    ],
    ids=["ClaimTask task_id", "TaskBind task_id", "ClaimTask id", "ClaimTask TaskID", "taskbind TaskID"],
)
def test_claim_aliases(app_client: TestClient, service_url: str, fields: dict[str, str]) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "alice")

    assert call(app_client, **fields) == SUCCESS

    stored = stored_task(app_client, "sy-hn-0")
    assert stored.status == "running"
    assert stored.user == "alice"


def test_claim_urlencoded(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "alice")

    response = app_client.post(ENDPOINT, data={"operation": "ClaimTask", "task_id": "sy-hn-0"})

    assert response.content == SUCCESS


def test_claimed_task_leaves_unclaimed_list(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "alice")

    call(app_client, operation="ClaimTask", task_id="sy-hn-0")

    assert call(app_client, operation="GetUnclaimedTasks") == b"[]"


def test_claim_second_time(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "bob")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "alice")
    assert call(app_client, operation="ClaimTask", task_id="sy-hn-0") == SUCCESS
    login(app_client, "bob")

    assert call(app_client, operation="ClaimTask", task_id="sy-hn-0") == ALREADY_CLAIMED
    assert stored_task(app_client, "sy-hn-0").user == "alice"


def test_claim_unknown_task(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")

    assert call(app_client, operation="ClaimTask", task_id="no-such-task") == TASK_NOT_FOUND


def test_claim_by_checker_denied(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "vera")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "vera")

    assert call(app_client, operation="ClaimTask", task_id="sy-hn-0") == PERMISSION_DENIED


def test_claim_store_failure(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")
    with sqlite3.connect(runtime(app_client).store.path) as connection:
        connection.execute("DROP TABLE task")

    assert call(app_client, operation="ClaimTask", task_id="sy-hn-0") == STORE_WRITE_FAILED


# GetUserTasks.


def claimed_by_alice(client: TestClient, service_url: str) -> None:
    add_live_tasks(client, service_url, [task("sy-hn-0", service_url, reserved="备注"), task("sy-hn-1", service_url)])
    login(client, "alice")
    assert call(client, operation="ClaimTask", task_id="sy-hn-0") == SUCCESS


def test_user_tasks_own_exact_bytes(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    claimed_by_alice(app_client, service_url)

    body = call(app_client, operation="GetUserTasks", user="alice")

    assert body == (
        '[{"TaskID":"sy-hn-0","DataType":"2","Status":"running","User":"alice","Checker":"","GroupID":"",'
        '"Reserved":"备注"}]'
    ).encode()


def test_user_tasks_none(app_client: TestClient) -> None:
    add_users(app_client, "alice")
    login(app_client, "alice")

    assert call(app_client, operation="GetUserTasks", user="alice") == b"[]"


def test_user_tasks_editor_for_other_denied(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "bob")
    claimed_by_alice(app_client, service_url)
    login(app_client, "bob")

    assert call(app_client, operation="GetUserTasks", user="alice") == PERMISSION_DENIED


def test_user_tasks_manager_shared_group(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "mia")
    claimed_by_alice(app_client, service_url)
    login(app_client, "mia")

    body = call(app_client, operation="GetUserTasks", user="alice")

    assert [row["TaskID"] for row in orjson.loads(body)] == ["sy-hn-0"]


def test_user_tasks_manager_other_group_denied(app_client: TestClient) -> None:
    add_users(app_client, "carol", "mia")
    login(app_client, "mia")

    assert call(app_client, operation="GetUserTasks", user="carol") == PERMISSION_DENIED


def test_user_tasks_admin(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "root")
    claimed_by_alice(app_client, service_url)
    login(app_client, "root")

    body = call(app_client, operation="GetUserTasks", user="alice")

    assert [row["User"] for row in orjson.loads(body)] == ["alice"]


# AssignTask.


def test_assign_by_manager_in_group(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "vera", "mia")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="alice", checker="vera", group="g1") == SUCCESS

    stored = stored_task(app_client, "sy-hn-0")
    assert stored.status == "running"
    assert stored.user == "alice"
    assert stored.checker == "vera"
    assert stored.group_id == "g1"


def test_assign_shows_in_user_tasks(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "vera", "mia")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "mia")
    call(app_client, operation="AssignTask", task_id="sy-hn-0", user="alice", checker="vera", group="g1")

    body = call(app_client, operation="GetUserTasks", user="alice")

    assert body == (
        b'[{"TaskID":"sy-hn-0","DataType":"2","Status":"running","User":"alice","Checker":"vera","GroupID":"g1",'
        b'"Reserved":""}]'
    )


def test_assign_checker_without_role_denied(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "bob", "mia")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "mia")

    body = call(app_client, operation="AssignTask", task_id="sy-hn-0", user="alice", checker="bob", group="g1")

    assert body == PERMISSION_DENIED
    assert stored_task(app_client, "sy-hn-0").status == "notget"


def test_assign_outside_group_denied(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "carol", "mia")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="carol") == PERMISSION_DENIED
    assert stored_task(app_client, "sy-hn-0").user == ""


def test_assign_into_foreign_group_denied(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "mia")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="alice", group="g2") == PERMISSION_DENIED


def test_assign_by_editor_denied(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "bob")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "alice")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="bob") == PERMISSION_DENIED


def test_assign_by_editor_unknown_user_denied(app_client: TestClient, service_url: str) -> None:
    # An editor may not assign at all, so the response must not reveal whether a username exists.
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "alice")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="nobody") == PERMISSION_DENIED


def test_assign_checker_is_user(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "mia")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="alice", checker="alice") == CHECKER_IS_EDITOR


def test_assign_unknown_user(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "mia")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="nobody") == USER_NOT_FOUND


def test_assign_unknown_checker(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "mia")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="alice", checker="nobody") == USER_NOT_FOUND


def test_assign_unknown_task(app_client: TestClient) -> None:
    add_users(app_client, "alice", "mia")
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="no-such-task", user="alice") == TASK_NOT_FOUND


def test_assign_by_admin_anywhere(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "carol", "root")
    add_live_tasks(app_client, service_url, [task("sy-hn-0", service_url)])
    login(app_client, "root")

    assert call(app_client, operation="AssignTask", TaskID="sy-hn-0", user="carol", group="g2") == SUCCESS
    assert stored_task(app_client, "sy-hn-0").user == "carol"


def test_assign_reassigns_claimed_task(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "bob", "mia")
    claimed_by_alice(app_client, service_url)
    login(app_client, "mia")

    assert call(app_client, operation="AssignTask", task_id="sy-hn-0", user="bob") == SUCCESS
    assert stored_task(app_client, "sy-hn-0").user == "bob"


# Regressions from review.


@pytest.mark.parametrize("password", ["  spaced pass  ", "p" * 600])
def test_login_password_kept_verbatim(app_client: TestClient, password: str) -> None:
    app_client.portal.call(create_user, runtime(app_client).store, "sam", password, ["editor"], [])

    assert call(app_client, operation="userLogin", username="sam", password=password) == SUCCESS


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_method_gets_legacy_error(app_client: TestClient, method: str) -> None:
    response = app_client.request(method, ENDPOINT)

    assert response.status_code == 200
    assert response.content == BAD_REQUEST


def test_chunked_oversized_body_rejected(app_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b" " * 200_000

    response = app_client.post(ENDPOINT, content=chunks(), headers={"content-type": "text/plain"})

    assert response.status_code == 200
    assert response.content == BAD_REQUEST
