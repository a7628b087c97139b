"""Print the REST API's OpenAPI document, the source of the web dashboard's typed client.

Run `python -m taskdash.openapi > web/openapi.json` (`make openapi` also
regenerates `web/src/api/schema.d.ts`). Only the routes are read: the
runtime, its store and NSQ readers start in the app's lifespan, which never
runs here.
"""

from __future__ import annotations

import json
import sys

from taskdash.app import create_app
from taskdash.config import Settings


def render_document() -> str:
    """Return the OpenAPI document as JSON with sorted keys, two-space indents and a final newline."""
    document = create_app(Settings()).openapi()
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    # Bytes, so the output is UTF-8 whatever locale the shell has.
    sys.stdout.buffer.write(render_document().encode())


if __name__ == "__main__":
    main()
