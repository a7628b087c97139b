"""deploy/nginx.conf run by a real nginx in front of two stand-in replicas on loopback.

The replicas are small HTTP servers that report their name and the
forwarding headers they received, so each test checks the proxy alone.
nginx comes from TASKDASH_TEST_NGINX (the path of an nginx binary) or from
PATH; `make test` installs Debian's nginx when it is missing, and without one
the tests fail. Only the listen address and the
upstream addresses of the configuration are rewritten for loopback.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY

NGINX = os.environ.get("TASKDASH_TEST_NGINX") or shutil.which("nginx")
REPLICAS = ["taskdash-1", "taskdash-2"]
EVENTS_PATH = "/api/v1/events"
START_TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def require_nginx() -> None:
    if NGINX is None:
        pytest.fail("no nginx: run scripts/install-debian-packages.sh as root, or set TASKDASH_TEST_NGINX")


class ReplicaHandler(BaseHTTPRequestHandler):
    """Request handler of a stand-in replica.

    It replies with JSON that names the replica and echoes the forwarding headers.
    GET /api/v1/events sends one event, then waits until the test sets
    `release_stream` before it sends a second one and ends the stream.
    """

    server: ReplicaServer

    def do_GET(self) -> None:
        if self.path == EVENTS_PATH:
            self._stream_events()
            return
        self._reply()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._reply(received_bytes=len(body))

    def _reply(self, **extra: object) -> None:
        body = json.dumps({
            "replica": self.server.name,
            "x_forwarded_for": self.headers.get("X-Forwarded-For"),
            "x_forwarded_proto": self.headers.get("X-Forwarded-Proto"),
            **extra,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_events(self) -> None:
        # No X-Accel-Buffering header, unlike TaskDash: only the proxy configuration may prevent buffering.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"id: 1\ndata: first\n\n")
        self.wfile.flush()
        self.server.release_stream.wait(START_TIMEOUT)
        self.wfile.write(b"id: 2\ndata: second\n\n")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class ReplicaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), ReplicaHandler)
        self.name = name
        self.release_stream = threading.Event()


@dataclass
class Proxy:
    port: int
    replicas: dict[str, ReplicaServer]

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, dict[str, object]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=START_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if response.status == 200 else {}
        finally:
            connection.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def loopback_config(port: int, replicas: dict[str, ReplicaServer]) -> str:
    """Return deploy/nginx.conf with its listen port and upstream servers moved to loopback."""
    config = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    config, listens = re.subn(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{port};", config, flags=re.MULTILINE)
    assert listens == 1, "deploy/nginx.conf no longer has exactly one `listen 80;`"
    for name, replica in replicas.items():
        config, servers = re.subn(
            rf"server {re.escape(name)}:8600\b", f"server 127.0.0.1:{replica.server_address[1]}", config
        )
        assert servers == 1, f"deploy/nginx.conf no longer has `server {name}:8600`"
    return config


def main_config(work_dir: Path, site_config: Path) -> str:
    """Return an nginx.conf that includes `site_config` inside `http {}`, as the official image does."""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {work_dir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Started as root, nginx runs its workers as `nobody`, who cannot write temporary files under
    # pytest's private tmp_path. So the workers keep running as root.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\ndaemon off;\npid {work_dir / 'nginx.pid'};\n"
        f"error_log {work_dir / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n    access_log off;\n{temp_paths}\n    include {site_config};\n}}\n"
    )


def wait_for_port(port: int, process: subprocess.Popen[bytes], error_log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}: {error_log.read_text(errors='replace')}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nginx did not listen on 127.0.0.1:{port} within {START_TIMEOUT} s")


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    replicas = {name: ReplicaServer(name) for name in REPLICAS}
    threads = [threading.Thread(target=replica.serve_forever, daemon=True) for replica in replicas.values()]
    for thread in threads:
        thread.start()

    port = free_port()
    site_config = tmp_path / "default.conf"
    site_config.write_text(loopback_config(port, replicas), encoding="utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(main_config(tmp_path, site_config), encoding="utf-8")
    error_log = tmp_path / "error.log"
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(main), "-e", str(error_log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process, error_log)
        yield Proxy(port=port, replicas=replicas)
    finally:
        for replica in replicas.values():
            replica.release_stream.set()
        process.terminate()
        process.wait(timeout=START_TIMEOUT)
        for replica in replicas.values():
            replica.shutdown()
            replica.server_close()


def test_proxy_reaches_both_replicas(proxy: Proxy) -> None:
    seen = set()
    for number in range(40):
        status, body = proxy.request("GET", "/", headers={"Cookie": f"taskdash_session=session-{number}"})
        assert status == 200
        seen.add(body["replica"])

    assert seen == set(REPLICAS)


def test_proxy_keeps_session_on_one_replica(proxy: Proxy) -> None:
    replicas = {
        proxy.request("GET", "/", headers={"Cookie": "taskdash_session=one-browser"})[1]["replica"] for _ in range(10)
    }

    assert len(replicas) == 1


def test_proxy_fails_over_to_other_replica(proxy: Proxy) -> None:
    cookie = {"Cookie": "taskdash_session=one-browser"}
    first = proxy.request("GET", "/", headers=cookie)[1]["replica"]
    stopped = proxy.replicas[first]
    stopped.shutdown()
    stopped.server_close()

    status, body = proxy.request("GET", "/", headers=cookie)

    assert status == 200
    assert body["replica"] != first


def test_proxy_appends_client_to_forwarded_for(proxy: Proxy) -> None:
    status, body = proxy.request("GET", "/tasks/mine", headers={"X-Forwarded-For": "203.0.113.7"})

    assert status == 200
    assert body["x_forwarded_for"] == "203.0.113.7, 127.0.0.1"
    assert body["x_forwarded_proto"] == "http"


def test_proxy_accepts_request_body_of_4_mib(proxy: Proxy) -> None:
    body = b"x" * (4 * 1024 * 1024 - 1024)

    status, answer = proxy.request("POST", "/api/v1/tasks/bulk-assign", body=body)

    assert status == 200
    assert answer["received_bytes"] == len(body)


def test_proxy_passes_events_unbuffered(proxy: Proxy) -> None:
    connection = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    try:
        request = f"GET {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        connection.sendall(request.encode())
        received = b""
        # The replica holds back its second event until the first has arrived here, so a buffering
        # proxy delivers nothing before this read times out.
        while b"data: first" not in received:
            chunk = connection.recv(4096)
            assert chunk, f"stream closed before the first event; received {received!r}"
            received += chunk
    finally:
        for replica in proxy.replicas.values():
            replica.release_stream.set()
        connection.close()

    assert b"data: second" not in received
    assert b"text/event-stream" in received
