"""Copy every record from one store to another, resume an interrupted copy, and verify the counts.

The target keeps a progress record: the source's identity and, per kind,
the key of the last record written, the number written and whether the
kind is done. Each batch is written together with its progress (see
`TransferStore.write_batch`), so a rerun after a crash continues after the
last batch the progress covers. Writes are upserts by each record's
identity, so a batch that a crash left half-written is simply written again.

Whether a run may write to a target:

- empty target, no progress record: start a copy;
- progress record from the same source, unfinished: resume it;
- progress record from the same source, finished: only verify again;
- any other data: refuse, unless `replace` empties the target first.

The copy takes each kind as the source stores it at the moment it is read.
Nothing may write to the source meanwhile, or the counts may not match.

NOTE: nothing stops two runs into one target at the same time. Their
progress records would overwrite each other, so a later resume could skip
records, which the count check then reports.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from taskdash.migration.urls import StoreUrl, same_store
from taskdash.store.transfer import KINDS, Kind, Progress, TransferStore, open_transfer

log = structlog.get_logger("taskdash.migration")

DEFAULT_BATCH_SIZE = 1000


class MigrationError(Exception):
    """Raised when a migration cannot start or cannot finish; the message states why and what to do."""


class VerificationFailed(MigrationError):
    """Raised when the source and the target contain different numbers of records of some kind after the copy."""

    def __init__(self, message: str, mismatches: list[KindCount]) -> None:
        super().__init__(message)
        self.mismatches = mismatches


class SameStore(MigrationError):
    """Raised when `--from` and `--to` name one store, which cannot be copied onto itself."""


class MigrationInterrupted(MigrationError):
    """Raised when a stop was requested: after a batch whose progress the target saved, or while verifying."""


class ProgressReporter(Protocol):
    """Shows how far the copy of each kind has got."""

    def start(self, kind: Kind, total: int, copied: int) -> None:
        """Begin a kind: `total` records in the source, of which `copied` an earlier run already wrote."""

    def advance(self, count: int) -> None: ...

    def finish(self, complete: bool) -> None:
        """End the current kind. `complete` is False when the copy of the kind stopped part-way."""


@dataclass(slots=True, frozen=True)
class KindCount:
    kind: Kind
    source: int
    target: int


@dataclass(slots=True)
class MigrationResult:
    counts: list[KindCount]
    resumed: bool
    # True when an earlier run had finished the copy, so this one only verified it.
    already_complete: bool


async def migrate_store(
    source_url: StoreUrl,
    target_url: StoreUrl,
    reporter: ProgressReporter,
    *,
    replace: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stop: asyncio.Event | None = None,
) -> MigrationResult:
    """Copy every record of `source_url` into `target_url` and verify the counts; see the module docstring.

    Setting `stop` ends the copy after the batch being written (or the
    verification after the count being read) with MigrationInterrupted, and
    a later run resumes from there.

    Raises MigrationError when the stores cannot be used, VerificationFailed
    when the counts differ afterwards, and StoreReadFailed or StoreWriteFailed
    when a store fails meanwhile.
    """
    if same_store(source_url, target_url):
        raise SameStore(
            f"--from and --to name the same store ({target_url.display}): a store cannot be copied onto itself"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")

    source = await _open(source_url, target=False)
    try:
        target = await _open(target_url, target=True)
        try:
            return await _migrate(
                source, target, source_url, target_url, reporter, replace, batch_size, stop or asyncio.Event()
            )
        finally:
            await target.close()
    finally:
        await source.close()


async def _open(url: StoreUrl, *, target: bool) -> TransferStore:
    try:
        return await open_transfer(url.url, target=target)
    except ValueError as error:
        raise MigrationError(str(error)) from None


async def _migrate(
    source: TransferStore, target: TransferStore, source_url: StoreUrl, target_url: StoreUrl,
    reporter: ProgressReporter, replace: bool, batch_size: int, stop: asyncio.Event,
) -> MigrationResult:
    await _check_distinct(source, target, target_url)
    progress = await _starting_progress(source_url, target, target_url, replace)
    already_complete = progress is not None and progress.complete
    resumed = progress is not None and not progress.complete
    log.info(
        "migration_started", source=source_url.display, target=target_url.display, resumed=resumed,
        already_complete=already_complete, replace=replace, batch_size=batch_size,
    )

    if progress is None:
        progress = Progress(source_url.identity)
        await target.write_progress(progress)
    if not progress.complete:
        for kind in KINDS:
            await _copy_kind(kind, source, target, progress, reporter, batch_size, stop)

    counts = await _verify(source, target, source_url, target_url, stop)
    if not progress.complete:
        progress.complete = True
        await target.write_progress(progress)
    log.info("migration_verified", source=source_url.display, target=target_url.display,
             **{count.kind.value: count.target for count in counts})
    return MigrationResult(counts, resumed, already_complete)


async def _check_distinct(source: TransferStore, target: TransferStore, target_url: StoreUrl) -> None:
    """Raise MigrationError if the source finds a mark written to the target, because both URLs name one store."""
    token = uuid.uuid4().hex
    await target.set_mark(token)
    try:
        if await source.has_mark(token):
            raise SameStore(
                f"--from and --to reach the same store ({target_url.display}) under two names: "
                "a store cannot be copied onto itself"
            )
    finally:
        await target.set_mark(None)


async def _starting_progress(
    source_url: StoreUrl, target: TransferStore, target_url: StoreUrl, replace: bool
) -> Progress | None:
    """Return the progress to continue from (None to start afresh), or raise MigrationError if the target is taken."""
    if replace:
        await target.clear()
        log.warning("migration_target_cleared", target=target_url.display)
        return None

    progress = await target.read_progress()
    if progress is not None:
        if progress.source != source_url.identity:
            raise MigrationError(
                f"the target {target_url.display} contains a migration from {progress.source}, not from "
                f"{source_url.display}: pass --replace to delete everything in the target and copy again"
            )
        return progress

    stored = [(kind, await target.count(kind)) for kind in KINDS]
    summary = ", ".join(f"{kind.value}: {count}" for kind, count in stored if count)
    if summary:
        raise MigrationError(
            f"the target {target_url.display} already contains TaskDash data ({summary}) that no migration from "
            f"{source_url.display} wrote: choose an empty target, or pass --replace to delete that data first"
        )
    return None


async def _copy_kind(
    kind: Kind, source: TransferStore, target: TransferStore, progress: Progress,
    reporter: ProgressReporter, batch_size: int, stop: asyncio.Event,
) -> None:
    state = progress.of(kind)
    if state.done:
        return
    started = time.monotonic()
    reporter.start(kind, await source.count(kind), state.copied)
    try:
        while not state.done:
            if stop.is_set():
                log.warning("migration_interrupted", kind=kind.value, copied=state.copied)
                raise MigrationInterrupted(
                    f"stopped after {state.copied} records of {kind.value}: run the same command again to continue "
                    "where it stopped"
                )
            batch = await source.read_batch(kind, state.after, batch_size)
            if batch.records:
                state.after = batch.last_key
                state.copied += len(batch.records)
            # A short batch is the last one. When the count is a multiple of the batch size, one empty batch follows.
            state.done = len(batch.records) < batch_size
            await target.write_batch(kind, batch.records, progress)
            reporter.advance(len(batch.records))
    finally:
        reporter.finish(state.done)
    log.info("migration_kind_copied", kind=kind.value, copied=state.copied,
             seconds=round(time.monotonic() - started, 3))


async def _verify(
    source: TransferStore, target: TransferStore, source_url: StoreUrl, target_url: StoreUrl, stop: asyncio.Event
) -> list[KindCount]:
    """Return the count of each kind in both stores; raise VerificationFailed if any differ."""
    counts = []
    for kind in KINDS:
        if stop.is_set():
            log.warning("migration_interrupted", kind=kind.value, step="verification")
            raise MigrationInterrupted("stopped while verifying the counts: run the same command again to verify them")
        counts.append(KindCount(kind, await source.count(kind), await target.count(kind)))
    mismatches = [count for count in counts if count.source != count.target]
    if mismatches:
        differences = "; ".join(
            f"{count.kind.value}: source has {count.source}, target has {count.target}" for count in mismatches
        )
        log.error("migration_verification_failed", source=source_url.display, target=target_url.display,
                  differences=differences)
        raise VerificationFailed(
            f"verification failed, the stores differ in {differences}. The usual cause is a write to the "
            "source or the target during the migration. Stop every TaskDash instance that uses either store, "
            "then run the migration again with --replace",
            mismatches,
        )
    return counts


def describe_counts(counts: Sequence[KindCount]) -> list[str]:
    """Return a table of the counts as lines of text, with a header."""
    lines = [f"{'kind':<14}{'source':>10}{'target':>10}"]
    lines += [f"{count.kind.value:<14}{count.source:>10}{count.target:>10}" for count in counts]
    return lines

