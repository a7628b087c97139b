"""Pure parts of the bench scenarios and of `bench.run`: task sets, medians and options."""

from __future__ import annotations

import argparse

import pytest

from bench.intake import NSQ_TAIL, ConsumerResult, IntakeResult, IntakeRun, channel_of
from bench.rest_list import FILTERED_DATA_TYPE, list_tasks, matching_tasks
from bench.run import parse_backends


def test_matching_tasks_counts_filtered_unclaimed() -> None:
    tasks = list(list_tasks("http://127.0.0.1:9/rpost/x", 1000))

    matching = [task for task in tasks if task.status == "notget" and task.data_type == FILTERED_DATA_TYPE]

    assert matching_tasks(1000) == len(matching) == 80


def test_list_tasks_ids_unique_and_sorts_differ() -> None:
    tasks = list(list_tasks("http://127.0.0.1:9/rpost/x", 500))

    assert len({task.task_id for task in tasks}) == 500
    by_created = [task.task_id for task in sorted(tasks, key=lambda task: task.created_at)]
    by_updated = [task.task_id for task in sorted(tasks, key=lambda task: task.updated_at)]
    assert by_created != by_updated


def test_intake_median_rate_by_consumer_name() -> None:
    runs = [
        IntakeRun(1.0, [ConsumerResult("TaskDash, SQLite", 100, seconds, 100, 0, 0),
                        ConsumerResult(NSQ_TAIL, 100, 1.0, 100, 0, 0)])
        for seconds in (1.0, 2.0, 4.0)
    ]
    result = IntakeResult(100, 10, runs, {}, [], "1.3.0")

    assert result.median_rate("TaskDash, SQLite") == 50.0
    assert result.median_rate(NSQ_TAIL) == 100.0


def test_intake_channel_default_only_for_sqlite() -> None:
    assert channel_of("sqlite") == "taskdash"
    assert channel_of("ferretdb") == "taskdash_ferretdb"


def test_parse_backends_keeps_canonical_order() -> None:
    assert parse_backends("FerretDB, sqlite") == ["sqlite", "ferretdb"]
    assert parse_backends("ferretdb") == ["ferretdb"]


@pytest.mark.parametrize("text", ["", "mysql", "sqlite,mongo"])
def test_parse_backends_rejects_unknown(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid backends"):
        parse_backends(text)
