"""`make run`: a complete local TaskDash on loopback.

Starts nsqd, TaskDash and three Go reference task services, prints the
addresses and waits for Ctrl-C, which stops everything. On the first run
TaskDash creates the `admin` account with a password passed in
TASKDASH_ADMIN_PASSWORD, and this script prints it once. Data lives in
`./data/local/`.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time

from devtools.procs import ROOT, Managed, Nsqd, RefService, TaskDashServer, port_in_use

WORKDIR = ROOT / "data" / "local"
PORT = int(os.environ.get("TASKDASH_PORT", "8600"))
SERVICES = (("annotation-a", "sy-hn"), ("annotation-b", "sy-pd"), ("annotation-c", "sy-qa"))
SERVICE_PORT_OFFSETS = (11, 12, 13)
ADMIN_MARKER = WORKDIR / "admin-created"


def main() -> int:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{WORKDIR / 'taskdash.db'}"
    ports = [PORT] + [PORT + offset for offset in SERVICE_PORT_OFFSETS]
    busy = [port for port in ports if port_in_use(port)]
    if busy:
        print(
            f"port {', '.join(map(str, busy))} on 127.0.0.1 is in use: stop the program using it, "
            "or choose another base port, for example TASKDASH_PORT=8700 make run",
            file=sys.stderr,
        )
        return 1

    started: list[Managed] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # A shell without job control starts background jobs with SIGINT ignored; Ctrl-C must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run(database_url, started)
    except KeyboardInterrupt:
        print("\nstopping ...")
        return 0
    except (RuntimeError, TimeoutError, FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"make run failed: {error}", file=sys.stderr)
        return 1
    finally:
        for managed in reversed(started):
            managed.stop()


def run(database_url: str, started: list[Managed]) -> int:
    nsqd = Nsqd.start(WORKDIR)
    started.append(nsqd.managed)
    # TaskDash uses this password only when its store has no users, that is on the first run.
    password = secrets.token_urlsafe(12)
    server = TaskDashServer.start(
        WORKDIR,
        ["--database-url", database_url, "--nsqd-tcp-address", nsqd.tcp_address, "--poll-interval", "5"],
        env={"TASKDASH_LOG_FORMAT": "console", "TASKDASH_ADMIN_PASSWORD": password},
        port=PORT,
    )
    started.append(server.managed)
    # Fixed ports keep the service URLs, and so the catalogue, the same from one run to the next.
    for offset, (name, prefix) in zip(SERVICE_PORT_OFFSETS, SERVICES):
        service = RefService.start(WORKDIR, nsqd.tcp_address, name, tasks=20, id_prefix=prefix, port=PORT + offset)
        started.append(service.managed)

    # The marker is written only once everything runs, so a failed start never swallows the password.
    if ADMIN_MARKER.exists() or not admin_password_works(server, password):
        password = ""
    else:
        ADMIN_MARKER.write_text("admin\n")

    print()
    print(f"TaskDash is running: {server.base_url}/")
    print(f"  API docs           {server.base_url}/api/docs")
    print(f"  legacy endpoint    {server.base_url}/rpost/task")
    print(f"  nsqd               tcp {nsqd.tcp_address}, http {nsqd.http_address}")
    print(f"  task services      {', '.join(str(PORT + offset) for offset in SERVICE_PORT_OFFSETS)}")
    print(f"  database           {database_url}")
    print(f"  logs and data      {WORKDIR}")
    if password:
        print(f"  admin password     {password}   (shown once; user name: admin)")
    else:
        print(
            "  admin account      created on an earlier run; delete data/local to start afresh, or set a new\n"
            "                     password: .venv/bin/taskdash user passwd admin --password-stdin "
            f"--database-url {database_url}"
        )
    print("Press Ctrl-C to stop.")
    sys.stdout.flush()

    while all(managed.process.poll() is None for managed in started):
        time.sleep(1)
    failed = next(managed for managed in started if managed.process.poll() is not None)
    print(f"{failed.name} exited with code {failed.process.returncode}; log: {failed.log_path}", file=sys.stderr)
    print(failed.log_tail(), file=sys.stderr)
    return 1


def admin_password_works(server: TaskDashServer, password: str) -> bool:
    """Return whether `admin` logs in with `password`, that is whether this run's server created the account."""
    try:
        with server.login("admin", password):
            return True
    except RuntimeError:
        return False


if __name__ == "__main__":
    sys.exit(main())
