"""Parsing of `taskService` registrations and `heartBeat` heartbeats."""

from __future__ import annotations

import json

import pytest

from taskdash.services.messages import InvalidMessage, parse_heartbeat, parse_registration

SEEN_AT = 1_700_000_000.0
MAX_BYTES = 64 * 1024
URL = "http://localhost:8080/rpost/test"

REGISTRATION_BODY = b'{"url":"http://localhost:8080/rpost/test","name":"abc","type":"2","reserved":"no"}'
HEARTBEAT_BODY = b'{"url":"http://localhost:8080/rpost/test","time":1594885152,"reserved":"no"}'


def test_registration_spec_body() -> None:
    registration = parse_registration(REGISTRATION_BODY, SEEN_AT, MAX_BYTES)

    assert registration.url == URL
    assert registration.name == "abc"
    assert registration.type == "2"
    assert registration.reserved == "no"
    assert registration.extra == {}
    assert registration.seen_at == SEEN_AT


def test_heartbeat_spec_body() -> None:
    heartbeat = parse_heartbeat(HEARTBEAT_BODY, SEEN_AT, MAX_BYTES)

    assert heartbeat.url == URL
    assert heartbeat.sender_time == 1594885152.0
    assert heartbeat.seen_at == SEEN_AT


def test_registration_without_type_and_reserved() -> None:
    registration = parse_registration(b'{"url":"http://localhost:8080/rpost/test","name":"abc"}', SEEN_AT, MAX_BYTES)

    assert registration.type == ""
    assert registration.reserved == ""


def test_registration_numeric_type_becomes_string() -> None:
    registration = parse_registration(b'{"url":"http://localhost:8080/rpost/test","type":2}', SEEN_AT, MAX_BYTES)

    assert registration.type == "2"


def test_registration_keeps_extras() -> None:
    body = b'{"url":"http://localhost:8080/rpost/test","name":"abc","region":"sy","slots":[1,2]}'

    registration = parse_registration(body, SEEN_AT, MAX_BYTES)

    assert registration.extra == {"region": "sy", "slots": [1, 2]}


def test_registration_url_whitespace_stripped() -> None:
    registration = parse_registration(b'{"url":"  https://example.test/rpost  "}', SEEN_AT, MAX_BYTES)

    assert registration.url == "https://example.test/rpost"


def test_heartbeat_without_time() -> None:
    heartbeat = parse_heartbeat(b'{"url":"http://localhost:8080/rpost/test"}', SEEN_AT, MAX_BYTES)

    assert heartbeat.sender_time is None


@pytest.mark.parametrize(
    ("time_json", "expected"),
    [
        ("1594885152", 1594885152.0),
        ("1594885152.25", 1594885152.25),
        ('"1594885152"', 1594885152.0),
        ('" 1594885152.5 "', 1594885152.5),
        ("1594885152000", 1594885152.0),
        ('"1594885152000"', 1594885152.0),
    ],
    ids=["int", "float", "numeric string", "padded string", "milliseconds", "milliseconds string"],
)
def test_heartbeat_time_forms(time_json: str, expected: float) -> None:
    body = f'{{"url":"{URL}","time":{time_json}}}'.encode()

    heartbeat = parse_heartbeat(body, SEEN_AT, MAX_BYTES)

    assert heartbeat.sender_time == pytest.approx(expected)


def test_heartbeat_seen_at_ignores_sender_time() -> None:
    heartbeat = parse_heartbeat(HEARTBEAT_BODY, SEEN_AT, MAX_BYTES)

    assert heartbeat.seen_at != heartbeat.sender_time


# (case id, body, a word that the reason must contain)
POISON_BODIES = [
    ("not json", b"url=http://localhost:8080/rpost/test", "body"),
    ("invalid utf-8", b'{"url":"http://localhost:8080/\xff\xfe"}', "utf-8"),
    ("json array", b'["http://localhost:8080/rpost/test"]', "body"),
    ("json string", b'"http://localhost:8080/rpost/test"', "body"),
    ("empty body", b"", "body"),
    ("url missing", b'{"name":"abc","type":"2"}', "url"),
    ("url null", b'{"url":null}', "url"),
    ("url number", b'{"url":8080}', "url"),
    ("url object", b'{"url":{"host":"localhost"}}', "url"),
    ("url relative", b'{"url":"/rpost/test"}', "url"),
    ("url without scheme", b'{"url":"localhost:8080/rpost/test"}', "url"),
    ("url ftp", b'{"url":"ftp://localhost/rpost/test"}', "url"),
    ("url without host", b'{"url":"http:///rpost/test"}', "url"),
    ("url bad port", b'{"url":"http://localhost:99999/rpost/test"}', "url"),
    ("url too long", ('{"url":"http://localhost/' + "a" * 3000 + '"}').encode(), "url"),
    ("host label too long", ('{"url":"http://' + "a" * 64 + '.example/x"}').encode(), "url"),
    ("host name too long", ('{"url":"http://' + ".".join(["a" * 60] * 5) + '/x"}').encode(), "url"),
]

