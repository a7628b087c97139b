"""The writes that store one intake batch's registrations and heartbeats in the `service` collection.

A batch becomes an insert of a whole document for each URL not stored yet
and an update for each stored one. Only the newest registration and the
newest heartbeat of each URL matter, because an older one changes nothing
once the newer one is stored. Of two with the same time, the later in the
batch wins, as the SQLite store does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pymongo import UpdateOne

from taskdash.store.mongo import documents as docs
from taskdash.store.records import Heartbeat, Registration


@dataclass(slots=True)
class StoredTimes:
    """The registration and heartbeat times of one stored service, None where it has none yet."""

    registered_at: float | None
    last_heartbeat_at: float | None


@dataclass(slots=True)
class IntakeBatch:
    """The newest registration and heartbeat of each URL in a batch, and when the batch first saw each URL."""

    registrations: dict[str, Registration] = field(default_factory=dict)
    heartbeats: dict[str, Heartbeat] = field(default_factory=dict)
    first_seen: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, registrations: Sequence[Registration], heartbeats: Sequence[Heartbeat]) -> IntakeBatch:
        batch = cls()
        for registration in registrations:
            batch.first_seen.setdefault(registration.url, registration.seen_at)
            newest = batch.registrations.get(registration.url)
            if newest is None or registration.seen_at >= newest.seen_at:
                batch.registrations[registration.url] = registration
        for heartbeat in heartbeats:
            batch.first_seen.setdefault(heartbeat.url, heartbeat.seen_at)
            newest_heartbeat = batch.heartbeats.get(heartbeat.url)
            if newest_heartbeat is None or heartbeat.seen_at >= newest_heartbeat.seen_at:
                batch.heartbeats[heartbeat.url] = heartbeat
        return batch

    def new_documents(self, urls: Sequence[str]) -> list[dict[str, Any]]:
        """Return the whole `service` document of each URL in `urls`, which are not stored yet."""
        documents = []
        for url in urls:
            document = docs.new_service_document(url, self.first_seen[url])
            if url in self.registrations:
                document.update(registration_fields(self.registrations[url]))
            if url in self.heartbeats:
                document.update(heartbeat_fields(self.heartbeats[url]))
            documents.append(document)
        return documents

    def conditional_updates(self, urls: Sequence[str]) -> list[UpdateOne]:
        """Return updates of stored services whose filters skip a service that has newer times already."""
        updates = []
        for url in urls:
            registration = self.registrations.get(url)
            if registration is not None:
                updates.append(UpdateOne(
                    {"_id": url, "$or": [{"registered_at": None}, {"registered_at": {"$lte": registration.seen_at}}]},
                    {"$set": registration_fields(registration)},
                ))
            heartbeat = self.heartbeats.get(url)
            if heartbeat is not None:
                updates.append(UpdateOne(
                    {"_id": url, "$or": [{"last_heartbeat_at": None}, {"last_heartbeat_at": {"$lte": heartbeat.seen_at}}]},
                    {"$set": heartbeat_fields(heartbeat)},
                ))
        return updates

    def checked_updates(self, stored: dict[str, StoredTimes]) -> list[UpdateOne]:
        """Return updates by `_id` alone of the stored services whose times in `stored` are not newer.

        The caller must keep other writers of these services out between
        reading `stored` and these updates; see taskdash.store.mongo.server.
        """
        updates = []
        for url, times in stored.items():
            changes: dict[str, Any] = {}
            registration = self.registrations.get(url)
            if registration is not None and (times.registered_at is None or times.registered_at <= registration.seen_at):
                changes.update(registration_fields(registration))
            heartbeat = self.heartbeats.get(url)
            if heartbeat is not None and (
                times.last_heartbeat_at is None or times.last_heartbeat_at <= heartbeat.seen_at
            ):
                changes.update(heartbeat_fields(heartbeat))
            if changes:
                updates.append(UpdateOne({"_id": url}, {"$set": changes}))
        return updates


def registration_fields(registration: Registration) -> dict[str, Any]:
    return {
        "name": registration.name, "type": registration.type, "reserved": registration.reserved,
        "extra": orjson.dumps(registration.extra).decode(), "registered": True,
        "registered_at": registration.seen_at,
    }


def heartbeat_fields(heartbeat: Heartbeat) -> dict[str, Any]:
    return {
        "last_heartbeat_at": heartbeat.seen_at, "last_heartbeat_received_at": heartbeat.received_at,
        "last_sender_time": heartbeat.sender_time,
    }
