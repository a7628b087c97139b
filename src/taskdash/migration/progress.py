"""Progress of `taskdash migrate` on standard error: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import IO, Any

import click

from taskdash.store.transfer import Kind

# Seconds between two plain progress lines of one kind; the first and the last line are always written.
LINE_INTERVAL = 5.0


class BarProgress:
    """One click progress bar per kind, for a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._bar: Any = None

    def start(self, kind: Kind, total: int, copied: int) -> None:
        self._bar = click.progressbar(
            length=max(total, copied), label=f"{kind.value:<13}", file=self._stream, show_pos=True, show_eta=True
        )
        self._bar.__enter__()
        if copied:
            self._bar.update(copied)

    def advance(self, count: int) -> None:
        self._bar.update(count)

    def finish(self, complete: bool) -> None:
        self._bar.__exit__(None, None, None)
        self._bar = None


class LineProgress:
    """Plain lines such as `tasks: 2000/5000 (40%)`, for logs and pipes, at most one per LINE_INTERVAL per kind."""

    def __init__(self, stream: IO[str], interval: float = LINE_INTERVAL) -> None:
        self._stream = stream
        self._interval = interval
        self._kind = ""
        self._total = 0
        self._copied = 0
        self._last_line_at = 0.0

    def start(self, kind: Kind, total: int, copied: int) -> None:
        self._kind, self._total, self._copied = kind.value, total, copied
        resumed = f", resuming after {copied}" if copied else ""
        self._write(f"{self._kind}: copying {total} records{resumed}")

    def advance(self, count: int) -> None:
        self._copied += count
        if time.monotonic() - self._last_line_at >= self._interval:
            self._write(self._position())

    def finish(self, complete: bool) -> None:
        self._write(f"{self._position()} {'done' if complete else 'stopped'}")

    def _position(self) -> str:
        percent = 100 * self._copied // self._total if self._total else 100
        return f"{self._kind}: {self._copied}/{self._total} ({percent}%)"

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()
        self._last_line_at = time.monotonic()


def progress_for(stream: IO[str]) -> BarProgress | LineProgress:
    """Return a progress bar when `stream` is a terminal, and plain lines otherwise."""
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)
