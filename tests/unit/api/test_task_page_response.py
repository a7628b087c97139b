"""The task JSON that the REST API passes through, against the TaskOut and TaskPageOut response models."""

from __future__ import annotations

import orjson

from taskdash.api.tasks import TaskOut, TaskPageOut, task_out, task_page_response, task_response
from taskdash.store.records import TaskRecord
from taskdash.store.task_json import TASK_JSON_FIELDS, TaskJsonPage, task_json

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


def json_page(next_cursor: str | None, total: int) -> TaskJsonPage:
    return TaskJsonPage([task_json(record) for record in records()], next_cursor, total)


def model_json(next_cursor: str | None, total: int) -> bytes:
    model = TaskPageOut(tasks=[task_out(record) for record in records()], next_cursor=next_cursor, total=total)
    return model.model_dump_json().encode()


def test_task_out_fields_match_task_json() -> None:
    assert tuple(TaskOut.model_fields) == TASK_JSON_FIELDS


def test_page_matches_response_model() -> None:
    assert task_page_response(json_page("abc", 12)).body == model_json("abc", 12)


def test_last_page_matches_response_model() -> None:
    assert task_page_response(json_page(None, 2)).body == model_json(None, 2)


def test_page_omits_fingerprint() -> None:
    body = orjson.loads(task_page_response(json_page(None, 2)).body)

    assert all("fingerprint" not in task for task in body["tasks"])


def test_page_media_type_json() -> None:
    response = task_page_response(TaskJsonPage([], None, 0))

    assert response.media_type == "application/json"
    assert orjson.loads(response.body) == {"tasks": [], "next_cursor": None, "total": 0}


def test_single_task_matches_response_model() -> None:
    for record in records():
        assert task_response(record).body == task_out(record).model_dump_json().encode()
