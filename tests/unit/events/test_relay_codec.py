"""The NSQ body of a relayed change event."""

from __future__ import annotations

import pytest

from taskdash.events.bus import TASK, Event
from taskdash.events.nsq_relay import decode, encode


def test_round_trip() -> None:
    event = Event(3, TASK, {"task_id": "t1", "status": "running"}, 1_700_000_000.5)

    assert decode(encode("a1b2", event)) == ("a1b2", TASK, {"task_id": "t1", "status": "running"})


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"origin": "a", "kind": "task"}', "object data"),
        (b'{"origin": 7, "kind": "task", "data": {}}', "string origin"),
    ],
)
def test_unreadable_body_rejected(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode(body)
