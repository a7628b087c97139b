"""Poll leases in the MongoDB store: one `poll_lease` document per service and term."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase

from taskdash.store.mongo import documents as docs
from taskdash.store.mongo.operations import insert_new, store_operation


class LeaseMethods:
    """Repository methods on the `poll_lease` collection, inherited by MongoRepository.

    A lease's `_id` is "TERM:URL", so only the first insert for a service and
    term succeeds. That holds on FerretDB too, whose updates are not atomic.
    """

    _db: AsyncDatabase

    @store_operation("write")
    async def claim_poll_terms(self, owner: str, terms: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        if not terms:
            return set()
        leases = self._db[docs.POLL_LEASE]
        await insert_new(leases, [
            {"_id": f"{term}:{url}", "service_url": url, "term": term, "owner": owner} for url, term in terms
        ])
        wanted = set(terms)
        held = leases.find(
            {"term": {"$in": sorted({term for _, term in terms})}, "owner": owner}, {"service_url": 1, "term": 1}
        )
        found = {(document["service_url"], document["term"]) for document in await held.to_list()}
        return found & wanted

    @store_operation("write")
    async def delete_poll_terms_before(self, term: int) -> int:
        result = await self._db[docs.POLL_LEASE].delete_many({"term": {"$lt": term}})
        return result.deleted_count
