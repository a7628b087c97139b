"""Structured logging with structlog: JSON lines in production, readable lines on a terminal."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

import orjson
import structlog


class _NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that keeps the name given to `structlog.get_logger`, for the `logger` field of each line."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


def _json_dumps(event: dict[str, Any], **_: Any) -> str:
    # Values that JSON cannot represent (paths, exceptions) are written as their repr, as structlog's default does.
    try:
        return orjson.dumps(event, default=repr).decode()
    except TypeError:
        # orjson rejects some values before calling `default`: ints beyond 64 bits, non-string keys and
        # strings with lone surrogates. The standard library writes them all, more slowly.
        return json.dumps(event, default=repr)


def configure_logging(log_format: str = "auto", level: str = "info") -> None:
    """Send TaskDash's structlog events and the standard library's records (uvicorn, pynsq) to stderr in one format.

    TaskDash's own events go from structlog straight to stderr: passing them
    through the standard library's logging costs about 30 us per line, which
    counts on paths that log every request, such as claims.
    """
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    stream = sys.stderr

    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_dumps)
        if use_json else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        logger_factory=lambda *args: _NamedWriteLogger(stream, str(args[0]) if args else ""),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=True,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        # format_exc_info renders the traceback of a record logged with exc_info, such as uvicorn's
        # "Exception in ASGI application".
        foreign_pre_chain=[*shared, structlog.processors.format_exc_info],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)

    # pynsq logs every connection event at INFO; keep its warnings and errors only.
    logging.getLogger("nsq").setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request at INFO; the poller logs its own outcome per poll.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
