"""JSON encoding that matches Go's encoding/json byte for byte.

The original endpoint was a Go program, so its responses came from
`json.Marshal`: compact, keys in struct order, non-ASCII text as raw UTF-8,
and `<`, `>`, `&`, U+2028 and U+2029 escaped as `\\u003c`, `\\u003e`,
`\\u0026`, `\\u2028` and `\\u2029`. orjson produces the same compact form
otherwise; those five characters can only occur inside JSON strings, so
replacing their bytes afterwards is safe.
"""

from __future__ import annotations

from typing import Any

import orjson

_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def go_json(value: Any) -> bytes:
    """Encode `value` as Go's json.Marshal would; dict key order is kept."""
    encoded = orjson.dumps(value)
    for raw, escaped in _GO_ESCAPES:
        if raw in encoded:
            encoded = encoded.replace(raw, escaped)
    return encoded


def rows_as_objects(keys: tuple[str, ...], rows: list[tuple]) -> bytes:
    """Encode rows of string values as a JSON array of objects with `keys` in that order."""
    return go_json([dict(zip(keys, row)) for row in rows])
