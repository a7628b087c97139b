"""Applying one service's task list to the store.

Each task's reported fields have a fingerprint, so a poll that reports
nothing new costs one read and no write. Changed tasks are written with a
version check; when a user action wins the race, the task is reloaded and
merged again. Tasks that vanish from the list are flagged missing, never
deleted, and lose the flag when they reappear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import orjson
import structlog

from taskdash.store.protocol import Repository, reported_fields
from taskdash.store.records import HistoryEntry, ReportedTask, TaskRecord, TaskSyncResult
from taskdash.tasks.status import initial_status, merge_reported_status

log = structlog.get_logger("taskdash.metadata")

MAX_MERGE_ATTEMPTS = 3


def fingerprint(task: ReportedTask) -> str:
    """Return a stable digest of the reported fields of `task`."""
    encoded = orjson.dumps(reported_fields(task), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def new_task(service_url: str, reported: ReportedTask, digest: str, now: float) -> tuple[TaskRecord, HistoryEntry]:
    status = initial_status(reported.status)
    task = TaskRecord(
        task_id=reported.task_id, service_url=service_url, status=status, service_status=reported.status,
        fingerprint=digest, created_at=now, updated_at=now, **_metadata(reported),
    )
    return task, HistoryEntry(reported.task_id, now, service_url, "service", "", status, "first reported")


def _metadata(reported: ReportedTask) -> dict[str, object]:
    return {
        "data_type": reported.data_type, "description": reported.description, "reserved": reported.reserved,
        "project_id": reported.project_id, "instance_id": reported.instance_id, "url": reported.url,
        "create_time": reported.create_time, "extra": reported.extra,
    }


def merge(task: TaskRecord, reported: ReportedTask, digest: str, now: float) -> tuple[TaskRecord, HistoryEntry | None]:
    """Return `task` updated with a new report, and a history entry if its status changed."""
    status = merge_reported_status(task.status, task.service_status, reported.status, task.user, task.checker)
    history = None
    if status != task.status:
        history = HistoryEntry(
            task.task_id, now, task.service_url, "service", task.status, status,
            f"service reported {reported.status!r}",
        )
    for name, value in _metadata(reported).items():
        setattr(task, name, value)
    task.status = status
    task.service_status = reported.status or task.service_status
    task.fingerprint = digest
    task.missing = False
    task.updated_at = now
    return task, history


async def sync_service_tasks(store: Repository, service_url: str, reported: Sequence[ReportedTask], now: float) -> TaskSyncResult:
    """Store the tasks one service reported; return what changed."""
    result = TaskSyncResult()
    stored = await store.task_fingerprints(service_url)

    created: list[TaskRecord] = []
    created_history: list[HistoryEntry] = []
    changed: dict[str, tuple[ReportedTask, str]] = {}
    for task in reported:
        digest = fingerprint(task)
        known = stored.get(task.task_id)
        if known is None:
            record, entry = new_task(service_url, task, digest, now)
            created.append(record)
            created_history.append(entry)
        elif known[0] != digest or known[1]:
            changed[task.task_id] = (task, digest)
        else:
            result.unchanged += 1

    if created:
        owned_elsewhere = await store.insert_tasks(created, created_history)
        result.created = len(created) - len(owned_elsewhere)
        result.conflicts = len(owned_elsewhere)
        if owned_elsewhere:
            log.warning(
                "task_ids_owned_by_other_service", service_url=service_url, count=len(owned_elsewhere),
                examples=owned_elsewhere[:5],
            )

    result.updated = await _update_changed(store, changed, now)

    reported_ids = {task.task_id for task in reported}
    vanished = [task_id for task_id, (_, missing) in stored.items() if not missing and task_id not in reported_ids]
    if vanished:
        result.missing = await store.set_missing(service_url, vanished, True, now)
    return result


async def _update_changed(store: Repository, changed: dict[str, tuple[ReportedTask, str]], now: float) -> int:
    updated = 0
    pending = dict(changed)
    for _ in range(MAX_MERGE_ATTEMPTS):
        if not pending:
            break
        updates: list[tuple[TaskRecord, int]] = []
        history: list[HistoryEntry] = []
        for task in await store.get_tasks(list(pending)):
            reported, digest = pending[task.task_id]
            version = task.version
            merged, entry = merge(task, reported, digest, now)
            updates.append((merged, version))
            if entry is not None:
                history.append(entry)
        stale = set(await store.update_tasks(updates, history))
        updated += len(updates) - len(stale)
        pending = {task_id: pending[task_id] for task_id in stale}
    if pending:
        # The stored fingerprints are unchanged, so the next poll merges these tasks again.
        log.warning("task_merge_contended", count=len(pending), examples=sorted(pending)[:5])
    return updated
