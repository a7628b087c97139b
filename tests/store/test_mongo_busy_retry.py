"""retry_while_busy: a busy FerretDB database is retried, every other error is raised at once."""

from __future__ import annotations

import pytest
from pymongo.errors import OperationFailure

from taskdash.store.mongo import operations
from taskdash.store.mongo.operations import BUSY_ATTEMPTS, retry_while_busy

BUSY = OperationFailure("[collection.go:177 sqlite.(*collection).UpdateAll.func1] database is locked (5) (SQLITE_BUSY)")


class Flaky:
    """An operation that fails with each of `errors` in turn, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operations, "BUSY_FIRST_DELAY", 0.0)


async def test_busy_twice_then_done() -> None:
    operation = Flaky(BUSY, BUSY)

    assert await retry_while_busy(operation, "test") == "done"
    assert operation.calls == 3


async def test_busy_every_time_raises_last() -> None:
    operation = Flaky(*[BUSY] * BUSY_ATTEMPTS)

    with pytest.raises(OperationFailure, match="SQLITE_BUSY"):
        await retry_while_busy(operation, "test")
    assert operation.calls == BUSY_ATTEMPTS


async def test_other_failure_raised_at_once() -> None:
    operation = Flaky(OperationFailure("E11000 duplicate key error"), BUSY)

    with pytest.raises(OperationFailure, match="duplicate key"):
        await retry_while_busy(operation, "test")
    assert operation.calls == 1