REGISTRATION_POISON = [
    ("type list", b'{"url":"http://localhost:8080/rpost/test","type":["2"]}', "type"),
    ("type boolean", b'{"url":"http://localhost:8080/rpost/test","type":true}', "type"),
    ("name object", b'{"url":"http://localhost:8080/rpost/test","name":{"zh":"abc"}}', "name"),
    ("reserved too long", ('{"url":"http://localhost/x","reserved":"' + "r" * 5000 + '"}').encode(), "reserved"),
]

HEARTBEAT_POISON = [
    ("time word", b'{"url":"http://localhost:8080/rpost/test","time":"yesterday"}', "time"),
    ("time list", b'{"url":"http://localhost:8080/rpost/test","time":[1594885152]}', "time"),
    ("time boolean", b'{"url":"http://localhost:8080/rpost/test","time":true}', "time"),
    ("time negative", b'{"url":"http://localhost:8080/rpost/test","time":-5}', "time"),
    ("time nan string", b'{"url":"http://localhost:8080/rpost/test","time":"nan"}', "time"),
    ("time infinite string", b'{"url":"http://localhost:8080/rpost/test","time":"inf"}', "time"),
]


def _ids(cases: list[tuple[str, bytes, str]]) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize(("case", "body", "field"), POISON_BODIES + REGISTRATION_POISON, ids=_ids(POISON_BODIES + REGISTRATION_POISON))
def test_registration_poison_raises(case: str, body: bytes, field: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        parse_registration(body, SEEN_AT, MAX_BYTES)

    assert field in str(raised.value).lower()


@pytest.mark.parametrize(("case", "body", "field"), POISON_BODIES + HEARTBEAT_POISON, ids=_ids(POISON_BODIES + HEARTBEAT_POISON))
def test_heartbeat_poison_raises(case: str, body: bytes, field: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        parse_heartbeat(body, SEEN_AT, MAX_BYTES)

    assert field in str(raised.value).lower()


def test_registration_oversized_raises() -> None:
    body = REGISTRATION_BODY[:-1] + b',"pad":"' + b"x" * 300 + b'"}'

    with pytest.raises(InvalidMessage) as raised:
        parse_registration(body, SEEN_AT, max_bytes=256)

    assert "body" in str(raised.value)
    assert "256" in str(raised.value)


def test_heartbeat_oversized_raises() -> None:
    with pytest.raises(InvalidMessage) as raised:
        parse_heartbeat(HEARTBEAT_BODY, SEEN_AT, max_bytes=len(HEARTBEAT_BODY) - 1)

    assert "body" in str(raised.value)


def test_body_at_size_limit_accepted() -> None:
    heartbeat = parse_heartbeat(HEARTBEAT_BODY, SEEN_AT, max_bytes=len(HEARTBEAT_BODY))

    assert heartbeat.url == URL


def test_invalid_message_is_value_error() -> None:
    assert issubclass(InvalidMessage, ValueError)


def test_registration_deeply_nested_extra_rejected() -> None:
    body = b'{"url":"http://127.0.0.1:9/deep","x":' + b"[" * 300 + b"]" * 300 + b"}"

    with pytest.raises(InvalidMessage, match="extra registration fields"):
        parse_registration(body, SEEN_AT, MAX_BYTES)


@pytest.mark.parametrize(
    "url",
    ["http://user:secret@example.test/rpost", "http://127.0.0.1:9/nul\u0000x", "http://xn--/x"],
)
def test_registration_unusable_url_rejected(url: str) -> None:
    body = ('{"url":%s}' % json.dumps(url)).encode()

    with pytest.raises(InvalidMessage, match="'url'"):
        parse_registration(body, SEEN_AT, MAX_BYTES)


def test_heartbeat_time_after_year_9999_rejected() -> None:
    with pytest.raises(InvalidMessage, match="'time'"):
        parse_heartbeat(b'{"url":"http://localhost:8080/rpost/test","time":1e300}', SEEN_AT, MAX_BYTES)


@pytest.mark.parametrize("url", [
    "http://task_service:8080/rpost", "http://bücher.test/rpost", "http://" + "a" * 63 + ".example/x",
    "http://" + ".".join(["a" * 63] * 3) + "." + "b" * 61 + "/x",
])
def test_registration_unusual_hosts_accepted(url: str) -> None:
    body = ('{"url":%s}' % json.dumps(url)).encode()

    assert parse_registration(body, SEEN_AT, MAX_BYTES).url == url
