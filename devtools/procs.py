"""Real processes on loopback for tests, benchmarks and `make run`.

Each helper starts one program from `.tools/bin` (built by `make tools`) or
the `taskdash` console script of the virtual environment, on a free port,
waits until it responds, and stops it again. Nothing here is part of the
TaskDash package.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".tools" / "bin"
TASKDASH_BIN = Path(sys.executable).parent / "taskdash"


def tool(name: str) -> Path:
    """Return the path of a tool built by `make tools`, or fail with the command that builds it."""
    path = TOOLS_BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `make tools` first")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """Yield a loopback port that refuses every connection until the block ends.

    The socket is bound but never listens, so no other program can take the
    port meanwhile. Useful as the URL of a task service that must fail its polls.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float, description: str, interval: float = 0.1) -> Any:
    """Call `condition` every `interval` s until it returns a true value, and return that value.

    Raise TimeoutError naming `description` when `timeout` s pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {description}")
        time.sleep(interval)


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Wait until `url` responds with any HTTP status; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode} before {url} responded")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not respond within {timeout} s")


def wait_for_tcp(address: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Wait until `address` (HOST:PORT) accepts TCP connections; fail early if `process` exits."""
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode} before {address} accepted")
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{address} did not accept connections within {timeout} s")


@dataclass
class Managed:
    """A started process with its log file."""

    name: str
    process: subprocess.Popen
    log_path: Path
    # Size of the log file when this process started: the log is appended to across runs.
    log_offset: int = 0

    def stop(self, timeout: float = 10) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode

    def kill(self) -> None:
        """Stop with SIGKILL: no shutdown code runs."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines this process wrote to its log."""
        try:
            with open(self.log_path, "rb") as log_file:
                log_file.seek(self.log_offset)
                text = log_file.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _spawn(name: str, args: list[str], workdir: Path, env: dict[str, str] | None = None) -> Managed:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    with open(log_path, "ab") as log_file:
        log_file.write(f"=== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {' '.join(args)}\n".encode())
        log_file.flush()
        offset = log_file.tell()
        process = subprocess.Popen(
            args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, cwd=workdir,
        )
    return Managed(name, process, log_path, offset)


def port_in_use(port: int) -> bool:
    """Return True when a program listens on `port` of 127.0.0.1 (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class Nsqd:
    managed: Managed
    tcp_address: str
    http_address: str

    @classmethod
    def start(
        cls, workdir: Path, lookupd_tcp_address: str | None = None, name: str = "nsqd",
        extra_args: list[str] | None = None,
    ) -> Nsqd:
        tcp, http = free_port(), free_port()
        data = workdir / f"{name}-data"
        data.mkdir(parents=True, exist_ok=True)
        args = [
            str(tool("nsqd")), f"--tcp-address=127.0.0.1:{tcp}", f"--http-address=127.0.0.1:{http}",
            "--https-address=", "--broadcast-address=127.0.0.1", f"--data-path={data}",
        ]
        if lookupd_tcp_address:
            args.append(f"--lookupd-tcp-address={lookupd_tcp_address}")
        args += extra_args or []
        managed = _spawn(name, args, workdir)
        wait_for_http(f"http://127.0.0.1:{http}/ping", 15, managed.process)
        return cls(managed, f"127.0.0.1:{tcp}", f"127.0.0.1:{http}")

    def publish(self, topic: str, body: bytes) -> None:
        request = urllib.request.Request(f"http://{self.http_address}/pub?topic={topic}", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def publish_many(self, topic: str, bodies: list[bytes]) -> None:
        """Publish with /mpub in its binary form, so bodies may contain newlines."""
        payload = bytearray(len(bodies).to_bytes(4, "big"))
        for body in bodies:
            payload += len(body).to_bytes(4, "big") + body
        request = urllib.request.Request(
            f"http://{self.http_address}/mpub?topic={topic}&binary=true", data=bytes(payload), method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()

    def create_topic(self, topic: str) -> None:
        request = urllib.request.Request(f"http://{self.http_address}/topic/create?topic={topic}", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def create_channel(self, topic: str, channel: str) -> None:
        """Create `channel` (and its topic), so it keeps every message published from now on."""
        self.create_topic(topic)
        request = urllib.request.Request(
            f"http://{self.http_address}/channel/create?topic={topic}&channel={channel}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://{self.http_address}/stats?format=json", timeout=10) as answer:
            return json.loads(answer.read())

    def channel_stats(self, topic: str, channel: str) -> dict[str, Any] | None:
        """Return nsqd's counters for one channel (depth, in_flight_count, message_count, ...), or None."""
        for topic_stats in self.stats().get("topics") or []:
            if topic_stats["topic_name"] != topic:
                continue
            for channel_stats in topic_stats.get("channels") or []:
                if channel_stats["channel_name"] == channel:
                    return channel_stats
        return None

    def channel_drained(self, topic: str, channel: str, messages: int) -> bool:
        """Return True once `channel` has received `messages` messages and FINished all of them."""
        counters = self.channel_stats(topic, channel)
        if counters is None or counters["message_count"] < messages:
            return False
        return counters["depth"] + counters["in_flight_count"] + counters["deferred_count"] == 0


