"""Users, sessions and groups in the MongoDB store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from taskdash.errors import InvalidRequest, UserNotFound
from taskdash.store.mongo import documents as docs
from taskdash.store.mongo.operations import store_operation
from taskdash.store.records import Session, User


class AccountMethods:
    """Repository methods on the `user`, `group` and `session` collections, inherited by MongoRepository."""

    _db: AsyncDatabase
    # Held around every update of a `user` or `group` document (see MongoRepository).
    _account_writes: asyncio.Lock

    @store_operation("write")
    async def add_user(self, user: User) -> None:
        async with self._account_writes:
            try:
                await self._db[docs.USER].insert_one(docs.user_document(user))
            except DuplicateKeyError:
                raise InvalidRequest(f"user {user.username!r} already exists: choose another username") from None
            await self._refresh_groups(set(user.groups))

    @store_operation("read")
    async def get_user(self, username: str) -> User | None:
        document = await self._db[docs.USER].find_one({"_id": username})
        return None if document is None else docs.user_from_document(document)

    @store_operation("read")
    async def list_users(self) -> list[User]:
        documents = await self._db[docs.USER].find().sort("_id", 1).to_list()
        return [docs.user_from_document(document) for document in documents]

    @store_operation("write")
    async def add_session(self, session: Session) -> None:
        await self._db[docs.SESSION].insert_one(docs.session_document(session))

    @store_operation("read")
    async def get_session(self, token_hash: str) -> Session | None:
        document = await self._db[docs.SESSION].find_one({"_id": token_hash})
        return None if document is None else docs.session_from_document(document)

    @store_operation("write")
    async def delete_session(self, token_hash: str) -> None:
        await self._db[docs.SESSION].delete_one({"_id": token_hash})

    @store_operation("write")
    async def delete_expired_sessions(self, now: float) -> int:
        return (await self._db[docs.SESSION].delete_many({"expires_at": {"$lte": now}})).deleted_count

    @store_operation("write")
    async def update_user(
        self,
        username: str,
        *,
        display_name: str | None = None,
        roles: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> User:
        changes: dict[str, Any] = {}
        if display_name is not None:
            changes["display_name"] = display_name
        if roles is not None:
            changes["roles"] = sorted(set(roles))
        if groups is not None:
            changes["groups"] = sorted(set(groups))
        if disabled is not None:
            changes["disabled"] = disabled
        if password_hash is not None:
            changes["password_hash"] = password_hash

        async with self._account_writes:
            before = await self._db[docs.USER].find_one({"_id": username})
            if before is None:
                raise UserNotFound(f"user {username!r} not found: check the username with `taskdash user list`")
            if changes:
                await self._db[docs.USER].update_one({"_id": username}, {"$set": changes})
            after = await self._db[docs.USER].find_one({"_id": username})
            if after is None:
                raise UserNotFound(f"user {username!r} not found: check the username with `taskdash user list`")
            if groups is not None:
                await self._refresh_groups(set(before["groups"]) | set(after["groups"]))
        return docs.user_from_document(after)

    async def _refresh_groups(self, names: set[str]) -> None:
        """Rewrite the `group` mirror of each named group from the users that belong to it."""
        for name in sorted(names):
            cursor = self._db[docs.USER].find({"groups": name}, {"_id": 1})
            members = sorted(document["_id"] for document in await cursor.to_list())
            if members:
                await self._db[docs.GROUP].replace_one({"_id": name}, {"members": members}, upsert=True)
            else:
                await self._db[docs.GROUP].delete_one({"_id": name})

    @store_operation("write")
    async def delete_sessions_of(self, username: str) -> int:
        return (await self._db[docs.SESSION].delete_many({"username": username})).deleted_count

    @store_operation("read")
    async def list_groups(self) -> dict[str, list[str]]:
        # Read from the users rather than the `group` mirror, so the result never lags a change.
        cursor = self._db[docs.USER].find({}, {"groups": 1}).sort("_id", 1)
        groups: dict[str, list[str]] = {}
        for document in await cursor.to_list():
            for group in document["groups"]:
                groups.setdefault(group, []).append(document["_id"])
        return dict(sorted(groups.items()))

