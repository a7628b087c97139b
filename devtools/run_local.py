"""`make run`: a complete local TaskDash on loopback.

Starts nsqd, TaskDash and three Go reference task services, creates an
`admin` account (its password is printed once), prints the addresses and
waits for Ctrl-C, which stops everything. Data lives in `./data/local/`.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time

from devtools.procs import ROOT, Managed, Nsqd, RefService, TaskDashServer, add_user

WORKDIR = ROOT / "data" / "local"
PORT = int(os.environ.get("TASKDASH_PORT", "8600"))
SERVICES = (("annotation-a", "sy-hn"), ("annotation-b", "sy-pd"), ("annotation-c", "sy-qa"))


def main() -> int:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{WORKDIR / 'taskdash.db'}"
    started: list[Managed] = []

    def stop_all(*_: object) -> None:
        for managed in reversed(started):
            managed.stop()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        nsqd = Nsqd.start(WORKDIR)
        started.append(nsqd.managed)

        password = ""
        if not (WORKDIR / "admin-created").exists():
            password = secrets.token_urlsafe(12)
            add_user(database_url, "admin", password, ["admin"], ("default",))
            (WORKDIR / "admin-created").write_text("admin\n")

        server = TaskDashServer.start(
            WORKDIR,
            ["--database-url", database_url, "--nsqd-tcp-address", nsqd.tcp_address, "--poll-interval", "5"],
            env={"TASKDASH_LOG_FORMAT": "console"},
            port=PORT,
        )
        started.append(server.managed)
        # Fixed ports keep the service URLs, and so the catalogue, the same from one run to the next.
        for offset, (name, prefix) in enumerate(SERVICES, start=11):
            service = RefService.start(WORKDIR, nsqd.tcp_address, name, tasks=20, id_prefix=prefix, port=PORT + offset)
            started.append(service.managed)

        print()
        print(f"TaskDash is running: {server.base_url}/")
        print(f"  API docs           {server.base_url}/api/docs")
        print(f"  legacy endpoint    {server.base_url}/rpost/task")
        print(f"  nsqd               tcp {nsqd.tcp_address}, http {nsqd.http_address}")
        print(f"  logs and data      {WORKDIR}")
        if password:
            print(f"  admin password     {password}   (shown once; user name: admin)")
        else:
            print("  admin account      created on an earlier run; delete data/local to start afresh")
        print("Press Ctrl-C to stop.")
        sys.stdout.flush()

        while all(managed.process.poll() is None for managed in started):
            time.sleep(1)
        failed = next(managed for managed in started if managed.process.poll() is not None)
        print(f"{failed.name} exited with code {failed.process.returncode}; log: {failed.log_path}", file=sys.stderr)
        print(failed.log_tail(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...")
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
