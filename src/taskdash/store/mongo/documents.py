"""Conversion between the store's records and MongoDB documents.

`extra` maps are stored as JSON text, as in the SQLite store: reported keys
may start with `$` or contain dots, and integers may not fit BSON's int64.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from taskdash.store.records import (
    DeadLetter,
    HistoryEntry,
    ServiceRecord,
    Session,
    TaskRecord,
    User,
)

SERVICE = "service"
METADATA = "metadata"
MANAGEMENT = "management"
HISTORY = "history"
USER = "user"
GROUP = "group"
SESSION = "session"
DEAD_LETTER = "dead_letter"
TASK_LOCK = "task_lock"
POLL_LEASE = "poll_lease"

# TaskRecord attributes whose document field has another name; the others keep theirs.
_TASK_FIELD_NAMES = {"task_id": "_id", "data_type": "type"}

# TaskRecord attributes that a service reports, mirrored into the `metadata` collection.
_REPORTED = ("data_type", "description", "reserved", "project_id", "instance_id", "url", "create_time")


def task_field(attribute: str) -> str:
    """Return the `management` field that stores the TaskRecord attribute `attribute`."""
    return _TASK_FIELD_NAMES.get(attribute, attribute)


def task_fields(task: TaskRecord) -> dict[str, Any]:
    """Return the `management` fields of `task` that a full write sets: all but `_id`, `version` and `seq`."""
    return {
        "service_url": task.service_url,
        "status": task.status,
        "type": task.data_type,
        "description": task.description,
        "service_status": task.service_status,
        "reserved": task.reserved,
        "project_id": task.project_id,
        "instance_id": task.instance_id,
        "url": task.url,
        "create_time": task.create_time,
        "extra": orjson.dumps(task.extra).decode(),
        "user": task.user,
        "checker": task.checker,
        "group_id": task.group_id,
        "missing": task.missing,
        "fingerprint": task.fingerprint,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "claimed_at": task.claimed_at,
    }


def task_document(task: TaskRecord, seq: int) -> dict[str, Any]:
    """Return the `management` document of a new task; `seq` orders tasks by first insertion."""
    return {"_id": task.task_id, **task_fields(task), "version": task.version, "seq": seq}


def task_from_document(document: Mapping[str, Any]) -> TaskRecord:
    return TaskRecord(
        task_id=document["_id"], service_url=document["service_url"], status=document["status"],
        data_type=document["type"], description=document["description"],
        service_status=document["service_status"], reserved=document["reserved"],
        project_id=document["project_id"], instance_id=document["instance_id"], url=document["url"],
        create_time=document["create_time"], extra=orjson.loads(document["extra"]), user=document["user"],
        checker=document["checker"], group_id=document["group_id"], missing=document["missing"],
        fingerprint=document["fingerprint"], version=document["version"], created_at=document["created_at"],
        updated_at=document["updated_at"], claimed_at=document["claimed_at"],
    )


def metadata_fields(task: TaskRecord) -> dict[str, Any]:
    """Return the `metadata` fields of `task`: what its service reported, with `status` as reported."""
    fields = {task_field(attribute): getattr(task, attribute) for attribute in _REPORTED}
    fields["status"] = task.service_status
    fields["extra"] = orjson.dumps(task.extra).decode()
    fields["service_url"] = task.service_url
    fields["missing"] = task.missing
    return fields


def history_id(task_id: str, version: int, index: int) -> str:
    """Return the `_id` of the `index`-th history entry of the write that gave `task_id` its `version`.

    The id is the same each time the write is applied, so applying it twice stores each entry once.
    """
    return f"{version}:{index}:{task_id}"


def history_document(entry: HistoryEntry, version: int, index: int) -> dict[str, Any]:
    return {
        "_id": history_id(entry.task_id, version, index), "task_id": entry.task_id, "version": version,
        "index": index, "at": entry.at, "actor": entry.actor, "actor_kind": entry.actor_kind,
        "from_status": entry.from_status, "to_status": entry.to_status, "reason": entry.reason,
    }


def history_from_document(document: Mapping[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        document["task_id"], document["at"], document["actor"], document["actor_kind"],
        document["from_status"], document["to_status"], document["reason"],
    )


def new_service_document(url: str, first_seen_at: float) -> dict[str, Any]:
    """Return the document of a service known only from this moment, before its registration or heartbeat is applied."""
    return {
        "_id": url, "name": "", "type": "", "reserved": "", "extra": "{}", "registered": False,
        "first_seen_at": first_seen_at, "registered_at": None, "last_heartbeat_at": None,
        "last_heartbeat_received_at": None, "last_sender_time": None, "last_poll_at": None,
        "last_poll_ok": None, "last_poll_error": "", "poll_failures": 0, "archived": False,
    }


def service_document(service: ServiceRecord) -> dict[str, Any]:
    """Return the whole `service` document of `service`; its `task_count` is not stored."""
    return {
        "_id": service.url, "name": service.name, "type": service.type, "reserved": service.reserved,
        "extra": orjson.dumps(service.extra).decode(), "registered": service.registered,
        "first_seen_at": service.first_seen_at, "registered_at": service.registered_at,
        "last_heartbeat_at": service.last_heartbeat_at,
        "last_heartbeat_received_at": service.last_heartbeat_received_at,
        "last_sender_time": service.last_sender_time, "last_poll_at": service.last_poll_at,
        "last_poll_ok": service.last_poll_ok, "last_poll_error": service.last_poll_error,
        "poll_failures": service.poll_failures, "archived": service.archived,
    }


def service_from_document(document: Mapping[str, Any], task_count: int) -> ServiceRecord:
    return ServiceRecord(
        url=document["_id"], name=document["name"], type=document["type"], reserved=document["reserved"],
        extra=orjson.loads(document["extra"]), registered=document["registered"],
        first_seen_at=document["first_seen_at"], registered_at=document["registered_at"],
        last_heartbeat_at=document["last_heartbeat_at"],
        last_heartbeat_received_at=document["last_heartbeat_received_at"],
        last_sender_time=document["last_sender_time"], last_poll_at=document["last_poll_at"],
        last_poll_ok=document["last_poll_ok"], last_poll_error=document["last_poll_error"],
        poll_failures=document["poll_failures"], archived=document["archived"], task_count=task_count,
    )


def dead_letter_document(letter: DeadLetter, letter_id: int) -> dict[str, Any]:
    return {
        "_id": letter_id, "topic": letter.topic, "source": letter.source, "body": letter.body,
        "reason": letter.reason, "received_at": letter.received_at,
    }


def dead_letter_from_document(document: Mapping[str, Any]) -> DeadLetter:
    return DeadLetter(
        id=document["_id"], topic=document["topic"], source=document["source"], body=bytes(document["body"]),
        reason=document["reason"], received_at=document["received_at"],
    )


def user_document(user: User) -> dict[str, Any]:
    return {
        "_id": user.username, "display_name": user.display_name, "password_hash": user.password_hash,
        "roles": sorted(user.roles), "groups": sorted(user.groups), "disabled": user.disabled,
        "created_at": user.created_at,
    }


def user_from_document(document: Mapping[str, Any]) -> User:
    return User(
        username=document["_id"], display_name=document["display_name"],
        password_hash=document["password_hash"], roles=tuple(document["roles"]),
        groups=tuple(document["groups"]), disabled=document["disabled"], created_at=document["created_at"],
    )


def session_document(session: Session) -> dict[str, Any]:
    return {
        "_id": session.token_hash, "username": session.username, "created_at": session.created_at,
        "expires_at": session.expires_at,
    }


def session_from_document(document: Mapping[str, Any]) -> Session:
    return Session(document["_id"], document["username"], document["created_at"], document["expires_at"])
