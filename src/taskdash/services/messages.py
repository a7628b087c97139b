"""Parsing of registration and heartbeat bodies, shared by the NSQ and HTTP intake.

Lenient on form, strict on meaning: `type`, `reserved` and `time` may be
missing, numbers are accepted where the original sends strings, and unknown
registration fields are kept as extras. A body that can never mean anything
(not JSON, not an object, wrong types, no usable `url`, too large) raises
InvalidMessage, whose text becomes the dead letter's reason.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from typing import Any
from urllib.parse import urlsplit

import httpx
import idna
import orjson

from taskdash.store.records import Heartbeat, Registration

MAX_URL_LENGTH = 2048
MAX_FIELD_LENGTH = 4096
# Unix seconds of 9999-12-31T23:59:59Z; a later sender time is a bug, not a clock skew.
MAX_SENDER_TIME = 253_402_300_799
REGISTRATION_FIELDS = ("url", "name", "type", "reserved")


class InvalidMessage(ValueError):
    """Raised for a body that no retry can make valid."""


def _load_object(body: bytes, max_bytes: int) -> dict[str, Any]:
    if len(body) > max_bytes:
        raise InvalidMessage(f"body of {len(body)} bytes is over the limit of {max_bytes} bytes")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidMessage(f"body is not valid UTF-8 JSON: {error}") from None
    if not isinstance(value, dict):
        raise InvalidMessage(f"body is a JSON {type(value).__name__}, expected an object")
    return value


def check_service_url(value: Any) -> str:
    """Return `value` if it is an absolute http(s) URL with a host, else raise InvalidMessage."""
    if value is None:
        raise InvalidMessage("field 'url' is missing")
    if not isinstance(value, str):
        raise InvalidMessage(f"field 'url' is a {type(value).__name__}, expected a string")
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidMessage(f"field 'url' is {len(url)} characters long, the limit is {MAX_URL_LENGTH}")
    problem = _url_problem(url)
    if problem:
        raise InvalidMessage(problem)
    return url


MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

# A fleet sends the same few thousand URLs again and again, and checking one costs tens of
# microseconds, so the results are cached. The cache keeps at most 16,384 URLs.
@functools.lru_cache(maxsize=16384)
def _url_problem(url: str) -> str:
    """Return why `url` cannot identify a service, or "" when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as error:
        return f"field 'url' {url!r} is not a valid URL: {error}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"field 'url' {url!r} is not an absolute http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "field 'url' contains credentials; they would be shown to every user, remove them"
    try:
        # The poller must be able to connect: no control characters, and a host that IDNA encodes.
        httpx.URL(url)
        if not _is_ip_address(parts.hostname):
            _check_host_encoding(parts.hostname)
    except (httpx.InvalidURL, UnicodeError) as error:
        return f"field 'url' {url!r} is not a valid URL: {error}"
    return ""


def _check_host_encoding(host: str) -> None:
    """Raise UnicodeError for a host the resolver cannot encode; plain ASCII names such as `task_service` pass."""
    if not host.isascii():
        idna.encode(host, uts46=True)
        return
    # DNS limits (RFC 1035): 63 octets per label and 253 for the name without its trailing dot.
    name = host.removesuffix(".")
    if len(name) > MAX_HOST_LENGTH:
        raise UnicodeError(f"the host name is {len(name)} characters long, the limit is {MAX_HOST_LENGTH}")
    for label in name.split("."):
        if len(label) > MAX_LABEL_LENGTH:
            raise UnicodeError(
                f"a host label is {len(label)} characters long, the limit is {MAX_LABEL_LENGTH}"
            )
        if label.lower().startswith("xn--"):
            idna.decode(label)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def encode_extra(extra: dict[str, Any], what: str) -> dict[str, Any]:
    """Return `extra` if it can be stored as JSON, else raise InvalidMessage naming `what`."""
    try:
        orjson.dumps(extra)
    except (TypeError, orjson.JSONEncodeError) as error:
        raise InvalidMessage(f"{what} cannot be stored as JSON: {error}") from None
    return extra


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidMessage(f"field {key!r} is a {type(value).__name__}, expected a string")
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_FIELD_LENGTH:
        raise InvalidMessage(f"field {key!r} is {len(text)} characters long, the limit is {MAX_FIELD_LENGTH}")
    return text


def _sender_time(body: dict[str, Any]) -> float | None:
    value = body.get("time")
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidMessage("field 'time' is a boolean, expected Unix seconds")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidMessage(f"field 'time' {value!r} is not a number of Unix seconds") from None
    if not isinstance(value, (int, float)):
        raise InvalidMessage(f"field 'time' is a {type(value).__name__}, expected Unix seconds")
    if not math.isfinite(value) or value < 0:
        raise InvalidMessage(f"field 'time' {value!r} is not a valid Unix time")
    # Some senders use milliseconds; anything past year 5138 in seconds is read as milliseconds.
    seconds = value / 1000 if value > 1e11 else float(value)
    if seconds > MAX_SENDER_TIME:
        raise InvalidMessage(f"field 'time' {value!r} is after the year 9999; send Unix seconds")
    return seconds


def parse_registration(body: bytes, seen_at: float, max_bytes: int) -> Registration:
    """Parse a `taskService` body into a Registration seen at server time `seen_at`."""
    document = _load_object(body, max_bytes)
    extra = {key: value for key, value in document.items() if key not in REGISTRATION_FIELDS}
    return Registration(
        url=check_service_url(document.get("url")),
        name=_text(document, "name"),
        type=_text(document, "type"),
        reserved=_text(document, "reserved"),
        extra=encode_extra(extra, "the extra registration fields"),
        seen_at=seen_at,
    )


def parse_heartbeat(body: bytes, seen_at: float, max_bytes: int, received_at: float | None = None) -> Heartbeat:
    """Parse a `heartBeat` body into a Heartbeat seen at server time `seen_at`, received at `received_at`.

    The sender's `time` is kept only to show clock skew; liveness uses `seen_at`.
    """
    document = _load_object(body, max_bytes)
    return Heartbeat(
        url=check_service_url(document.get("url")), seen_at=seen_at, sender_time=_sender_time(document),
        received_at=seen_at if received_at is None else received_at,
    )
