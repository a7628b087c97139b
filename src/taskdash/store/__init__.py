"""Store backends behind the repository protocol."""

from __future__ import annotations

from taskdash.store.protocol import Repository


async def open_store(database_url: str) -> Repository:
    """Open the backend that `database_url` names and bring its schema up to date."""
    if database_url.startswith("sqlite:///"):
        from taskdash.store.sqlite.repository import SQLiteRepository

        return await SQLiteRepository.open(database_url)
    # NOTE: the MongoDB backend is not built yet; until it is, mongodb:// URLs stop the start-up here.
    raise ValueError(f"unsupported --database-url {database_url!r}: this build supports sqlite:///PATH only")
