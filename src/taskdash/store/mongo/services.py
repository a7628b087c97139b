"""Task services, intake batches and dead letters in the MongoDB store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from taskdash.errors import StoreWriteFailed
from taskdash.store.mongo import documents as docs
from taskdash.store.mongo.intake import IntakeBatch, StoredTimes
from taskdash.store.mongo.operations import bulk_write_chunked, duplicate_indexes, insert_new, store_operation
from taskdash.store.mongo.server import ServerTraits, id_filter
from taskdash.store.records import DeadLetter, Heartbeat, Registration, ServiceRecord

# Attempts to insert dead letters whose ids other instances keep taking.
MAX_ID_ATTEMPTS = 10


class ServiceMethods:
    """Repository methods on the `service` and `dead_letter` collections, inherited by MongoRepository."""

    _db: AsyncDatabase
    # Held around every update of a `service` document (see MongoRepository).
    _service_writes: asyncio.Lock
    _server: ServerTraits

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
        batch = IntakeBatch.of(registrations, heartbeats)
        if batch.first_seen:
            async with self._service_writes:
                await self._store_services(batch)
        if dead_letters:
            await self._insert_dead_letters(dead_letters)

    async def _store_services(self, batch: IntakeBatch) -> None:
        """Insert the batch's new services whole and update the stored ones (see taskdash.store.mongo.intake).

        New services are inserted rather than upserted: an upsert that races
        another instance's insert fails with a duplicate key error, which
        FerretDB 1.24 reports in a form that pymongo 4.20 cannot read inside a
        bulk write.
        """
        collection = self._db[docs.SERVICE]
        stored = await self._stored_times(list(batch.first_seen))
        new_urls = [url for url in batch.first_seen if url not in stored]
        inserted_elsewhere = await insert_new(collection, batch.new_documents(new_urls))
        # Another instance inserted these URLs since they were read: update them as stored ones.
        if inserted_elsewhere:
            stored.update(await self._stored_times([new_urls[index] for index in sorted(inserted_elsewhere)]))

        if self._server.check_conditions_here:
            updates = batch.checked_updates(stored)
        else:
            updates = batch.conditional_updates(list(stored))
        if updates:
            await bulk_write_chunked(collection, updates, ordered=True)

    async def _stored_times(self, urls: list[str]) -> dict[str, StoredTimes]:
        """Return the registration and heartbeat times of those of `urls` that are stored."""
        cursor = self._db[docs.SERVICE].find(id_filter(urls), {"registered_at": 1, "last_heartbeat_at": 1})
        return {
            document["_id"]: StoredTimes(document.get("registered_at"), document.get("last_heartbeat_at"))
            for document in await cursor.to_list()
        }

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