@dataclass
class Nsqlookupd:
    managed: Managed
    tcp_address: str
    http_address: str

    @classmethod
    def start(cls, workdir: Path) -> Nsqlookupd:
        tcp, http = free_port(), free_port()
        args = [
            str(tool("nsqlookupd")), f"--tcp-address=127.0.0.1:{tcp}", f"--http-address=127.0.0.1:{http}",
            "--broadcast-address=127.0.0.1",
        ]
        managed = _spawn("nsqlookupd", args, workdir)
        wait_for_http(f"http://127.0.0.1:{http}/ping", 15, managed.process)
        return cls(managed, f"127.0.0.1:{tcp}", f"127.0.0.1:{http}")


@dataclass
class FerretDB:
    """FerretDB, a MongoDB wire-protocol server that stores each database as an SQLite file in `data_dir`."""

    managed: Managed
    address: str
    data_dir: Path

    @classmethod
    def start(cls, workdir: Path, name: str = "ferretdb") -> FerretDB:
        port = free_port()
        data_dir = workdir / f"{name}-data"
        # FerretDB stops at start-up when the SQLite directory does not exist.
        data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(tool("ferretdb")), "--handler=sqlite", f"--sqlite-url=file:{data_dir}/",
            f"--listen-addr=127.0.0.1:{port}", f"--state-dir={data_dir}", "--debug-addr=-",
            # Without this flag FerretDB sends usage reports to its vendor.
            "--telemetry=disable",
        ]
        managed = _spawn(name, args, workdir)
        try:
            wait_for_tcp(f"127.0.0.1:{port}", 15, managed.process)
        except (RuntimeError, TimeoutError) as error:
            managed.stop()
            raise RuntimeError(f"{error}\n--- {managed.log_path} ---\n{managed.log_tail()}") from None
        return cls(managed, f"127.0.0.1:{port}", data_dir)

    def database_url(self, database: str) -> str:
        """Return the `--database-url` of `database` on this server."""
        return f"mongodb://{self.address}/{database}"


@dataclass
class RefService:
    """The Go reference task service from interop/refservice."""

    managed: Managed
    url: str

    @classmethod
    def start(
        cls, workdir: Path, nsqd_tcp_address: str, name: str, tasks: int = 20, id_prefix: str = "sy-hn",
        heartbeat_interval: str = "1s", extra_args: list[str] | None = None, port: int | None = None,
    ) -> RefService:
        port = port or free_port()
        url = f"http://127.0.0.1:{port}/rpost/task"
        args = [
            str(tool("taskdash-refservice")), f"--nsqd-tcp-address={nsqd_tcp_address}",
            f"--listen=127.0.0.1:{port}", f"--name={name}", f"--tasks={tasks}", f"--id-prefix={id_prefix}",
            f"--heartbeat-interval={heartbeat_interval}", *(extra_args or []),
        ]
        managed = _spawn(name, args, workdir)
        wait_for_http(url, 15, managed.process)
        return cls(managed, url)


@dataclass
class TaskDashServer:
    """`taskdash serve` as its own process, as users run it."""

    managed: Managed
    base_url: str
    serve_args: list[str]
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, workdir: Path, args: list[str], env: dict[str, str] | None = None, port: int | None = None,
              name: str = "taskdash") -> TaskDashServer:
        port = port or free_port()
        full_args = [str(TASKDASH_BIN), "serve", "--host", "127.0.0.1", "--port", str(port), *args]
        env = {"TASKDASH_LOG_FORMAT": "json", **(env or {})}
        managed = _spawn(name, full_args, workdir, env)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{base_url}/healthz", 30, managed.process)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}\n--- {managed.log_path} ---\n{managed.log_tail()}") from None
        return cls(managed, base_url, list(args), env)

    def client(self, timeout: float = 30) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=timeout)

    @contextlib.contextmanager
    def login(self, username: str, password: str, timeout: float = 30) -> Iterator[httpx.Client]:
        """Log in as `username` and yield a client with the session cookie and CSRF token. Raise RuntimeError if the login fails."""
        with self.client(timeout) as client:
            response = client.post("/api/v1/session", json={"username": username, "password": password})
            if response.status_code != 200:
                raise RuntimeError(f"login of {username!r} failed: HTTP {response.status_code} {response.text}")
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
            yield client

    def restart(self, workdir: Path) -> TaskDashServer:
        """Start the same command again on the same port, after a stop or a kill."""
        port = int(self.base_url.rsplit(":", 1)[1])
        return TaskDashServer.start(workdir, self.serve_args, self.env, port=port, name=self.managed.name)


def add_user(database_url: str, name: str, password: str, roles: list[str], groups: tuple[str, ...] = ()) -> None:
    args = [str(TASKDASH_BIN), "user", "add", name, "--password-stdin", "--database-url", database_url]
    for role in roles:
        args += ["--role", role]
    for group in groups:
        args += ["--group", group]
    subprocess.run(args, input=password + "\n", text=True, check=True, capture_output=True,
                   env={**os.environ, "TASKDASH_LOG_FORMAT": "json"})


def all_services(client: httpx.Client, page_size: int = 500) -> dict[str, dict[str, Any]]:
    """Return every service of `GET /api/v1/services` by URL, reading page after page."""
    services: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        answer = client.get("/api/v1/services", params={"limit": page_size, "offset": offset})
        answer.raise_for_status()
        page = answer.json()
        services.update((service["url"], service) for service in page["services"])
        offset += page_size
        if offset >= page["total"]:
            return services
