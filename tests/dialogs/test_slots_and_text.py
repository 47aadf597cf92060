"""Pure functions: slot validators, text cleaning, language detection, template checks."""

from __future__ import annotations

import re

import pytest

from dialogs.flows import Choice, Label, Slot, Where
from dialogs.slots import Invalid, Valid, validate
from dialogs.templates import compile_template, references, render
from hub.text import MAX_TEXT, clean, detect_language

HERE = Where(path="test.yml", line=1)


def slot(kind: str, **options: object) -> Slot:
    return Slot(name="s", type=kind, where=HERE, **options)  # type: ignore[arg-type]


YES_NO = (
    Choice(
        value="yes",
        title=Label(by_lang={"en": "Yes", "zh": "是"}),
        words=frozenset({"yes", "是", "yeah"}),
    ),
    Choice(
        value="no",
        title=Label(by_lang={"en": "No", "zh": "否"}),
        words=frozenset({"no", "否", "没有"}),
    ),
)


@pytest.mark.parametrize(
    ("kind", "options", "text", "expected"),
    [
        ("text", {}, "  Ana  ", Valid(value="Ana")),
        ("text", {}, "   ", Invalid(reason="empty")),
        ("text", {"max_length": 5}, "toolong", Invalid(reason="too_long")),
        ("choice", {"choices": YES_NO}, "YEAH!", Valid(value="yes")),
        ("choice", {"choices": YES_NO}, "没有", Valid(value="no")),
        ("choice", {"choices": YES_NO}, "2", Valid(value="no")),
        ("choice", {"choices": YES_NO}, "3", Invalid(reason="not_a_choice")),
        ("choice", {"choices": YES_NO}, "maybe", Invalid(reason="not_a_choice")),
        ("number", {}, "42", Valid(value=42)),
        ("number", {}, "３.５", Valid(value=3.5)),  # full-width digits from a Chinese IME
        ("number", {"minimum": 1, "maximum": 10}, "11", Invalid(reason="too_large")),
        ("number", {"minimum": 1}, "0", Invalid(reason="too_small")),
        ("number", {}, "1e9", Invalid(reason="not_a_number")),
        ("email", {}, "Ana@Example.COM", Valid(value="ana@example.com")),
        ("email", {}, "ana@example", Invalid(reason="not_an_email")),
        ("email", {}, "a b@example.com", Invalid(reason="not_an_email")),
        ("phone", {}, "+86 138-0013-8000", Valid(value="+8613800138000")),
        ("phone", {}, "12", Invalid(reason="not_a_phone")),
        ("phone", {}, "call me", Invalid(reason="not_a_phone")),
        ("regex", {"pattern": re.compile(r"^\d{8}$")}, "20261001", Valid(value="20261001")),
        ("regex", {"pattern": re.compile(r"^\d{8}$")}, "2026100", Invalid(reason="no_match")),
        ("regex", {"pattern": re.compile(r"^\d{8}$")}, "２０２６１００１", Valid(value="20261001")),
    ],
)
def test_validators(kind: str, options: dict[str, object], text: str, expected: object) -> None:
    assert validate(slot(kind, **options), text) == expected


def test_clean_strips_controls_and_bounds_length() -> None:
    assert clean("hi\x00\x07 there\n\tfriend\u202e") == "hi there friend"
    assert clean("👩\u200d💻") == "👩\u200d💻"  # emoji sequences stay whole
    assert len(clean("a" * 50_000)) == MAX_TEXT
    assert len(clean("好" * 50_000)) == MAX_TEXT
    assert clean("  what  are your\topening hours?  ") == "what are your opening hours?"
    assert clean("  退货   政策\n是什么 ") == "退货 政策 是什么"
    assert clean(" " * 5_000 + "hi") == ""  # only the first 2 × MAX_TEXT characters are read


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        ("hello", "zh", "en"),
        ("你好", "en", "zh"),
        ("my order 订单", "en", "zh"),  # any Chinese character: answer in Chinese
        ("20261001", "zh", "zh"),
        ("😀", "zh", "zh"),
        ("", "xx", "en"),
    ],
)
def test_detect_language(text: str, previous: str, expected: str) -> None:
    assert detect_language(text, previous=previous, languages=("en", "zh")) == expected


def test_values_are_never_evaluated() -> None:
    template = compile_template("You said: {{ slots.text }}")
    assert render(template, {"slots": {"text": "{{ 7*7 }}"}}) == "You said: {{ 7*7 }}"
    assert render(compile_template("[{{ slots.unset }}]"), {"slots": {"unset": None}}) == "[]"


def test_sandbox_refuses_dunder_access() -> None:
    template = compile_template("{{ slots.__class__.__mro__ }}{{ ''.__class__.__subclasses__() }}")
    assert render(template, {"slots": {}}) is None


def test_references_finds_slots_and_names() -> None:
    found = set(
        references("{{ slots.a }}{{ slots['b'] }}{% if customer.tags %}{{ foo }}{% endif %}")
    )
    assert {("slots", "a"), ("slots", "b"), ("customer", "tags"), ("foo", "")} <= found
    assert set(references("slots.x == 'yes'", expression=True)) == {("slots", "x")}
