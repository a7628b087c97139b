"""End to end: two `taskdash serve` instances sharing one FerretDB and one nsqd.

Every fixture of tests/e2e that takes `database_url` (the admin, the editors
and `start_taskdash`) uses this module's FerretDB database instead of SQLite.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from pymongo import MongoClient

from devtools.procs import FerretDB, Nsqd, TaskDashServer, all_services, wait_until
from tests.e2e.test_event_stream import next_task_event, open_stream, unclaimed

pytestmark = pytest.mark.e2e

LEASE_SECONDS = 4.0
POLL_INTERVAL = 1.0


@pytest.fixture
def database_url(ferretdb: FerretDB) -> Iterator[str]:
    name = f"taskdash_e2e_{uuid.uuid4().hex[:12]}"
    url = ferretdb.database_url(name)
    yield url
    with MongoClient(url, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


def start_pair(start_taskdash, nsqd: Nsqd, *args: str) -> tuple[TaskDashServer, TaskDashServer]:
    flags = ["--poll-lease-seconds", str(LEASE_SECONDS), *args]
    return start_taskdash(nsqd, *flags), start_taskdash(nsqd, *flags)


def test_claims_through_both_unique(nsqd: Nsqd, make_editors, start_taskdash, start_refservice) -> None:
    editors = make_editors(20)
    first, second = start_pair(start_taskdash, nsqd)
    start_refservice(nsqd, "contended", "sy-pair", tasks=100)

    with ExitStack() as stack:
        clients = [
            stack.enter_context((first if index % 2 else second).login(*account))
            for index, account in enumerate(editors)
        ]
        task_ids = unclaimed(first, clients[0], 100)
        barrier = threading.Barrier(len(clients), timeout=60)

        def claim_all(index: int) -> list[tuple[str, int, int]]:
            # Each client walks the tasks from its own starting point, so claims collide on both instances.
            order = task_ids[index * 5:] + task_ids[:index * 5]
            barrier.wait()
            results = []
            for task_id in order[:30]:
                response = clients[index].post(f"/api/v1/tasks/{task_id}/claim")
                errid = 0 if response.status_code == 200 else response.json()["errid"]
                results.append((task_id, response.status_code, errid))
            return results

        with ThreadPoolExecutor(len(clients)) as pool:
            outcomes = [result for results in pool.map(claim_all, range(len(clients))) for result in results]

    wins = Counter(task_id for task_id, status, _ in outcomes if status == 200)
    losses = {(status, errid) for _, status, errid in outcomes if status != 200}
    assert wins, "no claim succeeded"
    assert max(wins.values()) == 1
    assert losses <= {(409, 1006)}


def test_killed_instance_services_move(nsqd: Nsqd, start_taskdash, start_refservice, admin) -> None:
    doomed, survivor = start_pair(start_taskdash, nsqd, "--poll-interval", str(POLL_INTERVAL))
    services = [start_refservice(nsqd, f"leased-{n}", f"sy-lease{n}", tasks=2) for n in range(4)]
    urls = {service.url for service in services}

    with survivor.login(*admin) as client:
        wait_until(lambda: polled_after(client, urls, 0.0), 60, "every service polled")
        doomed.managed.kill()
        killed_at = time.time()
        moved_at = wait_until(
            lambda: time.time() if polled_after(client, urls, killed_at) else None, 60,
            "every service polled again after the kill",
        )

    # A killed instance's leases end with their term, and the survivor takes them at the next term's start.
    assert moved_at - killed_at < 2 * LEASE_SECONDS + POLL_INTERVAL + 2


def polled_after(client: httpx.Client, urls: set[str], moment: float) -> bool:
    services = all_services(client)
    return all(((services.get(url) or {}).get("last_poll_at") or 0.0) > moment for url in urls)


def test_claim_on_b_reaches_stream_on_a(nsqd: Nsqd, make_editors, start_taskdash, start_refservice) -> None:
    (claimer, claimer_password), (watcher, watcher_password) = make_editors(2)
    instance_a, instance_b = start_pair(start_taskdash, nsqd)
    start_refservice(nsqd, "watched", "sy-pair-events", tasks=3)

    with instance_b.login(claimer, claimer_password) as on_b, instance_a.login(watcher, watcher_password) as on_a:
        task_id = unclaimed(instance_a, on_a, 3)[0]
        with open_stream(on_a) as events:
            on_b.post(f"/api/v1/tasks/{task_id}/claim").raise_for_status()
            event = next_task_event(events, task_id, timeout=20)

    assert event.data["user"] == claimer
