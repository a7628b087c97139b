"""CSV cells and rows as every export writes them: UTF-8 with a byte order mark, RFC 4180, formula-safe."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

# Excel detects UTF-8 only from this byte order mark; without it, Chinese text opens garbled.
UTF8_BOM = "\ufeff"

# A spreadsheet evaluates a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Return `value` with a leading single quote if a spreadsheet would read it as a formula.

    Apply it to text only: numbers that the server formats, such as a negative clock skew, are data.
    """
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def iso_utc(timestamp: float) -> str:
    """Return Unix time `timestamp` as ISO 8601 in UTC, to the second."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def optional_iso_utc(timestamp: float | None) -> str:
    """Return `timestamp` as iso_utc does, or an empty cell for None."""
    return "" if timestamp is None else iso_utc(timestamp)


def flag(value: bool | None) -> str:
    """Return `true` or `false`, as in the JSON of the same list, or an empty cell for None."""
    if value is None:
        return ""
    return "true" if value else "false"


def header_with_bom(columns: Sequence[str]) -> str:
    """Return the byte order mark and the header row: the start of every export."""
    return UTF8_BOM + rows([columns])


def rows(values: Iterable[Iterable[str]]) -> str:
    """Return `values` as CSV rows. The cells must already be text, formula-safe where they are free text."""
    buffer = io.StringIO()
    # RFC 4180 line ends; the csv module quotes cells that contain commas, quotes or line breaks.
    csv.writer(buffer, lineterminator="\r\n").writerows(values)
    return buffer.getvalue()
