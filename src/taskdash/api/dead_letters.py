"""REST route listing dead letters, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from taskdash.api.deps import AdminUser, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["dead letters"])


class DeadLetterOut(BaseModel):
    id: int
    topic: str
    source: str
    body: str
    body_is_utf8: bool
    reason: str
    received_at: float


class DeadLetterPage(BaseModel):
    dead_letters: list[DeadLetterOut]
    next_before_id: int | None


@router.get("/dead-letters", summary="List messages that could not be processed, newest first")
async def list_dead_letters(
    runtime: RuntimeDep,
    admin: AdminUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> DeadLetterPage:
    letters = await runtime.store.list_dead_letters(limit, before_id)
    items = []
    for letter in letters:
        try:
            body, is_utf8 = letter.body.decode("utf-8"), True
        except UnicodeDecodeError:
            body, is_utf8 = letter.body.hex(), False
        assert letter.id is not None
        items.append(
            DeadLetterOut(
                id=letter.id, topic=letter.topic, source=letter.source, body=body, body_is_utf8=is_utf8,
                reason=letter.reason, received_at=letter.received_at,
            )
        )
    next_before = items[-1].id if len(items) == limit else None
    return DeadLetterPage(dead_letters=items, next_before_id=next_before)
