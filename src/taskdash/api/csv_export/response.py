"""Streamed CSV responses: the response class, its OpenAPI description, and lazy chunking of in-memory lists."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from typing import Any, TypeVar

from fastapi.responses import StreamingResponse

from taskdash.api.csv_export.encoding import header_with_bom, rows

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

# The 200 response of every export in the OpenAPI document. Errors keep the API's JSON error body,
# because every export checks the session, the role and the filters before its first byte.
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a byte order mark"},
}

# Rows per chunk when a list is in memory: one send per chunk instead of one per row.
ROWS_PER_CHUNK = 500

Record = TypeVar("Record")


def csv_response(chunks: AsyncIterable[str], filename: str) -> StreamingResponse:
    """Stream `chunks` of CSV text as a UTF-8 attachment named `filename` (ASCII, without quotes)."""

    async def body() -> AsyncIterator[bytes]:
        async for chunk in chunks:
            yield chunk.encode()

    return StreamingResponse(
        body(), media_type=CSV_MEDIA_TYPE, headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


async def table_chunks(
    columns: Sequence[str], records: Iterable[Record], to_row: Callable[[Record], Sequence[str]]
) -> AsyncIterator[str]:
    """Yield the header, then the rows of `records`, ROWS_PER_CHUNK at a time, each built when the client reads it."""
    yield header_with_bom(columns)

    batch: list[Sequence[str]] = []
    for record in records:
        batch.append(to_row(record))
        if len(batch) == ROWS_PER_CHUNK:
            yield rows(batch)
            batch = []
    if batch:
        yield rows(batch)
