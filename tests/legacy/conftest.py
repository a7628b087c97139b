"""Fixtures for the legacy endpoint tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture
def service_url() -> Iterator[str]:
    """URL of a task service on a loopback port that this test holds, so no other program can respond on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield f"http://127.0.0.1:{holder.getsockname()[1]}/rpost/test"
