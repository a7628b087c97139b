"""The task list's JSON, written straight from records, against the TaskPageOut response model."""

from __future__ import annotations

import orjson

from taskdash.api.tasks import TaskPageOut, task_out, task_page_response, task_response
from taskdash.store.records import TaskRecord
from taskdash.tasks.listing import TaskPage

T0 = 1_733_350_000.123456


def records() -> list[TaskRecord]:
    return [
        TaskRecord(task_id="plain", service_url="http://127.0.0.1:8001/rpost/a", status="notget", created_at=T0,
                   updated_at=T0),
        TaskRecord(
            task_id="full/ü", service_url="http://127.0.0.1:8001/rpost/a", status="running", data_type="2",
            description='标注 "quoted" \\ back\\slash\ttab\nnewline \x01 control', service_status="running",
            reserved="no", project_id="p1", instance_id="i1", url="http://example.invalid/t", create_time="2024-01-01",
            extra={"nested": {"list": [1, 2.5, None, True]}, "big": 2**62, "float": 0.1}, user="alice",
            checker="carol", group_id="g1", missing=True, fingerprint="not exposed", version=7,
            created_at=T0 + 0.000001, updated_at=1e-7, claimed_at=T0 + 3.25,
        ),
    ]


def model_json(page: TaskPage) -> bytes:
    model = TaskPageOut(tasks=[task_out(task) for task in page.tasks], next_cursor=page.next_cursor, total=page.total)
    return model.model_dump_json().encode()


def test_page_matches_response_model() -> None:
    page = TaskPage(records(), next_cursor="abc", total=12)

    response = task_page_response(page)

    assert response.body == model_json(page)


def test_last_page_matches_response_model() -> None:
    page = TaskPage(records(), next_cursor=None, total=2)

    assert task_page_response(page).body == model_json(page)


def test_page_omits_fingerprint() -> None:
    body = orjson.loads(task_page_response(TaskPage(records(), None, 2)).body)

    assert all("fingerprint" not in task for task in body["tasks"])


def test_page_media_type_json() -> None:
    response = task_page_response(TaskPage([], None, 0))

    assert response.media_type == "application/json"
    assert orjson.loads(response.body) == {"tasks": [], "next_cursor": None, "total": 0}


def test_single_task_matches_response_model() -> None:
    for record in records():
        assert task_response(record).body == task_out(record).model_dump_json().encode()
