"""Task status values and the rules that move a task between them.

TaskDash's own actions follow a fixed table:

    claim / assign   notget   -> running
    release          running  -> notget
    submit           running  -> checking
    approve          checking -> finish
    reject           checking -> running

A service may also report any status of its own (`shutdown`, `restart`, ...).
Its report is kept verbatim in `service_status` and drives `status` only
when the report changes, so a poll that repeats an old report never undoes
a user's action.
"""

from __future__ import annotations

from enum import StrEnum

from taskdash.errors import InvalidStateChange

NOTGET = "notget"
RUNNING = "running"
CHECKING = "checking"
FINISH = "finish"


class Action(StrEnum):
    CLAIM = "claim"
    ASSIGN = "assign"
    RELEASE = "release"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"


TRANSITIONS: dict[Action, tuple[frozenset[str], str]] = {
    Action.CLAIM: (frozenset({NOTGET}), RUNNING),
    Action.ASSIGN: (frozenset({NOTGET, RUNNING}), RUNNING),
    Action.RELEASE: (frozenset({RUNNING}), NOTGET),
    Action.SUBMIT: (frozenset({RUNNING}), CHECKING),
    Action.APPROVE: (frozenset({CHECKING}), FINISH),
    Action.REJECT: (frozenset({CHECKING}), RUNNING),
}


def next_status(action: Action, status: str) -> str:
    """Return the status after `action`, or raise InvalidStateChange if `status` does not allow it."""
    allowed_from, target = TRANSITIONS[action]
    if status not in allowed_from:
        raise InvalidStateChange(f"cannot {action} a task in status {status!r}; allowed from {sorted(allowed_from)}")
    return target


def initial_status(reported: str) -> str:
    """Return the status of a task first seen with the service-reported status `reported`."""
    return reported or NOTGET


def merge_reported_status(status: str, previous_report: str, reported: str, user: str, checker: str) -> str:
    """Return the task status after a service reports `reported` for a task in `status`.

    Two exceptions to "the report drives the status": a reported `notget`
    never un-claims a task that has a user, and a reported `finish` on a
    task with a checker moves it to `checking` so the checker still reviews it.
    """
    if not reported or reported == previous_report:
        return status
    if reported == NOTGET and user:
        return status
    if reported == FINISH and checker and status != FINISH:
        return CHECKING
    return reported
