"""The `taskdash migrate` command; `taskdash.cli` adds it to the `taskdash` group."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any

import click
import structlog

from taskdash.errors import TaskDashError
from taskdash.logs import configure_logging
from taskdash.migration.engine import (
    DEFAULT_BATCH_SIZE,
    MigrationError,
    MigrationInterrupted,
    MigrationResult,
    SameStore,
    VerificationFailed,
    describe_counts,
    migrate_store,
)
from taskdash.migration.progress import progress_for
from taskdash.migration.urls import EXPECTED_FORMS, parse_store_url, same_store
from taskdash.store.transfer import StoreUnusable

log = structlog.get_logger("taskdash.migration")

# Exit status when the copy ran but the source and the target contain different numbers of records.
EXIT_VERIFICATION_FAILED = 3
# Exit status after Ctrl-C, as shells report a process that SIGINT ended.
EXIT_INTERRUPTED = 130


# With --replace, a run deletes the target's data first, including the progress of the run it would resume.
_RESUME_WITHOUT_REPLACE = " (leave out --replace, which would start over)"


class CountsDiffer(click.ClickException):
    exit_code = EXIT_VERIFICATION_FAILED


@click.command("migrate")
# The environment variables keep a password out of the process list and the shell history.
@click.option(
    "--from", "source", required=True, metavar="URL", envvar="TASKDASH_MIGRATE_FROM", show_envvar=True,
    help=f"Store to copy from, only read: {EXPECTED_FORMS}.",
)
@click.option(
    "--to", "target", required=True, metavar="URL", envvar="TASKDASH_MIGRATE_TO", show_envvar=True,
    help=f"Store to copy into, created if missing: {EXPECTED_FORMS}.",
)
@click.option(
    "--replace", is_flag=True,
    help="Delete every TaskDash record in the target before copying. Without it, the target must be empty "
    "or contain a migration from the same source.",
)
@click.option(
    "--batch-size", type=click.IntRange(1, 100_000), default=DEFAULT_BATCH_SIZE, show_default=True,
    help="Records per read from the source and per write to the target; progress is saved after each batch.",
)
@click.option("--log-format", type=click.Choice(["auto", "json", "console"]), default="auto", show_default=True,
              help="Log format on standard error.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True, help="Log level.")
def migrate(source: str, target: str, replace: bool, batch_size: int, log_format: str, log_level: str) -> None:
    """Copy every record from one store to another, then verify the counts.

    Copies from SQLite to MongoDB, from MongoDB to SQLite, or between two
    stores of one kind. It copies services, tasks (reported metadata and
    management state), task history, users (password hashes, roles, groups,
    disabled flag), groups, sessions (logged-in users stay logged in) and
    dead letters, with their versions, timestamps and ids. Poll leases and
    task locks are not copied: they only coordinate running instances,
    which recreate them.

    Stop every TaskDash instance that uses either store first, and start
    them on the new store once this command has succeeded. Records written
    to the source during the copy may be missed.

    The target keeps a progress record (the table or collection
    migration_progress). If the command stops (Ctrl-C, kill -9, a lost
    connection), run it again with the same --from and --to: it continues
    after the last batch it wrote, without duplicates. Run again after it
    finished, it only verifies the counts again. Ctrl-C stops after the
    batch being written (or the count being read); a second Ctrl-C stops
    at once.

    A target that contains other data, such as the admin user that
    `taskdash serve` creates on its first start or a migration from another
    source, is rejected. --replace deletes that data first.

    \b
    Exit status: 0 when every count matches, and 1 on an error. It is 2 on a
    usage error, such as an invalid URL or one store as both source and
    target, even under two host names. It is 3 when the source and the
    target contain different numbers of records of some kind.
    """
    try:
        source_url = parse_store_url(source, "--from")
        target_url = parse_store_url(target, "--to")
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if same_store(source_url, target_url):
        raise click.UsageError(
            f"--from and --to name the same store ({target_url.display}): give another store as --to"
        )
    configure_logging(log_format, log_level)

    stop = asyncio.Event()
    coroutine = migrate_store(
        source_url, target_url, progress_for(sys.stderr), replace=replace, batch_size=batch_size, stop=stop
    )
    try:
        result = asyncio.run(_stop_on_ctrl_c(coroutine, stop))
    except MigrationInterrupted as error:
        click.echo(f"interrupted: {error}{_RESUME_WITHOUT_REPLACE if replace else ''}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except SameStore as error:
        raise click.UsageError(str(error)) from None
    except VerificationFailed as error:
        raise CountsDiffer(str(error)) from None
    except (MigrationError, StoreUnusable) as error:
        log.error("migration_failed", source=source_url.display, target=target_url.display, error=str(error))
        raise click.ClickException(str(error)) from None
    except TaskDashError as error:
        # StoreReadFailed or StoreWriteFailed: the store failed or could not be reached.
        log.error("migration_failed", source=source_url.display, target=target_url.display, error=error.detail)
        raise click.ClickException(
            f"{error.detail}\nRun the same command again once the store works: it continues where this run stopped."
            f"{_RESUME_WITHOUT_REPLACE if replace else ''}"
        ) from None
    except (KeyboardInterrupt, asyncio.CancelledError):
        click.echo(
            f"interrupted: run the same command again to continue where it stopped"
            f"{_RESUME_WITHOUT_REPLACE if replace else ''}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)

    _print_summary(result, source_url.display, target_url.display)


async def _stop_on_ctrl_c(coroutine: Coroutine[Any, Any, MigrationResult], stop: asyncio.Event) -> MigrationResult:
    """Run `coroutine`, and stop it after the current batch on a first Ctrl-C (SIGINT) and at once on a second.

    asyncio.run's own SIGINT handling cancels the task instead. In a test run
    that cancellation was lost during a MongoDB call, and the copy went on to
    the end, so the first Ctrl-C sets `stop`, which the engine checks between batches.
    """
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None

    def on_sigint() -> None:
        if stop.is_set():
            loop.remove_signal_handler(signal.SIGINT)
            main.cancel()
            return
        stop.set()
        click.echo("\nstopping after the current batch or count; press Ctrl-C again to stop at once", err=True)

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        return await coroutine
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _print_summary(result: MigrationResult, source: str, target: str) -> None:
    for line in describe_counts(result.counts):
        click.echo(line)
    if result.already_complete:
        click.echo(f"{target} already held a finished migration from {source}; the counts still match")
    elif result.resumed:
        click.echo(f"resumed and finished the migration from {source} to {target}; the counts match")
    else:
        click.echo(f"migrated {source} to {target}; the counts match")
