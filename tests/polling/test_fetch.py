"""fetch_task_list over httpx.MockTransport and a real local HTTP server, and the Poller's bookkeeping."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from taskdash.config import Settings, load_settings
from taskdash.polling.fetch import POST_FORM, PollError, fetch_task_list
from taskdash.polling.poller import Poller, backoff_delay
from taskdash.services.liveness import LivenessMonitor, LivenessPolicy
from taskdash.store.records import Registration, ServiceRecord
from taskdash.store.sqlite.repository import SQLiteRepository

SERVICE_URL = "http://tasks.test/rpost/test"
TASKS_BODY = b'[{"TaskID":"sy-hn-0","DataType":"2","Status":"notget"},{"TaskID":"sy-hn-1","DataType":"2"}]'
TIMEOUT = 2.0
MAX_BYTES = 1024

Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def answer(body: bytes = TASKS_BODY, status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, content=body, headers={"Content-Type": "application/json"})


async def fetch(handler: Handler, method: str = "get", timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES):
    async with mock_client(handler) as client:
        return await fetch_task_list(client, SERVICE_URL, method, timeout, max_bytes)


# fetch_task_list with a mock transport.


async def test_fetch_get() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer()(request)

    parsed = await fetch(handler)

    assert [task.task_id for task in parsed.tasks] == ["sy-hn-0", "sy-hn-1"]
    assert requests[0].method == "GET"
    assert str(requests[0].url) == SERVICE_URL
    assert requests[0].content == b""


async def test_fetch_post_form() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answer()(request)

    parsed = await fetch(handler, method="post")

    assert len(parsed.tasks) == 2
    assert requests[0].method == "POST"
    assert requests[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(requests[0].content.decode()) == {"operation": ["GetAllTasks"], "increment": ["0"]}


async def test_fetch_wrapped_list() -> None:
    parsed = await fetch(answer(b'{"data":[{"task_id":"t1"}]}'))

    assert [task.task_id for task in parsed.tasks] == ["t1"]


@pytest.mark.parametrize("status", [301, 404, 500, 503])
async def test_fetch_non_2xx_raises(status: int) -> None:
    with pytest.raises(PollError) as raised:
        await fetch(answer(b"[]", status=status))

    assert f"HTTP {status}" in str(raised.value)


async def test_fetch_invalid_json_raises() -> None:
    with pytest.raises(PollError) as raised:
        await fetch(answer(b"<html>maintenance</html>"))

    assert "invalid task list" in str(raised.value)


async def test_fetch_wrong_top_level_raises() -> None:
    with pytest.raises(PollError) as raised:
        await fetch(answer(b'{"error":"busy"}'))

    assert "'tasks' or 'data'" in str(raised.value)


async def test_fetch_declared_oversize_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # A declared length alone must stop the poll before any of the body is read.
        return httpx.Response(200, headers={"Content-Length": str(MAX_BYTES + 1)}, content=b"[]")

    with pytest.raises(PollError) as raised:
        await fetch(handler)

    assert f"{MAX_BYTES + 1} bytes" in str(raised.value)


async def test_fetch_body_at_limit_accepted() -> None:
    body = b"[" + b" " * (MAX_BYTES - 2) + b"]"

    parsed = await fetch(answer(body))

    assert parsed.tasks == []


async def test_fetch_streamed_oversize_raises() -> None:
    chunks_sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(1000):
            chunks_sent += 1
            yield b" " * 256

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())

    with pytest.raises(PollError) as raised:
        await fetch(handler)

    assert "over the limit" in str(raised.value)
    # The read stops at the limit instead of draining the whole body.
    assert chunks_sent <= MAX_BYTES // 256 + 2


async def test_fetch_timeout_raises() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, content=b"[]")

    started = time.monotonic()
    with pytest.raises(PollError) as raised:
        await fetch(handler, timeout=0.2)

    assert "timed out" in str(raised.value)
    assert time.monotonic() - started < 5


async def test_fetch_slow_body_times_out() -> None:
    async def slow_chunks() -> AsyncIterator[bytes]:
        yield b"["
        await asyncio.sleep(30)
        yield b"]"

    with pytest.raises(PollError) as raised:
        await fetch(lambda request: httpx.Response(200, content=slow_chunks()), timeout=0.2)

    assert "timed out" in str(raised.value)


async def test_fetch_connection_error_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(PollError) as raised:
        await fetch(handler)

    assert "ConnectError" in str(raised.value)


# fetch_task_list against a real HTTP server on loopback.


class TaskServiceHandler(BaseHTTPRequestHandler):
    """Request handler of a task service: it returns the task list on GET and on POST operation=GetAllTasks."""

    tasks = [{"TaskID": "real-0", "DataType": "2", "Status": "notget"}]
    posted_forms: list[dict[str, list[str]]] = []

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        if self.path == "/broken":
            self._send(500, b'{"error":"internal"}')
            return
        self._send(200, json.dumps(self.tasks).encode())

    def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        self.posted_forms.append(form)
        if form.get("operation") != ["GetAllTasks"]:
            self._send(400, b'{"error":"unknown operation"}')
            return
        self._send(200, json.dumps({"tasks": self.tasks}).encode())

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature fixed by the base class
        pass


@pytest.fixture
def task_service() -> Iterator[str]:
    """Base URL of a task service on 127.0.0.1 with a port chosen by the system."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), TaskServiceHandler)
    thread = threading.Thread(target=server.serve_forever, name="task service", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_fetch_real_server_get(task_service: str) -> None:
    async with httpx.AsyncClient() as client:
        parsed = await fetch_task_list(client, f"{task_service}/rpost/test", "get", TIMEOUT, MAX_BYTES)

    assert [task.task_id for task in parsed.tasks] == ["real-0"]


async def test_fetch_real_server_post(task_service: str) -> None:
    TaskServiceHandler.posted_forms.clear()

    async with httpx.AsyncClient() as client:
        parsed = await fetch_task_list(client, f"{task_service}/rpost/test", "post", TIMEOUT, MAX_BYTES)

    assert [task.task_id for task in parsed.tasks] == ["real-0"]
    assert TaskServiceHandler.posted_forms == [{key: [value] for key, value in POST_FORM.items()}]


async def test_fetch_real_server_error(task_service: str) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(PollError) as raised:
            await fetch_task_list(client, f"{task_service}/broken", "get", TIMEOUT, MAX_BYTES)

    assert "HTTP 500" in str(raised.value)


# backoff_delay.


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 10.0), (1, 20.0), (2, 40.0), (4, 160.0), (5, 300.0), (10_000, 300.0)],
)
def test_backoff_delay(failures: int, expected: float) -> None:
    assert backoff_delay(10.0, failures, ceiling=300.0) == expected


