"""Poll leases in the repository contract: first claim wins a (service, term), on every backend."""

from __future__ import annotations

import asyncio

from taskdash.store.protocol import Repository
from tests.store.conftest import OpenClients
from tests.store.test_concurrency_contract import CLIENTS

URL_A = "http://127.0.0.1:8001/rpost/a"
URL_B = "http://127.0.0.1:8002/rpost/b"


async def test_free_terms_granted(store: Repository) -> None:
    granted = await store.claim_poll_terms("one", [(URL_A, 7), (URL_B, 7), (URL_A, 8)])

    assert granted == {(URL_A, 7), (URL_B, 7), (URL_A, 8)}


async def test_taken_term_refused(store: Repository) -> None:
    await store.claim_poll_terms("one", [(URL_A, 7)])

    granted = await store.claim_poll_terms("two", [(URL_A, 7), (URL_B, 7)])

    assert granted == {(URL_B, 7)}


async def test_own_term_granted_again(store: Repository) -> None:
    await store.claim_poll_terms("one", [(URL_A, 7)])

    assert await store.claim_poll_terms("one", [(URL_A, 7)]) == {(URL_A, 7)}


async def test_only_requested_terms_returned(store: Repository) -> None:
    await store.claim_poll_terms("one", [(URL_A, 7), (URL_B, 7)])

    assert await store.claim_poll_terms("one", [(URL_A, 7)]) == {(URL_A, 7)}


async def test_empty_request_grants_nothing(store: Repository) -> None:
    assert await store.claim_poll_terms("one", []) == set()


async def test_old_terms_deleted(store: Repository) -> None:
    await store.claim_poll_terms("one", [(URL_A, 5), (URL_A, 6), (URL_A, 7)])

    deleted = await store.delete_poll_terms_before(7)

    assert deleted == 2
    assert await store.claim_poll_terms("two", [(URL_A, 5), (URL_A, 7)]) == {(URL_A, 5)}


async def test_concurrent_claims_one_owner(store: Repository, open_clients: OpenClients) -> None:
    clients = await open_clients(CLIENTS)

    results = await asyncio.gather(
        *(client.claim_poll_terms(f"instance{i}", [(URL_A, 9)]) for i, client in enumerate(clients))
    )

    assert sum(1 for granted in results if granted == {(URL_A, 9)}) == 1
    assert sum(1 for granted in results if granted == set()) == CLIENTS - 1
