"""Store backends behind the repository protocol."""

from __future__ import annotations

from taskdash.store.protocol import Repository

MONGODB_SCHEMES = ("mongodb://", "mongodb+srv://")


async def open_store(database_url: str) -> Repository:
    """Open the backend that `database_url` names and bring its schema or indexes up to date."""
    if database_url.startswith("sqlite:///"):
        from taskdash.store.sqlite.repository import SQLiteRepository

        return await SQLiteRepository.open(database_url)
    if database_url.startswith(MONGODB_SCHEMES):
        from taskdash.store.mongo.repository import MongoRepository

        return await MongoRepository.open(database_url)
    raise ValueError(
        f"unsupported --database-url {database_url!r}: use sqlite:///PATH or mongodb://HOST[:PORT]/DATABASE"
    )
