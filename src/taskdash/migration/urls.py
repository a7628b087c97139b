"""Store URLs as `taskdash migrate` takes them: validation, identity and a form safe to show."""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

EXPECTED_FORMS = "sqlite:///PATH or mongodb://HOST:PORT/DATABASE"
MONGODB_DEFAULT_PORT = 27017

# `scheme://user:password@`: the password ends at the last `@` before the path.
_CREDENTIALS = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@:]*):(?P<password>[^/]*)@")


def mask_password(url: str) -> str:
    """Return `url` with the password of its `user:password@` part, if any, replaced by `***`."""
    return _CREDENTIALS.sub(lambda match: f"{match['scheme']}{match['user']}:***@", url, count=1)


def _shown(value: str) -> str:
    """Return `value` for an error message: the password masked, and options left out, since some carry secrets."""
    address, separator, _ = value.partition("?")
    return mask_password(address) + ("?…" if separator else "")


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """A validated store URL."""

    # As given, for the driver.
    url: str
    # "sqlite" or "mongodb".
    backend: str
    # The store the URL names, without credentials and options: the absolute path of an SQLite file,
    # or the hosts and database of a MongoDB deployment. Two spellings of one URL have the same identity.
    identity: str
    # The URL with its password masked and its options left out, for logs and messages.
    display: str

    @property
    def sqlite_path(self) -> Path:
        return Path(self.identity.removeprefix("sqlite:///"))


def parse_store_url(value: str, option: str) -> StoreUrl:
    """Validate the store URL given in `option` (for example `--from`); raise ValueError naming it otherwise."""
    if value.startswith("sqlite:///"):
        path = value.removeprefix("sqlite:///")
        if not path:
            raise ValueError(f"invalid {option} {value!r}: the path is empty; expected {EXPECTED_FORMS}")
        return StoreUrl(value, "sqlite", "sqlite:///" + str(Path(path).resolve()), value)

    scheme, separator, rest = value.partition("://")
    if separator and scheme in ("mongodb", "mongodb+srv"):
        return _parse_mongodb(value, scheme, option)

    raise ValueError(f"invalid {option} {_shown(value)!r}: expected {EXPECTED_FORMS}")


def _parse_mongodb(value: str, scheme: str, option: str) -> StoreUrl:
    parts = urllib.parse.urlsplit(value)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    database = parts.path.removeprefix("/") or "taskdash"
    if not hosts:
        raise ValueError(f"invalid {option} {_shown(value)!r}: the host is missing; expected {EXPECTED_FORMS}")
    if "/" in database:
        raise ValueError(
            f"invalid {option} {_shown(value)!r}: {database!r} is not a database name; expected {EXPECTED_FORMS}"
        )

    # The identity sorts the hosts of a replica set and adds the default port, so that spellings of one
    # deployment compare equal. A mongodb+srv:// URL names a DNS record, which has no port.
    names = []
    for host in hosts.lower().split(","):
        # The port follows the last `]`, which closes an IPv6 address.
        if scheme == "mongodb" and ":" not in host.rpartition("]")[2]:
            host = f"{host}:{MONGODB_DEFAULT_PORT}"
        names.append(host)
    identity = f"{scheme}://{','.join(sorted(names))}/{database}"

    masked_userinfo = mask_password(f"{scheme}://{userinfo}@").removeprefix(f"{scheme}://") if userinfo else ""
    display = f"{scheme}://{masked_userinfo}{hosts}/{database}" + ("?…" if parts.query else "")
    return StoreUrl(value, "mongodb", identity, display)


def same_store(first: StoreUrl, second: StoreUrl) -> bool:
    """Return whether two URLs point at one store, including two paths of one SQLite file (links)."""
    if first.identity == second.identity:
        return True
    if first.backend == second.backend == "sqlite":
        try:
            return os.path.samefile(first.sqlite_path, second.sqlite_path)
        except OSError:
            # At least one of the files does not exist yet, so they are not the same file.
            return False
    return False
