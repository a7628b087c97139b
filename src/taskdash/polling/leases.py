"""Poll leases: which instance polls which service, when several instances share a store.

Time is cut into terms of `lease_seconds`. An instance may poll a service
during a term when it holds that term's lease, a row (service URL, term,
owner) that only the first insert creates. An insert is atomic on SQLite,
MongoDB and FerretDB alike, so exactly one instance gets each term.

The holder of the current term requests the next one half a term before it
starts. The other instances request it only once it has started. So a live
holder keeps its services, and the services of an instance that died move
to a live one within one term. One store call per refresh makes all the
requests of an instance.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from taskdash.store.protocol import Repository

log = structlog.get_logger("taskdash.polling")

# Terms older than this many are deleted from the store.
KEPT_TERMS = 2


class PollLeases:
    def __init__(self, store: Repository, owner: str, lease_seconds: float) -> None:
        self._store = store
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._held: set[tuple[str, int]] = set()
        # Requests already made, so a lost request is not repeated every refresh.
        self._requested: set[tuple[str, int]] = set()
        self._purged_before = 0

    def term(self, now: float) -> int:
        return int(now // self.lease_seconds)

    def holds(self, url: str, now: float) -> bool:
        """Return whether this instance may poll `url` now."""
        return (url, self.term(now)) in self._held

    async def refresh(self, urls: Iterable[str], now: float) -> None:
        """Request the leases this instance should try for now, and forget past terms."""
        term = self.term(now)
        renew = now >= (term + 1) * self.lease_seconds - self.lease_seconds / 2
        wanted = []
        for url in urls:
            current = (url, term)
            if current in self._held:
                if renew and (url, term + 1) not in self._requested:
                    wanted.append((url, term + 1))
            elif current not in self._requested:
                wanted.append(current)
        if wanted:
            self._requested.update(wanted)
            granted = await self._store.claim_poll_terms(self.owner, wanted)
            self._held.update(granted)
            lost = len(wanted) - len(granted)
            log.debug("poll_leases_requested", requested=len(wanted), granted=len(granted), lost=lost, term=term)

        if term - KEPT_TERMS > self._purged_before:
            self._purged_before = term - KEPT_TERMS
            self._held = {lease for lease in self._held if lease[1] >= term}
            self._requested = {lease for lease in self._requested if lease[1] >= term}
            await self._store.delete_poll_terms_before(self._purged_before)
