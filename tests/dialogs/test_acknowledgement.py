"""Which answers only acknowledge an instruction (`dialogs.acknowledgement`)."""

from __future__ import annotations

import pytest

from dialogs.acknowledgement import acknowledges


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "OK!",
        "k",
        "ok thanks",
        "Okay, let me try",
        "sure, one sec",
        "hold on a sec",
        "give me a minute",
        "alright, trying it now",
        "ｏｋ",  # full-width
        "好",
        "好的",
        "好的，我试试",
        "稍等，我试一下",
        "嗯嗯好的",
        "好吧 谢谢",
        "等一下",
        "OK，我試試",  # Traditional
        "收到",
        # Done, without saying how it went:
        "I tried that already",
        "did that",
        "ok done",
        "试过了",
        "我已经试过了",
        "按过了",
    ],
)
def test_acknowledging(text: str) -> None:
    assert acknowledges(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yes",
        "no",
        "ok it works",
        "okdone",
        "试过了，还是不行",  # how it went: a no
        "tried it, nothing",
        "试过了开机了",  # a yes
        "thanks",  # a courtesy alone does not tell
        "嗯",  # nor a lone "mm", which is as often a yes
        "好了",  # "it is fine now": an answer
        "可以了",
        "开机了",
        "行",
        "好的，还是不行",
        "ok but the light is off",
    ],
)
def test_answering_or_something_else(text: str) -> None:
    assert not acknowledges(text)
