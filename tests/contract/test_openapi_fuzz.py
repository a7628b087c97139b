"""Fuzzing of every operation in the REST API's OpenAPI document with Schemathesis, in-process over ASGI.

Schemathesis reads `/api/openapi.json` from the running app and generates
requests for each operation, both valid ones and ones that break the
schema. Every response must be free of server errors (5xx), must match its
documented schema when its status is documented, and, when it is an error,
must carry the errid body with a detail sentence.

The test runs once per identity, each time on a fresh app and database
seeded before start-up with users, two services, tasks in every status and
a dead letter. Path parameters take the seeded task ids and usernames part
of the time, so that requests reach real objects. The admin and editor runs
log in through `POST /api/v1/session` and send the session cookie and the
CSRF token on every request. The anonymous run sends neither and exercises
the 401 and 403 paths.

Hypothesis runs derandomized, so a failure in CI reproduces locally with the
same command. The legacy `/rpost/task` endpoint is not in the OpenAPI
document (its route has `include_in_schema=False`), so it is not fuzzed here.

NOTE: `schemathesis.pytest.from_fixture(...).parametrize()` fails under
pytest 9.2 (Schemathesis 4.32.5 reads `Node._nodeid`, which pytest 9.2 no
longer has). Each operation therefore runs as a Hypothesis test over
`APIOperation.as_strategy` inside a pytest subtest. That covers
Schemathesis's fuzzing phase but not its coverage phase of boundary values.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

from taskdash.api.session import CSRF_HEADER, SESSION_COOKIE
from taskdash.app import create_app
from taskdash.config import load_settings
from taskdash.errors import ErrId
from taskdash.store.records import DeadLetter, Heartbeat, HistoryEntry, Registration, TaskRecord, User
from taskdash.store.sqlite.repository import SQLiteRepository
from tests.api.conftest import password_hash
from tests.conftest import NO_POLL_NETWORK

PASSWORD = "correct-horse-1"
INTAKE_TOKEN = "fuzz-intake-token"

# username -> (roles, groups)
ACCOUNTS = {
    "root": (["admin"], []),
    "alice": (["editor"], ["g1"]),
    "bob": (["editor"], ["g1"]),
    "vera": (["checker"], ["g1"]),
    "mia": (["manager"], ["g1", "g2"]),
}

# identity -> the username it logs in as, or None for requests without a session
IDENTITIES = {"admin": "root", "editor": "alice", "anonymous": None}

# Both URLs lie outside NO_POLL_NETWORK, so the poller rejects them and never connects.
LIVE_SERVICE = "http://127.0.0.1:9/rpost/fuzz-live"
SILENT_SERVICE = "http://127.0.0.1:9/rpost/fuzz-silent"

# Examples per operation and identity. With 29 operations, `time pytest tests/contract` took
# 42 to 50 s on a 2-core development machine; 300 examples took six and a half minutes.
MAX_EXAMPLES = 25

# `GET /api/v1/events` streams until the session ends. Schemathesis cuts an event stream at its
# read timeout and validates what arrived, so that operation gets a short timeout instead of
# being excluded.
EVENT_STREAM_PATHS = frozenset({"/api/v1/events"})
STREAM_READ_SECONDS = 0.2

# The fuzzer sends many wrong passwords from one client address. The normal limit would block the
# address, and with it the re-login of the identity under test, within a few examples.
LOGIN_MAX_FAILURES = 1_000_000


def seeded_tasks(now: float) -> tuple[list[TaskRecord], list[HistoryEntry]]:
    """Return tasks in every status TaskDash uses, plus ids that need URL encoding, and their history."""

    def task(task_id: str, status: str, service_url: str = LIVE_SERVICE, **fields: Any) -> TaskRecord:
        values = {"data_type": "2", "created_at": now - 3600, "updated_at": now - 60, **fields}
        return TaskRecord(task_id=task_id, service_url=service_url, status=status, **values)

    tasks = [
        task("fuzz-notget", "notget", description="unclaimed"),
        task("任务-中文", "notget", description="非 ASCII 的任务 id"),
        task("id with spaces & ?", "notget"),
        task("fuzz-running", "running", user="alice", group_id="g1", claimed_at=now - 600),
        task("fuzz-checking", "checking", user="alice", checker="vera", group_id="g1", claimed_at=now - 900),
        task("fuzz-finish", "finish", user="bob", checker="vera", group_id="g1", claimed_at=now - 1800),
        task("fuzz-shutdown", "shutdown", service_status="shutdown", user="bob", group_id="g2"),
        task("fuzz-missing", "notget", missing=True),
        task("fuzz-silent", "notget", service_url=SILENT_SERVICE),
    ]
    history = [
        HistoryEntry("fuzz-running", now - 600, "alice", "user", "notget", "running"),
        HistoryEntry("fuzz-checking", now - 900, "alice", "user", "notget", "running"),
        HistoryEntry("fuzz-checking", now - 300, "alice", "user", "running", "checking"),
        HistoryEntry("fuzz-finish", now - 1800, "bob", "user", "notget", "running"),
        HistoryEntry("fuzz-finish", now - 120, "vera", "user", "checking", "finish"),
        HistoryEntry("fuzz-shutdown", now - 60, SILENT_SERVICE, "service", "notget", "shutdown"),
    ]
    return tasks, history


SEEDED_TASK_IDS = tuple(task.task_id for task in seeded_tasks(0.0)[0])


async def seed_store(database_url: str, now: float) -> None:
    """Store the accounts, services, tasks and a dead letter before the app starts on `database_url`."""
    store = await SQLiteRepository.open(database_url)
    try:
        for username, (roles, groups) in ACCOUNTS.items():
            user = User(
                username, password_hash(PASSWORD), tuple(roles), tuple(groups), display_name=username, created_at=now
            )
            await store.add_user(user)

        registration = Registration(LIVE_SERVICE, "fuzz live", "2", "no", {"region": "test"}, now)
        heartbeats = [
            Heartbeat(LIVE_SERVICE, now, now - 1.5, now),
            # An hour without a heartbeat, so the app judges this service offline at start-up.
            Heartbeat(SILENT_SERVICE, now - 3600, None, now - 3600),
        ]
        # Not UTF-8, so the dead-letter list shows it hex-encoded.
        dead_letter = DeadLetter("heartBeat", "nsq", b"\xff\xfe not json", "invalid JSON", now - 30)
        await store.apply_intake_batch([registration], heartbeats, [dead_letter])

        tasks, history = seeded_tasks(now)
        skipped = await store.insert_tasks(tasks, history)
        assert skipped == [], f"seed tasks skipped: {skipped}"
    finally:
        await store.close()


def known_path_parameters(path: str, logged_in: str | None) -> list[dict[str, str]]:
    """Return path parameters of `path` that name seeded objects.

    The logged-in user is left out, because a generated password reset of
    that user would revoke the session and change the password that re-login uses.
    """
    if "{task_id}" in path:
        return [{"task_id": task_id} for task_id in SEEDED_TASK_IDS]
    if "{username}" in path:
        return [{"username": name} for name in [*ACCOUNTS, "nobody"] if name != logged_in]
    return []


def load_schema(tmp_path: Path, identity: str) -> schemathesis.BaseSchema:
    """Seed a fresh database, create the app on it and load its OpenAPI document over ASGI.

    Loading starts the app's lifespan, so `app.state.runtime` exists. The
    Schemathesis pytest plugin stops the lifespan when the test ends.
    """
    database_url = f"sqlite:///{tmp_path}/fuzz.db"
    asyncio.run(seed_store(database_url, time.time()))
    app_settings = load_settings(
        database_url=database_url, allowed_service_networks=[NO_POLL_NETWORK], intake_token=INTAKE_TOKEN,
        login_max_failures=LOGIN_MAX_FAILURES,
    )
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(app_settings))
    logged_in = IDENTITIES[identity]

    def before_generate_path_parameters(context: schemathesis.HookContext, strategy: Any) -> Any:
        known = known_path_parameters(context.operation.path, logged_in) if context.operation else []
        return st.one_of(strategy, st.sampled_from(known)) if known else strategy

    schema.hook(before_generate_path_parameters)
    return schema


def error_body_check(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Check that an error response has the errid body, and that a 400 or 422 has errid 1000 and a detail."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {response.text[:200]!r}") from None
    assert isinstance(body, dict), f"error body is not a JSON object: {response.text!r}"
    assert isinstance(body.get("errid"), int), f"error body has no integer errid: {body}"
    assert isinstance(body.get("errmsg"), str) and body["errmsg"], f"error body has no errmsg: {body}"
    assert isinstance(body.get("detail"), str) and body["detail"], f"error body has no detail: {body}"
    if response.status_code in (400, 422):
        assert body["errid"] == ErrId.BAD_REQUEST, f"status {response.status_code} without errid 1000: {body}"
    return None


CHECKS = [not_a_server_error, response_schema_conformance, error_body_check]


@dataclass
class Caller:
    """A client that sends generated cases as one identity and logs in again whenever its session has ended."""

    schema: schemathesis.BaseSchema
    username: str | None
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def login(self) -> None:
        login = self.schema["/api/v1/session"]["POST"]
        response = login.Case(
            body={"username": self.username, "password": PASSWORD}, media_type="application/json"
        ).call()
        assert response.status_code == 200, f"login of {self.username!r} failed: {response.text}"

        cookie: SimpleCookie = SimpleCookie()
        for header in response.headers.get("set-cookie", []):
            cookie.load(header)
        self.cookies = {SESSION_COOKIE: cookie[SESSION_COOKIE].value}
        self.headers = {CSRF_HEADER: response.json()["csrf_token"]}

    def ensure_session(self) -> None:
        """Log in again unless the session is still valid. A generated logout or user change may have ended it."""
        if self.username is None:
            return
        if self.cookies:
            current = self.schema["/api/v1/session"]["GET"].Case().call(cookies=self.cookies)
            if current.status_code == 200:
                return
        self.login()

    def call_and_validate(self, case: schemathesis.Case) -> None:
        self.ensure_session()

        headers = dict(self.headers)
        # The intake token authenticates a task service, not a user. The anonymous run leaves it out to get the 403.
        # NOTE: the intake routes read their body raw, so the document describes no body and Schemathesis sends
        # none. Their parsing is tested in tests/unit/services/test_messages.py.
        if self.username is not None and case.operation.path.startswith("/api/v1/intake/"):
            headers["Authorization"] = f"Bearer {INTAKE_TOKEN}"
        transport: dict[str, Any] = {}
        if case.operation.path in EVENT_STREAM_PATHS:
            transport["timeout"] = STREAM_READ_SECONDS

        case.call_and_validate(headers=headers, cookies=dict(self.cookies), checks=CHECKS, **transport)


def fuzz_operation(operation: schemathesis.APIOperation, caller: Caller) -> None:
    """Send valid and schema-breaking cases of `operation` and validate every response."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    # The deadline is off because a login verifies an Argon2id hash and the first request waits for the app's start-up.
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None)
    @given(case=cases)
    def send(case: schemathesis.Case) -> None:
        caller.call_and_validate(case)

    send()


@pytest.mark.parametrize("identity", list(IDENTITIES))
def test_operations_without_server_error(identity: str, tmp_path: Path, subtests: pytest.Subtests) -> None:
    schema = load_schema(tmp_path, identity)
    caller = Caller(schema, IDENTITIES[identity])

    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"Schemathesis cannot read an operation of the OpenAPI document: {result.err()}")
        operation = result.ok()
        with subtests.test(operation=operation.label):
            fuzz_operation(operation, caller)
