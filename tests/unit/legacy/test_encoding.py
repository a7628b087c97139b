"""go_json against the bytes of Go's encoding/json.Marshal.

Each expected value was produced by json.Marshal in Go 1.26 on the same input.
"""

from __future__ import annotations

from taskdash.legacy.encoding import go_json, rows_as_objects

UNCLAIMED_KEYS = ("TaskID", "DataType", "Description", "Status", "Reserved")


def test_go_json_success_string() -> None:
    assert go_json("success") == b'"success"'


def test_go_json_task_array_shape() -> None:
    tasks = [
        {"TaskID": "sy-hn-0", "DataType": "2", "Description": "", "Status": "notget", "Reserved": ""},
        {"TaskID": "sy-hn-1", "DataType": "2", "Description": "a<b>&c", "Status": "notget", "Reserved": "标注"},
    ]

    expected = (
        '[{"TaskID":"sy-hn-0","DataType":"2","Description":"","Status":"notget","Reserved":""},'
        '{"TaskID":"sy-hn-1","DataType":"2","Description":"a\\u003cb\\u003e\\u0026c","Status":"notget",'
        '"Reserved":"标注"}]'
    ).encode()
    assert go_json(tasks) == expected


def test_go_json_keeps_key_order() -> None:
    assert go_json({"Status": "notget", "TaskID": "t", "DataType": "2"}) == b'{"Status":"notget","TaskID":"t","DataType":"2"}'


def test_go_json_empty_array() -> None:
    assert go_json([]) == b"[]"


def test_go_json_escapes_html_characters() -> None:
    assert go_json("<script>&") == b'"\\u003cscript\\u003e\\u0026"'


def test_go_json_escapes_html_in_keys() -> None:
    assert go_json({"a<b": "x"}) == b'{"a\\u003cb":"x"}'


def test_go_json_escapes_line_separators() -> None:
    assert go_json("\u2028\u2029") == b'"\\u2028\\u2029"'


def test_go_json_keeps_chinese_utf8() -> None:
    encoded = go_json({"errid": 1007, "errmsg": "用户名或密码错误"})

    assert encoded == '{"errid":1007,"errmsg":"用户名或密码错误"}'.encode()


def test_go_json_control_characters() -> None:
    # Go 1.22 and later write \b and \f in short form, and DEL (0x7f) stays unescaped.
    encoded = go_json("\x00\x01\b\f\n\r\t\x1f\x7f\"\\/")

    assert encoded == b'"\\u0000\\u0001\\b\\f\\n\\r\\t\\u001f\x7f\\"\\\\/"'


def test_go_json_leaves_escape_lookalike_text() -> None:
    # The literal text "\u003c" is a backslash and five characters, so only the backslash is escaped.
    assert go_json("\\u003c") == b'"\\\\u003c"'


def test_rows_as_objects_shape() -> None:
    rows = [("sy-hn-0", "2", "", "notget", ""), ("sy-hn-1", "2", "", "notget", "")]

    expected = (
        b'[{"TaskID":"sy-hn-0","DataType":"2","Description":"","Status":"notget","Reserved":""},'
        b'{"TaskID":"sy-hn-1","DataType":"2","Description":"","Status":"notget","Reserved":""}]'
    )
    assert rows_as_objects(UNCLAIMED_KEYS, rows) == expected


def test_rows_as_objects_no_rows() -> None:
    assert rows_as_objects(UNCLAIMED_KEYS, []) == b"[]"
