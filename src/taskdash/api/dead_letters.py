"""REST routes listing dead letters and exporting them as CSV, for admins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from taskdash.api import csv_export
from taskdash.api.deps import AdminUser, RuntimeDep
from taskdash.errors import TaskDashError
from taskdash.store.records import DeadLetter

log = structlog.get_logger("taskdash.api")

router = APIRouter(prefix="/api/v1", tags=["dead letters"])

# Dead letters per store read of the export. The export keeps one such page in memory at a time.
EXPORT_PAGE_SIZE = 500

CSV_COLUMNS = ("id", "received_at", "topic", "source", "reason", "body_is_utf8", "body")


class DeadLetterOut(BaseModel):
    id: int
    topic: str
    source: str
    body: str = Field(description="The raw body as text, or as hexadecimal when it is not UTF-8")
    body_is_utf8: bool
    reason: str
    received_at: float


class DeadLetterPage(BaseModel):
    dead_letters: list[DeadLetterOut]
    next_before_id: int | None


def dead_letter_out(letter: DeadLetter) -> DeadLetterOut:
    try:
        body, is_utf8 = letter.body.decode("utf-8"), True
    except UnicodeDecodeError:
        body, is_utf8 = letter.body.hex(), False
    assert letter.id is not None
    return DeadLetterOut(
        id=letter.id, topic=letter.topic, source=letter.source, body=body, body_is_utf8=is_utf8,
        reason=letter.reason, received_at=letter.received_at,
    )


def dead_letter_rows(letters: list[DeadLetter]) -> str:
    """Return the CSV rows of `letters`, in the order of CSV_COLUMNS."""
    cells = []
    for letter in letters:
        out = dead_letter_out(letter)
        cells.append((
            str(out.id), csv_export.iso_utc(out.received_at), csv_export.safe_cell(out.topic),
            csv_export.safe_cell(out.source), csv_export.safe_cell(out.reason), csv_export.flag(out.body_is_utf8),
            csv_export.safe_cell(out.body),
        ))
    return csv_export.rows(cells)


@router.get("/dead-letters", summary="List messages that could not be processed, newest first")
async def list_dead_letters(
    runtime: RuntimeDep,
    admin: AdminUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> DeadLetterPage:
    letters = await runtime.store.list_dead_letters(limit, before_id)
    items = [dead_letter_out(letter) for letter in letters]
    next_before = items[-1].id if len(items) == limit else None
    return DeadLetterPage(dead_letters=items, next_before_id=next_before)


@router.get(
    "/dead-letters/export.csv",
    summary="Export every dead letter as CSV, newest first",
    description="Columns: " + ", ".join(CSV_COLUMNS) + ". `body` is the raw body as text, or as hexadecimal "
    "when `body_is_utf8` is false. Dead letters stored after the export starts are left out.",
    response_class=StreamingResponse,
    responses=csv_export.CSV_RESPONSES,
)
async def export_dead_letters(runtime: RuntimeDep, admin: AdminUser) -> StreamingResponse:
    store = runtime.store
    # The first page is read before the response starts, so a failed read still gets its HTTP status.
    # A failure on a later page can only cut the download short.
    first = await store.list_dead_letters(EXPORT_PAGE_SIZE)

    async def chunks() -> AsyncIterator[str]:
        yield csv_export.header_with_bom(CSV_COLUMNS) + dead_letter_rows(first)
        page = first
        try:
            # Each page starts below the smallest id of the one before, so the loop ends after at most
            # (dead letters / EXPORT_PAGE_SIZE) + 1 reads, and letters stored meanwhile, with higher ids, stay out.
            while len(page) == EXPORT_PAGE_SIZE:
                page = await store.list_dead_letters(EXPORT_PAGE_SIZE, page[-1].id)
                yield dead_letter_rows(page)
        except TaskDashError as error:
            log.error("dead_letter_export_failed", user=admin.username, errid=int(error.errid), reason=error.detail)
            raise

    return csv_export.csv_response(chunks(), "dead-letters.csv")
