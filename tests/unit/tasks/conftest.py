"""The workflow tests run on every store backend: the `store` fixture here overrides the SQLite-only one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from taskdash.store import open_store
from taskdash.store.protocol import Repository
from tests.backends import BACKENDS, backend_database_url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    yield from backend_database_url(request, tmp_path)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Repository]:
    repository = await open_store(store_url)
    yield repository
    await repository.close()
