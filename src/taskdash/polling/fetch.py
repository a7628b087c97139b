"""Fetching one service's task list over HTTP, with a timeout and a size limit."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from taskdash.metadata.parsing import InvalidTaskList, ParsedTaskList, parse_task_list

# The form body that the original deployment's task services accept.
POST_FORM = {"operation": "GetAllTasks", "increment": "0"}


class PollError(Exception):
    """Raised for any failure of one poll; the message is stored on the service."""


async def check_allowed(url: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> None:
    """Raise PollError unless every address of the URL's host is inside `networks` (empty allows all)."""
    if not networks:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 80, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise PollError(f"resolving {host!r} failed: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not any(address in network for network in networks):
            raise PollError(f"address {address} of {host!r} is outside --allowed-service-networks")


async def fetch_task_list(client: httpx.AsyncClient, url: str, method: str, timeout: float, max_bytes: int) -> ParsedTaskList:
    """Request the task list from the service at `url` and parse the response."""
    if method == "post":
        request = client.build_request("POST", url, data=POST_FORM, timeout=timeout)
    else:
        request = client.build_request("GET", url, timeout=timeout)

    try:
        async with asyncio.timeout(timeout):
            response = await client.send(request, stream=True)
            try:
                if not response.is_success:
                    raise PollError(f"{method.upper()} {url} responded with HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise PollError(f"response of {declared} bytes is over the limit of {max_bytes} bytes")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise PollError(f"response is over the limit of {max_bytes} bytes")
            finally:
                await response.aclose()
    except TimeoutError:
        raise PollError(f"{method.upper()} {url} timed out after {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise PollError(f"{method.upper()} {url} failed: {type(error).__name__}: {error}") from None

    try:
        return parse_task_list(bytes(body))
    except InvalidTaskList as error:
        raise PollError(f"invalid task list from {url}: {error}") from None
