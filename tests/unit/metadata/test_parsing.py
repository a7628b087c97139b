"""parse_task_list: the task list shapes and key spellings that task services return."""

from __future__ import annotations

import orjson
import pytest

from taskdash.metadata.parsing import MAX_TASK_ID_LENGTH, InvalidTaskList, parse_task_list


def _parse(document: object) -> list:
    return parse_task_list(orjson.dumps(document)).tasks


def test_parse_array() -> None:
    body = b'[{"TaskID":"sy-hn-0","DataType":"2","Description":"d","Status":"notget","Reserved":"r"}]'

    [task] = parse_task_list(body).tasks

    assert task.task_id == "sy-hn-0"
    assert task.data_type == "2"
    assert task.description == "d"
    assert task.status == "notget"
    assert task.reserved == "r"
    assert task.extra == {}


@pytest.mark.parametrize("key", ["tasks", "data", "Tasks", "DATA"])
def test_parse_wrapped_array(key: str) -> None:
    [task] = _parse({key: [{"TaskID": "t1"}], "total": 1})

    assert task.task_id == "t1"


@pytest.mark.parametrize("key", ["TaskID", "task_id", "taskId", "taskid", "TASK_ID", "task-id", "id", "ID", "_id"])
def test_parse_task_id_key_variants(key: str) -> None:
    [task] = _parse([{key: "t1"}])

    assert task.task_id == "t1"


@pytest.mark.parametrize("key", ["DataType", "data_type", "dataType", "type", "Type", "TaskType", "task_type"])
def test_parse_data_type_key_variants(key: str) -> None:
    [task] = _parse([{"TaskID": "t1", key: "2"}])

    assert task.data_type == "2"


def test_parse_task_id_preferred_over_id() -> None:
    [task] = _parse([{"id": "fallback", "TaskID": "t1"}])

    assert task.task_id == "t1"


def test_parse_id_used_when_task_id_empty() -> None:
    [task] = _parse([{"TaskID": "", "_id": "t1"}])

    assert task.task_id == "t1"


def test_parse_optional_fields() -> None:
    [task] = _parse(
        [{"TaskID": "t1", "ProjectID": "p", "instance_id": "i", "URL": "http://x.test/t1", "createTime": "2020-07-16"}]
    )

    assert task.project_id == "p"
    assert task.instance_id == "i"
    assert task.url == "http://x.test/t1"
    assert task.create_time == "2020-07-16"


def test_parse_numbers_become_strings() -> None:
    [task] = _parse([{"TaskID": 42, "DataType": 2, "Status": 1.5}])

    assert task.task_id == "42"
    assert task.data_type == "2"
    assert task.status == "1.5"


def test_parse_booleans_become_strings() -> None:
    [task] = _parse([{"TaskID": "t1", "Reserved": True}])

    assert task.reserved == "true"


def test_parse_null_becomes_empty() -> None:
    [task] = _parse([{"TaskID": "t1", "Description": None}])

    assert task.description == ""


def test_parse_nested_value_becomes_json_text() -> None:
    [task] = _parse([{"TaskID": "t1", "Reserved": {"a": [1, 2]}}])

    assert task.reserved == '{"a":[1,2]}'


def test_parse_task_id_whitespace_stripped() -> None:
    [task] = _parse([{"TaskID": "  t1 "}])

    assert task.task_id == "t1"


def test_parse_keeps_extras() -> None:
    [task] = _parse([{"TaskID": "t1", "Priority": 3, "labels": ["a", "b"]}])

    assert task.extra == {"Priority": 3, "labels": ["a", "b"]}


def test_parse_second_spelling_kept_as_extra() -> None:
    [task] = _parse([{"TaskID": "t1", "DataType": "2", "type": "3"}])

    assert task.data_type == "2"
    assert task.extra == {"type": "3"}


