"""CSV exports of the REST API's lists, for spreadsheet programs.

`encoding` writes the cells and rows that every export shares, `response`
streams them, and `tasks` defines the columns of the task export. The other
lists define their columns next to their routes. The task export route
calls `header()` and `task_rows()` under the names exported here, so
`header()` is the task header; other exports call `header_with_bom(columns)`.
"""

from taskdash.api.csv_export.encoding import (
    FORMULA_PREFIXES,
    UTF8_BOM,
    flag,
    header_with_bom,
    iso_utc,
    optional_iso_utc,
    rows,
    safe_cell,
)
from taskdash.api.csv_export.response import CSV_MEDIA_TYPE, CSV_RESPONSES, csv_response, table_chunks
from taskdash.api.csv_export.tasks import COLUMNS, header, task_rows

__all__ = [
    "COLUMNS",
    "CSV_MEDIA_TYPE",
    "CSV_RESPONSES",
    "FORMULA_PREFIXES",
    "UTF8_BOM",
    "csv_response",
    "flag",
    "header",
    "header_with_bom",
    "iso_utc",
    "optional_iso_utc",
    "rows",
    "safe_cell",
    "table_chunks",
    "task_rows",
]
