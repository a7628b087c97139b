"""The committed OpenAPI document, from which the web dashboard's client types are generated, matches the app."""

from __future__ import annotations

import json
from pathlib import Path

from taskdash.openapi import render_document

COMMITTED_DOCUMENT = Path(__file__).resolve().parents[2] / "web" / "openapi.json"
FIX = "run `make openapi` and commit web/openapi.json and web/src/api/schema.d.ts"


def test_committed_document_matches_app() -> None:
    assert COMMITTED_DOCUMENT.exists(), f"{COMMITTED_DOCUMENT} is missing: {FIX}"
    committed = COMMITTED_DOCUMENT.read_text(encoding="utf-8")
    current = render_document()

    paths_changed = sorted(set(json.loads(current)["paths"]) ^ set(json.loads(committed)["paths"]))
    assert not paths_changed, f"{COMMITTED_DOCUMENT} lacks or still has paths {paths_changed}: {FIX}"
    assert committed == current, f"{COMMITTED_DOCUMENT} is out of date with the app's models or routes: {FIX}"


def test_document_is_sorted_json() -> None:
    document = render_document()

    assert document.endswith("}\n")
    assert json.dumps(json.loads(document), sort_keys=True, indent=2, ensure_ascii=False) + "\n" == document