# Poller.


def poller_settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(database_url=f"sqlite:///{tmp_path}/unused.db", poll_interval=10.0, poll_timeout=TIMEOUT, **overrides)


async def register(store: SQLiteRepository, url: str = SERVICE_URL) -> None:
    await store.apply_intake_batch([Registration(url, "abc", "2", "", {}, time.time())], [], [])


async def stored_service(store: SQLiteRepository, url: str = SERVICE_URL) -> ServiceRecord:
    return next(record for record in await store.list_services() if record.url == url)


def make_poller(settings: Settings, store: SQLiteRepository, handler: Handler) -> tuple[Poller, LivenessMonitor]:
    monitor = LivenessMonitor(LivenessPolicy(), intake_expected=False)
    return Poller(settings, store, monitor, mock_client(handler)), monitor


class CountingHandler:
    """Mock task service whose responses a test switches between success and failure."""

    def __init__(self) -> None:
        self.requests = 0
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(self.status, content=TASKS_BODY if self.status == 200 else b"busy")


async def wait_for_stored_poll(store: SQLiteRepository, done: Callable[[ServiceRecord], bool]) -> None:
    """Wait until the stored poll outcome satisfies `done`, then let the poller drop the finished poll."""
    for _ in range(200):
        if done(await stored_service(store)):
            # The poller drops a finished poll in a done-callback, one loop iteration after the store write.
            await asyncio.sleep(0.05)
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the poll outcome was not stored: {await stored_service(store)}")


async def test_poll_success_recorded(tmp_path: Path, store: SQLiteRepository) -> None:
    await register(store)
    poller, _ = make_poller(poller_settings(tmp_path), store, CountingHandler())

    await poller.poll(SERVICE_URL)

    record = await stored_service(store)
    assert record.last_poll_ok is True
    assert record.last_poll_error == ""
    assert record.poll_failures == 0
    assert record.last_poll_at is not None
    assert record.task_count == 2


