"""Task services, intake batches and dead letters in the MongoDB store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import orjson
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from taskdash.errors import StoreWriteFailed
from taskdash.store.mongo import documents as docs
from taskdash.store.mongo.operations import bulk_write_chunked, duplicate_indexes, insert_new, store_operation
from taskdash.store.records import DeadLetter, Heartbeat, Registration, ServiceRecord

# Attempts to insert dead letters whose ids other instances keep taking.
MAX_ID_ATTEMPTS = 10


class ServiceMethods:
    """Repository methods on the `service` and `dead_letter` collections, inherited by MongoRepository."""

    _db: AsyncDatabase
    # Held around every update of a `service` document (see MongoRepository).
    _service_writes: asyncio.Lock

    @store_operation("write")
    async def apply_intake_batch(
        self,
        registrations: Sequence[Registration],
        heartbeats: Sequence[Heartbeat],
        dead_letters: Sequence[DeadLetter],
    ) -> None:
        """Store one intake batch: services first, then dead letters.

        The batch is not atomic. Registrations and heartbeats are idempotent, so
        a batch repeated after a failure changes nothing twice.
        NOTE: a failure while the dead letters are being inserted stores the
        first of them, and the repeated batch stores those again.
        """
        async with self._service_writes:
            await self._create_unknown_services(registrations, heartbeats)
            updates = [self._registration_update(registration) for registration in registrations]
            updates += [self._heartbeat_update(heartbeat) for heartbeat in heartbeats]
            if updates:
                await bulk_write_chunked(self._db[docs.SERVICE], updates, ordered=True)
        if dead_letters:
            await self._insert_dead_letters(dead_letters)

    async def _create_unknown_services(
        self, registrations: Sequence[Registration], heartbeats: Sequence[Heartbeat]
    ) -> None:
        """Insert a blank document for each URL not stored yet, so that the updates that follow never upsert.

        An upsert whose filter does not match an existing document fails with a
        duplicate key error, which FerretDB 1.24 reports in a form that pymongo
        4.20 cannot read inside a bulk write.
        """
        first_seen: dict[str, float] = {}
        for registration in registrations:
            first_seen.setdefault(registration.url, registration.seen_at)
        for heartbeat in heartbeats:
            first_seen.setdefault(heartbeat.url, heartbeat.seen_at)
        if not first_seen:
            return
        cursor = self._db[docs.SERVICE].find({"_id": {"$in": list(first_seen)}}, {"_id": 1})
        stored = {document["_id"] for document in await cursor.to_list()}
        new = [docs.new_service_document(url, at) for url, at in first_seen.items() if url not in stored]
        # Another instance may insert the same URL meanwhile; its document is as good as this one.
        await insert_new(self._db[docs.SERVICE], new)

    @staticmethod
    def _registration_update(registration: Registration) -> UpdateOne:
        # An older registration than the stored one matches nothing.
        return UpdateOne(
            {
                "_id": registration.url,
                "$or": [{"registered_at": None}, {"registered_at": {"$lte": registration.seen_at}}],
            },
            {
                "$set": {
                    "name": registration.name, "type": registration.type, "reserved": registration.reserved,
                    "extra": orjson.dumps(registration.extra).decode(), "registered": True,
                    "registered_at": registration.seen_at,
                }
            },
        )

    @staticmethod
    def _heartbeat_update(heartbeat: Heartbeat) -> UpdateOne:
        # An older heartbeat than the stored one matches nothing, so `last_heartbeat_at` never moves backwards.
        return UpdateOne(
            {
                "_id": heartbeat.url,
                "$or": [{"last_heartbeat_at": None}, {"last_heartbeat_at": {"$lte": heartbeat.seen_at}}],
            },
            {
                "$set": {
                    "last_heartbeat_at": heartbeat.seen_at, "last_heartbeat_received_at": heartbeat.received_at,
                    "last_sender_time": heartbeat.sender_time,
                }
            },
        )

    async def _insert_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Insert dead letters under the ids that follow the largest stored one.

        Ids stay small integers, as SQLite's are, because clients page with them.
        Another instance taking the same ids makes the insert stop at the first
        duplicate; the rest are retried under new ids.
        """
        pending = list(letters)
        for _ in range(MAX_ID_ATTEMPTS):
            newest = await self._db[docs.DEAD_LETTER].find_one({}, {"_id": 1}, sort=[("_id", -1)])
            first_id = (newest["_id"] if newest else 0) + 1
            documents = [docs.dead_letter_document(letter, first_id + offset) for offset, letter in enumerate(pending)]
            try:
                await self._db[docs.DEAD_LETTER].insert_many(documents, ordered=True)
                return
            except BulkWriteError as error:
                duplicate_indexes(error)
                pending = pending[error.details["nInserted"]:]
        raise StoreWriteFailed(
            f"storing {len(pending)} dead letters failed: other writers took their ids {MAX_ID_ATTEMPTS} times; "
            "retry the batch"
        )

    @store_operation("read")
    async def list_services(self, include_archived: bool = False) -> list[ServiceRecord]:
        service_filter = {} if include_archived else {"archived": False}
        services = await self._db[docs.SERVICE].find(service_filter).sort("_id", 1).to_list()
        counts = await (
            await self._db[docs.MANAGEMENT].aggregate(
                [{"$match": {"missing": False}}, {"$group": {"_id": "$service_url", "count": {"$sum": 1}}}]
            )
        ).to_list()
        task_counts = {row["_id"]: row["count"] for row in counts}
        return [docs.service_from_document(document, task_counts.get(document["_id"], 0)) for document in services]

    @store_operation("read")
    async def heartbeat_times(self) -> dict[str, float | None]:
        cursor = self._db[docs.SERVICE].find({"archived": False}, {"last_heartbeat_at": 1})
        return {document["_id"]: document["last_heartbeat_at"] for document in await cursor.to_list()}

    @store_operation("write")
    async def record_poll(self, url: str, at: float, ok: bool, error: str, failures: int) -> None:
        async with self._service_writes:
            await self._db[docs.SERVICE].update_one(
                {"_id": url},
                {"$set": {"last_poll_at": at, "last_poll_ok": ok, "last_poll_error": error, "poll_failures": failures}},
            )

    @store_operation("read")
    async def list_dead_letters(self, limit: int, before_id: int | None = None) -> list[DeadLetter]:
        letter_filter = {} if before_id is None else {"_id": {"$lt": before_id}}
        cursor = self._db[docs.DEAD_LETTER].find(letter_filter).sort("_id", -1).limit(limit)
        return [docs.dead_letter_from_document(document) for document in await cursor.to_list()]
