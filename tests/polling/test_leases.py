"""Poll leases between instances, against a real SQLite store."""

from __future__ import annotations

from taskdash.polling.leases import PollLeases
from taskdash.store.sqlite.repository import SQLiteRepository

URLS = [f"http://127.0.0.1:900{n}/rpost/s" for n in range(3)]
LEASE = 10.0
T0 = 1_700_000_000.0  # the start of a term


async def test_single_instance_holds_all(store: SQLiteRepository) -> None:
    leases = PollLeases(store, "a", LEASE)

    await leases.refresh(URLS, T0 + 1)

    assert all(leases.holds(url, T0 + 1) for url in URLS)


async def test_second_instance_holds_none(store: SQLiteRepository) -> None:
    first, second = PollLeases(store, "a", LEASE), PollLeases(store, "b", LEASE)

    await first.refresh(URLS, T0 + 1)
    await second.refresh(URLS, T0 + 1)

    assert not any(second.holds(url, T0 + 1) for url in URLS)


async def test_holder_renews_before_others(store: SQLiteRepository) -> None:
    first, second = PollLeases(store, "a", LEASE), PollLeases(store, "b", LEASE)
    await first.refresh(URLS, T0 + 1)

    await first.refresh(URLS, T0 + 6)
    await second.refresh(URLS, T0 + LEASE + 0.1)
    await first.refresh(URLS, T0 + LEASE + 0.2)

    assert all(first.holds(url, T0 + LEASE + 0.2) for url in URLS)
    assert not any(second.holds(url, T0 + LEASE + 0.1) for url in URLS)


async def test_silent_holder_loses_next_term(store: SQLiteRepository) -> None:
    first, second = PollLeases(store, "a", LEASE), PollLeases(store, "b", LEASE)
    await first.refresh(URLS, T0 + 1)
    await second.refresh(URLS, T0 + 1)

    # The first instance stops refreshing, as a killed instance does.
    await second.refresh(URLS, T0 + LEASE + 0.5)

    assert all(second.holds(url, T0 + LEASE + 0.5) for url in URLS)
    assert not first.holds(URLS[0], T0 + LEASE + 0.5)


async def test_lease_ends_with_term(store: SQLiteRepository) -> None:
    leases = PollLeases(store, "a", LEASE)

    await leases.refresh(URLS, T0 + 1)

    assert not leases.holds(URLS[0], T0 + LEASE + 1)


async def test_new_service_leased_at_once(store: SQLiteRepository) -> None:
    leases = PollLeases(store, "a", LEASE)
    await leases.refresh(URLS[:1], T0 + 1)

    await leases.refresh(URLS, T0 + 2)

    assert leases.holds(URLS[2], T0 + 2)


async def test_old_terms_purged(store: SQLiteRepository) -> None:
    leases = PollLeases(store, "a", LEASE)
    await leases.refresh(URLS, T0 + 1)

    await leases.refresh(URLS, T0 + 4 * LEASE)

    other = PollLeases(store, "b", LEASE)
    assert await store.claim_poll_terms("b", [(URLS[0], other.term(T0 + 1))]) == {(URLS[0], other.term(T0 + 1))}
