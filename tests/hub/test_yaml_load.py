"""`hub.yaml_load.load` builds what ruamel.yaml's round-trip loader builds: the same values
of the same types, every key, value and item at the same line and column, and the same
errors; only faster (libyaml parses)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from hub import yaml_load

REPO = Path(__file__).resolve().parents[2]


def shape(value: Any) -> Any:
    """A value with its type and, for mappings and lists, where each part was written."""
    if isinstance(value, CommentedMap):
        return (
            "map",
            (value.lc.line, value.lc.col),
            [(shape(key), _written(value, key, item), shape(item)) for key, item in value.items()],
        )
    if isinstance(value, CommentedSeq):
        return (
            "seq",
            (value.lc.line, value.lc.col),
            [(tuple(value.lc.item(index)), shape(item)) for index, item in enumerate(value)],
        )
    if value is None or isinstance(value, str | int | float | date):
        return (type(value).__name__, value)
    return (type(value).__name__, repr(value))  # a tagged value, a set: no equality of their own


def _written(mapping: CommentedMap, key: Any, item: Any) -> Any:
    """Where a key and its value were written (a merged key has no place of its own). An
    empty value's own place is left out: ruamel.yaml puts it at the next token, libyaml
    right after the colon, and nothing reads where a value that is not there was written."""
    place = mapping.lc.data.get(key)
    return place[:2] if place is not None and item is None else place


def ruamel(text: str) -> Any:
    return YAML(typ="rt").load(text)


@pytest.fixture
def ruamel_never_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path must not hand the text to ruamel.yaml's own (pure Python) parser."""

    def refuse(self: YAML, stream: Any) -> Any:
        raise AssertionError("ruamel.yaml parsed the text itself")

    monkeypatch.setattr(YAML, "load", refuse)


def repository_yaml() -> list[Path]:
    found = [*REPO.glob("config/**/*.y*ml"), *REPO.glob("tests/**/*.y*ml")]
    return sorted(path for path in found if ".venv" not in path.parts)


def test_the_repository_holds_yaml_to_compare() -> None:
    names = {path.name for path in repository_yaml()}
    assert {"bot.yml", "orders.yml", "frontdesk.yaml", "handoff.yaml"} <= names


@pytest.mark.parametrize("path", repository_yaml(), ids=lambda path: path.name)
def test_every_yaml_file_of_the_repository_is_built_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert shape(yaml_load.load(text)) == shape(ruamel(text))


SAME = {
    "scalars typed as YAML 1.2 (yes and on stay texts)": """\
        count: 3
        ratio: 0.5
        big: 1e3
        octal: 0o17
        leading_zero: 017
        hex: 0x1F
        grouped: 1_000
        on_off: [yes, no, on, off, true, False]
        nothing: ~
        empty:
        infinite: .inf
        day: 2026-11-18
        time_like: 1:30
        quoted: "3"
        single: 'true'
        """,
    "English texts, plain, quoted, literal and folded": """\
        faq:
          where_is_my_order:
            examples:
              - where is my order?
              - "has it shipped: yet?"
              - 'it''s late'
            answer: |
              Your order ships in 2 days.
              Track it on {{ link }}.
            note: >
              A folded text
              on two lines.

              And a paragraph.
            plain: a text that goes
              on the next line
        """,
    "Chinese texts and keys": """\
        faq:
          订单在哪:
            examples:
              - 我的订单到哪了？
              - 「快递」什么时候到
            answer: |
              您的订单两天内发货。
              可以在 {{ link }} 查看物流。
            折叠: >
              第一行
              第二行
        """,
    "flow collections, anchors and aliases, comments": """\
        # a comment above
        defaults: &defaults {threshold: 0.4, languages: [en, zh]}  # after
        flows:
          - name: refund
            settings: *defaults
          - {name: 退款, settings: *defaults}
        """,
    "an empty document": "# only a comment\n",
    "a text alone": "just a text\n",
    "nested lists": "- - a\n  - b\n- [c, d]\n- - - e\n",
}


@pytest.mark.parametrize("text", SAME.values(), ids=SAME.keys())
def test_values_types_and_positions_are_ruamels(text: str) -> None:
    text = dedent(text)
    assert shape(yaml_load.load(text)) == shape(ruamel(text))


def test_a_usual_file_is_parsed_by_libyaml(ruamel_never_parses: None) -> None:
    loaded = yaml_load.load(dedent(SAME["English texts, plain, quoted, literal and folded"]))
    assert loaded["faq"]["where_is_my_order"]["examples"][1] == "has it shipped: yet?"
    assert loaded["faq"]["where_is_my_order"].lc.key("answer") == (6, 4)
    for path in repository_yaml():  # none of the shipped files needs ruamel.yaml's parser
        assert yaml_load.load(path.read_text(encoding="utf-8")) is not None, path


def test_an_alias_is_the_same_value_as_its_anchor() -> None:
    loaded = yaml_load.load(dedent(SAME["flow collections, anchors and aliases, comments"]))
    assert loaded["flows"][0]["settings"] is loaded["flows"][1]["settings"]


BROKEN = {
    "a duplicate key": "answer: one\nexamples: []\nanswer: two\n",
    "a duplicate Chinese key": "回答: 一\n回答: 二\n",
    "a tab used to indent": "faq:\n\tanswer: hi\n",
    "a value after a value": "answer: yes: no\n",
    "an unclosed quote": 'answer: "never closed\nexamples: []\n',
    "an unclosed flow list": "examples: [a, b\nanswer: hi\n",
    "an undefined alias": "answer: *nowhere\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "a key without its colon": "faq:\n  answer hi\n  examples: []\n",
}


@pytest.mark.parametrize("text", BROKEN.values(), ids=BROKEN.keys())
def test_errors_are_ruamels_own(text: str) -> None:
    """Operators see ruamel.yaml's located message whatever parsed first."""
    with pytest.raises(Exception) as expected:
        ruamel(text)
    with pytest.raises(type(expected.value)) as raised:
        yaml_load.load(text)
    assert str(raised.value) == str(expected.value)
    if isinstance(expected.value, MarkedYAMLError):
        assert isinstance(raised.value, MarkedYAMLError)
        assert raised.value.problem_mark is not None and expected.value.problem_mark is not None
        assert raised.value.problem_mark.line == expected.value.problem_mark.line


LEFT_TO_RUAMEL = {
    "a merge key": "base: &base {a: 1}\nchild:\n  <<: *base\n  b: 2\n",
    "an explicit tag": "count: !!str 3\nlist: !!set {a, b}\n",
    "a version directive": "%YAML 1.1\n---\nanswer: yes\n",
    "a mapping as a key": "? {a: 1}\n: value\n",
}


@pytest.mark.parametrize("text", LEFT_TO_RUAMEL.values(), ids=LEFT_TO_RUAMEL.keys())
def test_what_libyaml_would_build_differently_is_left_to_ruamel(text: str) -> None:
    assert shape(yaml_load.load(text)) == shape(ruamel(text))