@pytest.mark.parametrize(
    "entry",
    [{"Description": "no id"}, {"TaskID": ""}, {"TaskID": "   "}, {"TaskID": None}, "t1", 7, None, ["t1"]],
    ids=["no id key", "empty id", "blank id", "null id", "string entry", "number entry", "null entry", "list entry"],
)
def test_parse_entry_without_id_skipped(entry: object) -> None:
    parsed = parse_task_list(orjson.dumps([entry, {"TaskID": "t1"}]))

    assert [task.task_id for task in parsed.tasks] == ["t1"]
    assert len(parsed.warnings) == 1
    assert "1 entries skipped" in parsed.warnings[0]


def test_parse_overlong_id_skipped() -> None:
    parsed = parse_task_list(orjson.dumps([{"TaskID": "x" * (MAX_TASK_ID_LENGTH + 1)}]))

    assert parsed.tasks == []
    assert len(parsed.warnings) == 1


def test_parse_id_at_length_limit_kept() -> None:
    [task] = _parse([{"TaskID": "x" * MAX_TASK_ID_LENGTH}])

    assert len(task.task_id) == MAX_TASK_ID_LENGTH


def test_parse_duplicate_ids_keep_last() -> None:
    parsed = parse_task_list(orjson.dumps([{"TaskID": "t1", "Status": "notget"}, {"TaskID": "t1", "Status": "running"}]))

    assert len(parsed.tasks) == 1
    assert parsed.tasks[0].status == "running"
    assert len(parsed.warnings) == 1
    assert "duplicate" in parsed.warnings[0]


def test_parse_keeps_list_order() -> None:
    tasks = _parse([{"TaskID": "b"}, {"TaskID": "a"}, {"TaskID": "c"}])

    assert [task.task_id for task in tasks] == ["b", "a", "c"]


def test_parse_clean_list_has_no_warnings() -> None:
    assert parse_task_list(b'[{"TaskID":"t1"}]').warnings == []


def test_parse_empty_array() -> None:
    parsed = parse_task_list(b"[]")

    assert parsed.tasks == []
    assert parsed.warnings == []


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b"", b"[{", b'{"tasks": [}', b"\xff\xfe"],
    ids=["html", "empty", "truncated array", "truncated object", "invalid utf-8"],
)
def test_parse_not_json_raises(body: bytes) -> None:
    with pytest.raises(InvalidTaskList) as raised:
        parse_task_list(body)

    assert "not valid JSON" in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [b'"tasks"', b"42", b"null", b"true"],
    ids=["string", "number", "null", "boolean"],
)
def test_parse_wrong_top_level_type_raises(body: bytes) -> None:
    with pytest.raises(InvalidTaskList) as raised:
        parse_task_list(body)

    assert "expected a JSON array" in str(raised.value)


@pytest.mark.parametrize(
    "document",
    [{"items": []}, {"tasks": {"t1": {}}}, {"data": "t1"}, {}],
    ids=["other key", "tasks object", "data string", "empty object"],
)
def test_parse_object_without_task_array_raises(document: object) -> None:
    with pytest.raises(InvalidTaskList) as raised:
        parse_task_list(orjson.dumps(document))

    assert "'tasks' or 'data'" in str(raised.value)


@pytest.mark.parametrize("task_id", [["a"], {"x": 1}, True, 1.5e300])
def test_non_scalar_task_id_skipped(task_id: object) -> None:
    body = orjson.dumps([{"TaskID": task_id, "Status": "notget"}, {"TaskID": "ok-1"}])

    parsed = parse_task_list(body)

    assert [task.task_id for task in parsed.tasks] == ["ok-1"]
    assert parsed.warnings


def test_unstorable_extra_skipped() -> None:
    body = b'[{"TaskID":"deep","x":' + b"[" * 300 + b"]" * 300 + b'},{"TaskID":"ok-1"}]'

    parsed = parse_task_list(body)

    assert [task.task_id for task in parsed.tasks] == ["ok-1"]
