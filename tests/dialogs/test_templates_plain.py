"""Plain-text templates (most FAQ answers) render to their text without a Jinja context,
and to exactly what Jinja renders; anything with an expression or a tag still runs."""

from __future__ import annotations

from typing import Any

import pytest

from dialogs.templates import _is_plain_text, compile_template, render

CONTEXT: dict[str, Any] = {"slots": {"x": "42"}, "lang": "en", "latest_message": {"text": "hi"}}


@pytest.mark.parametrize(
    "source",
    [
        "We are open 9:00-18:00, Monday to Saturday.",
        "营业时间：周一至周六 9:00-18:00。",
        "  spaced out, with a trailing line\n\n",
        "Prices in {braces} and a lone } are text",
        "{% raw %}{{ not run }}{% endraw %}",
        "a {# an operator's note, never shown #}b",
    ],
)
def test_plain_text_renders_as_jinja_would(source: str) -> None:
    assert _is_plain_text(source)
    template = compile_template(source)
    expected = template.render(CONTEXT).strip()
    assert render(template, CONTEXT) == expected
    assert render(template, {}) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Order {{ slots.x }} is on its way", "Order 42 is on its way"),
        ("订单 {{ slots.x }} 已发货", "订单 42 已发货"),
        ("{% if lang == 'en' %}Hello{% else %}你好{% endif %}", "Hello"),
    ],
)
def test_templates_with_expressions_tags_or_comments_are_rendered(
    source: str, expected: str
) -> None:
    assert not _is_plain_text(source)
    assert render(compile_template(source), CONTEXT) == expected


def test_a_customer_value_is_never_evaluated_in_a_template() -> None:
    template = compile_template("You said: {{ latest_message.text }}")
    assert render(template, {"latest_message": {"text": "{{ 7*7 }}"}}) == "You said: {{ 7*7 }}"
