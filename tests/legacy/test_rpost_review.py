"""The legacy operations ReleaseTask, SubmitTask, ApproveTask, RejectTask and SetChecker on `/rpost/task`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.legacy.test_rpost_task import (
    BAD_REQUEST,
    CHECKER_IS_EDITOR,
    PERMISSION_DENIED,
    SUCCESS,
    TASK_NOT_FOUND,
    USER_NOT_FOUND,
    add_live_tasks,
    add_users,
    call,
    login,
    stored_task,
    task,
)
from taskdash.store.records import TaskRecord

INVALID_STATE_CHANGE = '{"errid":1008,"errmsg":"任务当前状态不允许此操作"}'.encode()


def worked_task(task_id: str, url: str, status: str) -> TaskRecord:
    return task(task_id, url, status=status, user="alice", checker="vera", group_id="g1")


def test_release_task(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "running")])
    login(app_client, "alice")

    assert call(app_client, operation="ReleaseTask", task_id="t1") == SUCCESS
    stored = stored_task(app_client, "t1")
    assert stored.status == "notget"
    assert stored.user == ""


def test_release_task_by_manager(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice", "mia")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "running")])
    login(app_client, "mia")

    assert call(app_client, operation="releasetask", id="t1") == SUCCESS


def test_release_task_other_editor_not_found(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "bob")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "running")])
    login(app_client, "bob")

    assert call(app_client, operation="ReleaseTask", task_id="t1") == TASK_NOT_FOUND
    assert stored_task(app_client, "t1").status == "running"


def test_submit_task(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "running")])
    login(app_client, "alice")

    assert call(app_client, operation="SubmitTask", TaskID="t1") == SUCCESS
    assert stored_task(app_client, "t1").status == "checking"


def test_submit_task_wrong_status(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "checking")])
    login(app_client, "alice")

    assert call(app_client, operation="SubmitTask", task_id="t1") == INVALID_STATE_CHANGE


def test_approve_task(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "vera")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "checking")])
    login(app_client, "vera")

    assert call(app_client, operation="ApproveTask", task_id="t1") == SUCCESS
    assert stored_task(app_client, "t1").status == "finish"


def test_approve_task_by_editor_denied(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "alice")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "checking")])
    login(app_client, "alice")

    assert call(app_client, operation="ApproveTask", task_id="t1") == PERMISSION_DENIED


def test_reject_task(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "vera")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "checking")])
    login(app_client, "vera")

    assert call(app_client, operation="RejectTask", task_id="t1", reason="第二个框太松") == SUCCESS
    assert stored_task(app_client, "t1").status == "running"


def test_reject_task_reason_urlencoded(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "vera")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "checking")])
    login(app_client, "vera")

    response = app_client.post("/rpost/task", data={"operation": "RejectTask", "task_id": "t1", "reason": "redo"})

    assert response.content == SUCCESS


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 501])
def test_reject_task_without_reason(app_client: TestClient, service_url: str, reason: str | None) -> None:
    add_users(app_client, "vera")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "checking")])
    login(app_client, "vera")
    fields = {"operation": "RejectTask", "task_id": "t1"}
    if reason is not None:
        fields["reason"] = reason

    assert call(app_client, **fields) == BAD_REQUEST
    assert stored_task(app_client, "t1").status == "checking"


@pytest.mark.parametrize("operation", ["ReleaseTask", "SubmitTask", "ApproveTask"])
def test_review_operation_unknown_task(app_client: TestClient, operation: str) -> None:
    add_users(app_client, "root")
    login(app_client, "root")

    assert call(app_client, operation=operation, task_id="no-such-task") == TASK_NOT_FOUND


@pytest.mark.parametrize("operation", ["ReleaseTask", "SubmitTask", "ApproveTask", "RejectTask"])
def test_review_operation_missing_task_id(app_client: TestClient, operation: str) -> None:
    add_users(app_client, "root")
    login(app_client, "root")

    assert call(app_client, operation=operation, reason="r") == BAD_REQUEST


def test_set_checker(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "mia", "vera")
    add_live_tasks(app_client, service_url, [task("t1", service_url, status="checking", user="alice", group_id="g1")])
    login(app_client, "mia")

    assert call(app_client, operation="SetChecker", task_id="t1", checker="vera") == SUCCESS
    stored = stored_task(app_client, "t1")
    assert stored.checker == "vera"
    assert stored.status == "checking"


@pytest.mark.parametrize(
    ("user", "fields", "expected"),
    [
        ("alice", {"task_id": "t1", "checker": "vera"}, PERMISSION_DENIED),
        ("root", {"task_id": "t1", "checker": "nobody"}, USER_NOT_FOUND),
        ("root", {"task_id": "t1", "checker": "alice"}, PERMISSION_DENIED),
        ("root", {"task_id": "t1"}, BAD_REQUEST),
        ("root", {"checker": "vera"}, BAD_REQUEST),
        ("root", {"task_id": "no-such-task", "checker": "vera"}, TASK_NOT_FOUND),
    ],
)
def test_set_checker_errors(
    app_client: TestClient, service_url: str, user: str, fields: dict[str, str], expected: bytes
) -> None:
    add_users(app_client, "alice", "vera", "root")
    add_live_tasks(app_client, service_url, [worked_task("t1", service_url, "running")])
    login(app_client, user)

    assert call(app_client, operation="setchecker", **fields) == expected
    assert stored_task(app_client, "t1").checker == "vera"


def test_set_checker_editor_rejected(app_client: TestClient, service_url: str) -> None:
    add_users(app_client, "root", "vera")
    add_live_tasks(app_client, service_url, [task("t1", service_url, status="running", user="vera")])
    login(app_client, "root")

    assert call(app_client, operation="SetChecker", task_id="t1", checker="vera") == CHECKER_IS_EDITOR