async def test_poll_post_method(tmp_path: Path, store: SQLiteRepository) -> None:
    await register(store)
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        return httpx.Response(200, content=TASKS_BODY)

    poller, _ = make_poller(poller_settings(tmp_path, poll_method="post"), store, handler)

    await poller.poll(SERVICE_URL)

    assert methods == ["POST"]


async def test_poll_failures_recorded(tmp_path: Path, store: SQLiteRepository) -> None:
    await register(store)
    handler = CountingHandler()
    handler.status = 503
    poller, _ = make_poller(poller_settings(tmp_path), store, handler)

    await poller.poll(SERVICE_URL)
    await poller.poll(SERVICE_URL)

    record = await stored_service(store)
    assert record.last_poll_ok is False
    assert "HTTP 503" in record.last_poll_error
    assert record.poll_failures == 2
    assert record.task_count == 0


async def test_poll_success_resets_failures(tmp_path: Path, store: SQLiteRepository) -> None:
    await register(store)
    handler = CountingHandler()
    handler.status = 500
    poller, _ = make_poller(poller_settings(tmp_path), store, handler)
    await poller.poll(SERVICE_URL)

    handler.status = 200
    await poller.poll(SERVICE_URL)

    record = await stored_service(store)
    assert record.last_poll_ok is True
    assert record.last_poll_error == ""
    assert record.poll_failures == 0


async def test_poll_one_failing_service_spares_others(tmp_path: Path, store: SQLiteRepository) -> None:
    good_url = "http://good.test/rpost"
    await register(store)
    await register(store, good_url)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "good.test":
            return httpx.Response(200, content=TASKS_BODY)
        raise httpx.ReadError("connection reset", request=request)

    poller, _ = make_poller(poller_settings(tmp_path), store, handler)

    await asyncio.gather(poller.poll(SERVICE_URL), poller.poll(good_url))

    assert (await stored_service(store)).last_poll_ok is False
    assert (await stored_service(store, good_url)).last_poll_ok is True
    assert (await stored_service(store, good_url)).task_count == 2


async def test_poll_outside_allowed_networks_not_sent(tmp_path: Path, store: SQLiteRepository) -> None:
    url = "http://127.0.0.1:9/rpost/test"
    await register(store, url)
    handler = CountingHandler()
    poller, _ = make_poller(poller_settings(tmp_path, allowed_service_networks=["192.0.2.0/24"]), store, handler)

    await poller.poll(url)

    record = await stored_service(store, url)
    assert handler.requests == 0
    assert record.last_poll_ok is False
    assert "outside" in record.last_poll_error


async def test_poller_backs_off_after_failure(tmp_path: Path, store: SQLiteRepository) -> None:
    await register(store)
    handler = CountingHandler()
    handler.status = 503
    poller, monitor = make_poller(poller_settings(tmp_path), store, handler)
    now = time.time()
    monitor.refresh({SERVICE_URL: now}, now)

    poller.start_due_polls(now)
    await wait_for_stored_poll(store, lambda record: record.poll_failures == 1)
    # One failure doubles the 10 s interval to 20 s, give or take 10 % of jitter.
    poller.start_due_polls(now + 17)
    await asyncio.sleep(0.05)
    assert handler.requests == 1

    poller.start_due_polls(time.time() + 23)
    await wait_for_stored_poll(store, lambda record: record.poll_failures == 2)
    assert handler.requests == 2


async def test_poller_success_keeps_interval(tmp_path: Path, store: SQLiteRepository) -> None:
    await register(store)
    handler = CountingHandler()
    poller, monitor = make_poller(poller_settings(tmp_path), store, handler)
    now = time.time()
    monitor.refresh({SERVICE_URL: now}, now)

    poller.start_due_polls(now)
    await wait_for_stored_poll(store, lambda record: record.last_poll_ok is True)
    first_poll_at = (await stored_service(store)).last_poll_at
    poller.start_due_polls(now + 8)
    await asyncio.sleep(0.05)
    assert handler.requests == 1

    poller.start_due_polls(time.time() + 12)
    await wait_for_stored_poll(store, lambda record: record.last_poll_at != first_poll_at)
    assert handler.requests == 2


async def test_poller_skips_offline_service(tmp_path: Path, store: SQLiteRepository) -> None:
    await register(store)
    handler = CountingHandler()
    poller, monitor = make_poller(poller_settings(tmp_path), store, handler)
    now = time.time()
    monitor.refresh({SERVICE_URL: now - 3600}, now + 3600)

    poller.start_due_polls(now + 3600)
    await asyncio.sleep(0.05)

    assert handler.requests == 0
