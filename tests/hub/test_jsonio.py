"""The shared JSON reader and writer (`hub.jsonio`), and the paths that read JSON without
HTTP: the CRM record check and `frontdesk customers import`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import cli, jsonio
from hub.customers_cli import register
from hub.errors import InputError
from hub.model import Inbound, Outbound
from hub.profile import crm_record
from tests.support import DEMO_CONFIG


def refusal(text: str | bytes) -> InputError:
    with pytest.raises(InputError) as caught:
        jsonio.loads(text)
    assert caught.value.status == 400
    return caught.value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 30_000 + "]" * 30_000, "body is nested deeper than 32 levels"),
        ('{"a":' * 33 + "1" + "}" * 33, "body is nested deeper than 32 levels"),
        ("[NaN]", "body has NaN, which is not a JSON number (numbers must be finite)"),
        ('{"x": Infinity}', "body has Infinity, which is not a JSON number"),
        ("-Infinity", "body has -Infinity, which is not a JSON number"),
        ('{"t": 1e400}', "body has the number 1e400, which is out of range"),
        ("-1e400", "body has the number -1e400, which is out of range"),
        ("9223372036854775808", "body has the number 9223372036854775808, which is out of range"),
        ("1" * 5000, "(5000 digits), which is out of range"),
        ('"\\ud800"', "body has a lone UTF-16 surrogate in $;"),
        ('{"text": "hello \\udc00"}', "lone UTF-16 surrogate in $.text;"),
        ('{"a": [1, {"名字": "你好\\ud800"}]}', "lone UTF-16 surrogate in $.a[1].名字;"),
        ('{"\\udfff": 1}', "lone UTF-16 surrogate in a key of $;"),
        (b'{"text": "\xed\xa0\x80"}', "body is not valid UTF-8 (byte 10)"),
        (b"\xff", "body is not valid UTF-8 (byte 0)"),
        ("{'a': 1}", "body is not valid JSON: Expecting property name enclosed in double quotes"),
        # What `json.loads` refuses before or around decoding, kept by the shared decoder.
        ('\ufeff{"text": "hello"}', "body is not valid JSON: Unexpected UTF-8 BOM"),
        (
            b'\xef\xbb\xbf{"text": "\xe4\xbd\xa0\xe5\xa5\xbd"}',
            "not valid JSON: Unexpected UTF-8 BOM",
        ),
        ('{"text": "hello"} {}', "body is not valid JSON: Extra data at line 1 column 19"),
        ('{"text": "你好\n"}', "body is not valid JSON: Invalid control character at"),
        ("", "body is not valid JSON: Expecting value at line 1 column 1"),
    ],
)
def test_the_reader_refuses_precisely(text: str | bytes, message: str) -> None:
    assert message in refusal(text).message


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("[" * 32 + "]" * 32, json.loads("[" * 32 + "]" * 32)),
        (json.dumps(["[" * 40, "{" * 40]), ["[" * 40, "{" * 40]),  # brackets in strings
        ('"\\ud83d\\ude00 你好"', "😀 你好"),  # a proper surrogate pair is one character
        ('"\\\\ud800"', "\\ud800"),  # an escaped backslash, not a surrogate
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775807", -(2**63) + 1),
        ("1.7976931348623157e308", 1.7976931348623157e308),
        ('{"text": "hello", "文本": "你好"}', {"text": "hello", "文本": "你好"}),
    ],
)
def test_the_reader_accepts_what_is_valid(text: str, value: Any) -> None:
    assert jsonio.loads(text) == value


def test_the_writer_refuses_nan_and_infinity() -> None:
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            jsonio.dumps({"score": bad})
    assert jsonio.dumps({"text": "你好", "n": 1.5}) == '{"text":"你好","n":1.5}'


def test_the_writer_finds_a_nan_beside_nulls_and_deep_inside() -> None:
    # orjson writes NaN as null: a null in the output is where a NaN could hide.
    nested = {"a": None, "b": [1, {"c": [None, 2.5, {"d": float("nan")}]}], "e": "null"}
    with pytest.raises(ValueError):
        jsonio.dumps(nested)
    with pytest.raises(ValueError):
        jsonio.dumps([None, float("inf")])
    assert jsonio.dumps({"a": None, "b": [None]}) == '{"a":null,"b":[null]}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"x": "\ud800"}, '{"x":"\ud800"}'),  # lone surrogate: as the standard encoder did
        ({1: "a", None: "b"}, '{"1":"a","null":"b"}'),  # keys that are not strings
        (2**70, "1180591620717411303424"),  # past 64 bits
        (("一", "two"), '["一","two"]'),
    ],
)
def test_what_orjson_refuses_is_written_as_before(value: Any, text: str) -> None:
    assert jsonio.dumps(value) == text
    assert jsonio.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_what_is_not_json_is_still_refused() -> None:
    @dataclass
    class Point:
        x: int

    circular: list[Any] = []
    circular.append(circular)
    for bad in (Point(1), {"at": datetime.now(UTC)}, {1, 2}, object()):
        with pytest.raises(TypeError):
            jsonio.dumps(bad)
    with pytest.raises(ValueError):
        jsonio.dumps(circular)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_the_writer_reads_back_as_the_standard_library_reads_it(value: Any) -> None:
    text = jsonio.dumps(value)
    assert json.loads(text) == value
    assert jsonio.stored(text) == value
    # The same text as the standard encoder, but for how a float's exponent is spelled.
    assert json.loads(json.dumps(value, ensure_ascii=False)) == json.loads(text)


@pytest.mark.parametrize(
    "text", ['{"text":"你好 hello","n":1.5e-07,"ok":true}', '["\\ud83d\\ude00"]', "[1e16]"]
)
def test_stored_reads_what_the_standard_parser_reads(text: str) -> None:
    assert jsonio.stored(text) == json.loads(text)
    assert jsonio.stored(text.encode()) == json.loads(text)


def test_stored_reads_a_lone_surrogate_written_before_as_it_was() -> None:
    # orjson refuses it; the standard parser, which earlier versions read with, does not.
    assert jsonio.stored('{"x":"\\ud800"}') == {"x": "\ud800"}


def test_clean_replaces_only_lone_surrogates() -> None:
    assert jsonio.clean_text("hello") == "hello"
    assert jsonio.clean_text("你好\ud800世界\udfff") == "你好\ufffd世界\ufffd"
    assert jsonio.clean({"k\udc00": ["a\ud800", 1, None]}) == {"k\ufffd": ["a\ufffd", 1, None]}
    assert jsonio.is_clean({"a": ["😀", "你好"]})
    assert not jsonio.is_clean({"a": ("x", "\ud800")})


def test_inbound_and_outbound_text_are_valid_unicode_once_built() -> None:
    inbound = Inbound(
        channel="email", sender="ana\udcff@example.com", message_id="<m@x>", text="Hi \udcc3"
    )
    assert inbound.text == "Hi \ufffd" and inbound.sender == "ana\ufffd@example.com"
    assert Outbound(text="好\ud800").text == "好\ufffd"
    jsonio.dumps(inbound.to_json()).encode("utf-8")  # encodable: both stores can hold it


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_crm_record_refuses_non_finite_attributes(value: float) -> None:
    with pytest.raises(ValueError, match="finite numbers only"):
        crm_record({"external_id": "C1", "attributes": {"score": value}})
    with pytest.raises(ValueError, match="finite numbers only"):
        crm_record({"external_id": "C1", "attributes": {"历史": [{"分数": value}]}})
    assert crm_record({"external_id": "C1", "attributes": {"score": 4.5}}).attributes == {
        "score": 4.5
    }


def test_customer_import_refuses_nan_and_surrogates_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_text(
        '{"external_id": "C1", "attributes": {"name": "Ana"}}\n'
        '{"external_id": "C2", "attributes": {"score": NaN}}\n'
        '{"external_id": "C3", "attributes": {"城市": "北京\\ud800"}}\n'
        '{"external_id": "C4", "attributes": {"名字": "王芳"}}\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(cli, "EXTRA_COMMANDS", [register])
    monkeypatch.setenv("FRONTDESK_STORE_URL", f"sqlite:///{tmp_path}/import.db")
    assert cli.main(["customers", "import", str(path), "--config", str(DEMO_CONFIG)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2: line has NaN, which is not a JSON number" in err
    assert f"{path}:3: line has a lone UTF-16 surrogate in $.attributes.城市" in err
    assert "2 created, 0 updated, 2 lines with errors" in err
