"""The store backends a scenario runs on: a SQLite file, or a database on a FerretDB started for the scenario.

FerretDB 1.24.2 (built by `make tools`) speaks the MongoDB wire protocol and
keeps each database in an SQLite file, so TaskDash runs on it with its
MongoDB store, the one that production runs against MongoDB. It is the only
MongoDB-wire server the benchmarks start, and numbers on a real MongoDB
would differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from devtools.procs import FerretDB
from taskdash.store import open_store
from taskdash.store.records import TaskQuery, TaskRecord

SQLITE = "sqlite"
FERRETDB = "ferretdb"
BACKENDS = (SQLITE, FERRETDB)
LABELS = {SQLITE: "SQLite", FERRETDB: "FerretDB"}
PREFILL_BATCH = 10_000
# pymongo's socket timeout in the FerretDB URLs, in ms; TaskDash's default is 30 s. One read of 100,000
# documents takes FerretDB 1.24.2 20 to 30 s on a shared 2-core machine, so with the default a task
# list over them can time out, and the server then returns HTTP 503 instead of the list.
FERRETDB_SOCKET_TIMEOUT_MS = 300_000


@dataclass(slots=True)
class BenchStore:
    """An empty store for one scenario, and how the report shows its `--database-url`."""

    backend: str
    database_url: str
    # The FerretDB process, whose CPU time and memory are not part of TaskDash's, or None on SQLite.
    ferretdb_pid: int | None

    @property
    def label(self) -> str:
        return LABELS[self.backend]

    def shown_url(self, placeholder: str) -> str:
        """Return the `--database-url` for the report, with `placeholder` in place of the path or the address."""
        if self.backend == SQLITE:
            return f"sqlite:///{placeholder}.db"
        return f"mongodb://FERRETDB/{placeholder}?socketTimeoutMS={FERRETDB_SOCKET_TIMEOUT_MS}"


@contextlib.contextmanager
def fresh_store(backend: str, workdir: Path, name: str) -> Iterator[BenchStore]:
    """Yield an empty store named `name` in `workdir`: the file `name`.db, or database `name` on a new FerretDB.

    The FerretDB stops when the block ends. Its data stays in `workdir`, like
    the SQLite file, for inspection after the run.
    """
    if backend not in LABELS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    workdir.mkdir(parents=True, exist_ok=True)
    if backend == SQLITE:
        yield BenchStore(SQLITE, f"sqlite:///{workdir / f'{name}.db'}", None)
        return

    server = FerretDB.start(workdir, name=f"ferretdb-{name}")
    try:
        url = f"{server.database_url(name)}?socketTimeoutMS={FERRETDB_SOCKET_TIMEOUT_MS}"
        yield BenchStore(FERRETDB, url, server.managed.process.pid)
    finally:
        server.managed.stop()


async def _insert_tasks(database_url: str, tasks: Iterable[TaskRecord], batch: int) -> int:
    store = await open_store(database_url)
    try:
        inserted = 0
        iterator = iter(tasks)
        while chunk := list(islice(iterator, batch)):
            skipped = await store.insert_tasks(chunk, [])
            if skipped:
                raise RuntimeError(
                    f"prefill of {database_url} failed: {len(skipped)} task ids are taken already, the first"
                    f" {skipped[0]!r}; prefill an empty store"
                )
            inserted += len(chunk)

        stored = await store.count_tasks(TaskQuery())
        if stored != inserted:
            raise RuntimeError(
                f"prefill of {database_url} failed: it inserted {inserted} tasks, but the store counts {stored};"
                " prefill an empty store"
            )
        return inserted
    finally:
        await store.close()


def prefill_tasks(database_url: str, tasks: Iterable[TaskRecord], batch: int = PREFILL_BATCH) -> float:
    """Insert `tasks` into an empty store before the server starts, and return the seconds it took.

    The tasks go through the repository's `insert_tasks`, so they are stored
    exactly as the server stores them. On MongoDB that means one `insert_many`
    into `management` and one into `metadata` per batch, and opening the store
    creates the indexes that the server creates at start. Raise RuntimeError
    when the store does not count exactly the inserted tasks afterwards.
    """
    started = time.monotonic()
    asyncio.run(_insert_tasks(database_url, tasks, batch))
    return time.monotonic() - started
