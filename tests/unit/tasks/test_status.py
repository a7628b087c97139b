"""Task status rules: TaskDash's own actions and the merge of service-reported statuses."""

from __future__ import annotations

import itertools

import pytest

from taskdash.errors import ErrId, InvalidStateChange
from taskdash.tasks.status import (
    CHECKING,
    FINISH,
    NOTGET,
    RUNNING,
    Action,
    initial_status,
    merge_reported_status,
    next_status,
)

STATUSES = (NOTGET, RUNNING, CHECKING, FINISH, "shutdown", "restart", "")

# (action, status) -> status after the action. Every pair not listed is forbidden.
ALLOWED = {
    (Action.CLAIM, NOTGET): RUNNING,
    (Action.ASSIGN, NOTGET): RUNNING,
    (Action.ASSIGN, RUNNING): RUNNING,
    (Action.RELEASE, RUNNING): NOTGET,
    (Action.SUBMIT, RUNNING): CHECKING,
    (Action.APPROVE, CHECKING): FINISH,
    (Action.REJECT, CHECKING): RUNNING,
}

FORBIDDEN = [pair for pair in itertools.product(Action, STATUSES) if pair not in ALLOWED]


@pytest.mark.parametrize(("action", "status"), list(ALLOWED), ids=[f"{a}-{s}" for a, s in ALLOWED])
def test_next_status_allowed(action: Action, status: str) -> None:
    assert next_status(action, status) == ALLOWED[(action, status)]


@pytest.mark.parametrize(("action", "status"), FORBIDDEN, ids=[f"{a}-{s or 'empty'}" for a, s in FORBIDDEN])
def test_next_status_forbidden(action: Action, status: str) -> None:
    with pytest.raises(InvalidStateChange) as raised:
        next_status(action, status)

    assert raised.value.errid is ErrId.INVALID_STATE_CHANGE
    assert repr(status) in raised.value.detail


def test_initial_status_empty_is_notget() -> None:
    assert initial_status("") == NOTGET


def test_initial_status_verbatim() -> None:
    assert initial_status("shutdown") == "shutdown"


def test_merge_repeated_report_changes_nothing() -> None:
    # The user claimed the task, and the service still reports the notget it reported before.
    assert merge_reported_status(RUNNING, NOTGET, NOTGET, user="alice", checker="") == RUNNING


def test_merge_repeated_running_report_keeps_submit() -> None:
    assert merge_reported_status(CHECKING, RUNNING, RUNNING, user="alice", checker="bob") == CHECKING


def test_merge_empty_report_changes_nothing() -> None:
    assert merge_reported_status(RUNNING, "running", "", user="alice", checker="") == RUNNING


def test_merge_notget_never_unclaims() -> None:
    assert merge_reported_status(RUNNING, RUNNING, NOTGET, user="alice", checker="") == RUNNING


def test_merge_notget_without_user_applies() -> None:
    assert merge_reported_status(RUNNING, RUNNING, NOTGET, user="", checker="") == NOTGET


def test_merge_finish_with_checker_is_checking() -> None:
    assert merge_reported_status(RUNNING, RUNNING, FINISH, user="alice", checker="bob") == CHECKING


def test_merge_finish_without_checker_is_finish() -> None:
    assert merge_reported_status(RUNNING, RUNNING, FINISH, user="alice", checker="") == FINISH


def test_merge_finish_after_approval_stays_finish() -> None:
    assert merge_reported_status(FINISH, RUNNING, FINISH, user="alice", checker="bob") == FINISH


def test_merge_running_report_applies() -> None:
    assert merge_reported_status(NOTGET, NOTGET, RUNNING, user="", checker="") == RUNNING


@pytest.mark.parametrize("reported", ["shutdown", "restart", "Paused-2"])
def test_merge_unknown_status_verbatim(reported: str) -> None:
    assert merge_reported_status(RUNNING, RUNNING, reported, user="alice", checker="bob") == reported
