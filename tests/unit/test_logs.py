"""JSON log lines of `configure_logging`.

`configure_logging` changes process-wide logging state, so each case runs it
in a child Python process and reads the line it writes to stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

LOG_ONE_EVENT = textwrap.dedent("""
    import structlog
    from taskdash.logs import configure_logging

    configure_logging("json", "info")
    structlog.get_logger("taskdash.test").info("test_event", value={value})
    print("logged")
""")

LOG_STDLIB_EXCEPTION = textwrap.dedent("""
    import logging
    from taskdash.logs import configure_logging

    configure_logging("json", "info")
    try:
        raise KeyError("missing-key")
    except KeyError:
        logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=True)
""")


def last_log_line(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # The standard library's parser, because a lone surrogate is written as a \\ud800 escape.
    return json.loads(result.stderr.splitlines()[-1])


@pytest.mark.parametrize(
    ("value", "written"),
    [
        pytest.param("2**70", 2**70, id="int-beyond-64-bits"),
        pytest.param("{1: 'x'}", {"1": "x"}, id="dict-with-int-key"),
        pytest.param("'\\ud800'", "\ud800", id="lone-surrogate"),
        pytest.param("__import__('pathlib').Path('/a')", "PosixPath('/a')", id="path-as-repr"),
    ],
)
def test_log_value_json_cannot_hold(value: str, written: object) -> None:
    line = last_log_line(LOG_ONE_EVENT.format(value=value))

    assert line["event"] == "test_event"
    assert line["value"] == written
    assert line["logger"] == "taskdash.test"
    assert line["level"] == "info"


def test_stdlib_record_keeps_traceback() -> None:
    line = last_log_line(LOG_STDLIB_EXCEPTION)

    assert line["event"] == "Exception in ASGI application"
    assert line["logger"] == "uvicorn.error"
    assert "Traceback (most recent call last)" in line["exception"]
    assert "KeyError: 'missing-key'" in line["exception"]
