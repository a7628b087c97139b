"""Store backends behind the repository protocol."""

from __future__ import annotations

import sqlite3

from taskdash.errors import InvalidDatabaseUrl, StoreReadFailed, StoreUnavailable, StoreWriteFailed
from taskdash.store.protocol import Repository

MONGODB_SCHEMES = ("mongodb://", "mongodb+srv://")


def redact_url(url: str) -> str:
    """Return `url` without its user and password, for logs and error messages.

    Only an `@` before the path ends the user and password, so an `@` in the
    database name or the options stays as it is.
    """
    scheme, separator, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    if not separator or "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{tail}"


async def open_store(database_url: str) -> Repository:
    """Open the backend that `database_url` names and bring its schema or indexes up to date.

    Raises InvalidDatabaseUrl for a URL that names no usable store, and
    StoreUnavailable when the store cannot be opened or reached. Both messages
    name the URL, without its password, and the change that fixes it.
    """
    if database_url.startswith("sqlite:///"):
        return await _open_sqlite(database_url)
    if database_url.startswith(MONGODB_SCHEMES):
        return await _open_mongo(database_url)
    raise InvalidDatabaseUrl(
        f"unsupported --database-url {redact_url(database_url)!r}: "
        "use sqlite:///PATH or mongodb://HOST[:PORT]/DATABASE"
    )


async def _open_sqlite(database_url: str) -> Repository:
    from taskdash.store.sqlite.repository import SQLiteRepository
    from taskdash.store.sqlite.schema import SchemaTooNew

    try:
        return await SQLiteRepository.open(database_url)
    except ValueError as error:
        raise InvalidDatabaseUrl(str(error)) from None
    except SchemaTooNew as error:
        raise StoreUnavailable(
            f"opening the SQLite database of --database-url {database_url!r} failed: {error}, or pass the URL "
            "of another database file"
        ) from None
    except (sqlite3.Error, OSError) as error:
        # sqlite3.DatabaseError "file is not a database" for a file of another format, OSError when the
        # database's folder cannot be created, OperationalError when the file cannot be opened.
        raise StoreUnavailable(
            f"opening the SQLite database of --database-url {database_url!r} failed: {error}; "
            "pass the URL of a TaskDash database file, or of a new file in a folder that this user may write"
        ) from error


async def _open_mongo(database_url: str) -> Repository:
    from taskdash.store.mongo.repository import MongoRepository

    try:
        return await MongoRepository.open(database_url)
    except ValueError as error:
        raise InvalidDatabaseUrl(str(error)) from None
    except (StoreReadFailed, StoreWriteFailed) as error:
        # Reading the server's build information and creating the indexes are the first requests to the
        # server, so this is where an unreachable server or a failed login shows.
        raise StoreUnavailable(
            f"opening the MongoDB store of --database-url {redact_url(database_url)!r} failed: {error.detail}; "
            "check that the server runs and accepts connections at that address, and the user and password"
        ) from error
