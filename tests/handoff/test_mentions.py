"""Mentions in internal notes: which agents `@name` calls on."""

from __future__ import annotations

import pytest

from handoff.mentions import mentions

AGENTS = {"mei", "tom", "sara", "li.na"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@mei can you check the invoice?", ("mei",)),
        ("@Tom and @mei, then @tom again.", ("tom", "mei")),
        ("请 @mei 看一下这个退款", ("mei",)),
        ("请@mei看一下，@tom跟进", ("mei", "tom")),
        ("@li.na 麻烦跟进。", ("li.na",)),
        ("ask @sara.", ("sara",)),
        ("mail ana@example.com or mei@example.com", ()),
        ("@nobody here, @ alone, @@mei", ()),
        ("", ()),
    ],
    ids=[
        "en",
        "repeats-and-case",
        "zh",
        "zh-no-spaces",
        "dotted-id-zh",
        "sentence-end",
        "emails",
        "noise",
        "empty",
    ],
)
def test_only_known_agents_count_once_each_in_order(text: str, expected: tuple[str, ...]) -> None:
    assert mentions(text, AGENTS) == expected


def test_the_author_is_not_mentioned_by_their_own_note() -> None:
    assert mentions("note to self @mei, ask @tom", AGENTS, author="mei") == ("tom",)
