"""Segments and bodies, pure: GSM-7 against UCS-2 (Chinese: 70 characters in one segment,
67 a segment once split), the segment cap ending "...more in the chat link", choices as a
numbered list that the cap never cuts."""

from __future__ import annotations

import pytest

from connectors.sms.render import render
from connectors.sms.segments import GSM7, UCS2, encoding, fit, segments, smart
from hub.model import Attachment, Button, Outbound


@pytest.mark.parametrize(
    ("text", "kind", "count"),
    [
        ("a" * 160, GSM7, 1),
        ("a" * 161, GSM7, 2),
        ("a" * 306, GSM7, 2),
        ("a" * 307, GSM7, 3),
        ("€" * 80, GSM7, 1),  # an extension character takes two septets
        ("€" * 81, GSM7, 2),
        ("中" * 70, UCS2, 1),
        ("中" * 71, UCS2, 2),
        ("中" * 134, UCS2, 2),
        ("中" * 135, UCS2, 3),
        ("a" * 69 + "中", UCS2, 1),  # one Chinese character makes the whole text UCS-2
        ("a" * 70 + "中", UCS2, 2),
        ("😀" * 35, UCS2, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, UCS2, 2),
        ("", GSM7, 0),
    ],
)
def test_segments_count_by_encoding(text: str, kind: str, count: int) -> None:
    assert encoding(text) == kind
    assert segments(text) == count


def test_an_escape_pair_never_straddles_two_segments() -> None:
    # 152 septets, then "€" (2): it cannot fit in the first 153, so a third segment follows
    # after 153 more.
    assert segments("a" * 152 + "€" + "b" * 152) == 3
    assert segments("a" * 151 + "€" + "b" * 153) == 2


def test_typographic_look_alikes_keep_english_in_gsm7() -> None:
    text = smart("It’s “ready” – pick it up…")
    assert text == 'It\'s "ready" - pick it up...'
    assert encoding(text) == GSM7


@pytest.mark.parametrize(
    ("text", "more", "cap", "room"),
    [
        (
            "Your parcel is on its way to the pick-up point. " * 20,
            "...more in the chat link",
            2,
            306,
        ),
        ("您的包裹正在运往自提点，请留意短信通知。" * 20, "…更多内容见聊天链接", 2, 134),
        ("您的包裹正在运往自提点。" * 20, "…更多内容见聊天链接", 1, 70),
    ],
    ids=["en", "zh", "zh-one-segment"],
)
def test_a_long_text_is_cut_to_the_cap_and_says_more_in_the_chat_link(
    text: str, more: str, cap: int, room: int
) -> None:
    body = render(Outbound(text=text), max_segments=cap)
    assert segments(body) == cap
    assert body.endswith(more)
    assert text.startswith(body.removesuffix(more))
    # The segments are used: at most a word (English) or a punctuation mark is left over.
    assert room - 21 <= len(body) <= room


def test_english_is_cut_at_a_word() -> None:
    body = render(Outbound(text="alpha beta gamma delta " * 40), max_segments=1)
    assert body.removesuffix("...more in the chat link").split()[-1] in {
        "alpha",
        "beta",
        "gamma",
        "delta",
    }


@pytest.mark.parametrize(
    ("link", "language", "tail"),
    [
        ("https://shop.example/chat", "en", "...more in the chat link: https://shop.example/chat"),
        ("https://shop.example/chat", "zh", "…更多内容见聊天链接：https://shop.example/chat"),
    ],
)
def test_the_chat_link_follows_when_configured(link: str, language: str, tail: str) -> None:
    text = ("Refunds take 5 to 7 days. " if language == "en" else "退款需要五到七天。") * 40
    body = render(Outbound(text=text), max_segments=3, chat_link=link)
    assert body.endswith(tail) and segments(body) <= 3


def test_a_short_text_is_sent_as_it_is() -> None:
    assert render(Outbound(text="  Hi there  "), max_segments=1) == "Hi there"
    assert render(Outbound(text=""), max_segments=1) == ""


@pytest.mark.parametrize(
    ("question", "titles", "hint"),
    [
        ("Is the charging light on?", ["Yes", "No", "Not sure"], "Reply 1, 2 or 3"),
        ("充电指示灯亮了吗？", ["是", "否", "不确定"], "请回复 1、2 或 3"),
    ],
)
def test_buttons_become_a_numbered_list(question: str, titles: list[str], hint: str) -> None:
    buttons = tuple(Button(title=t, payload=f"/choice{i}") for i, t in enumerate(titles))
    body = render(Outbound(text=question, buttons=buttons), max_segments=4)
    lines = body.splitlines()
    assert lines[0] == question
    assert [f"{i}. {t}" for i, t in enumerate(titles, start=1)] == lines[2:5]
    assert lines[-1] == hint


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_cap_cuts_the_question_never_the_choices(language: str) -> None:
    question = (
        "Please describe what happened. " if language == "en" else "请描述发生了什么。"
    ) * 30
    titles = ["Yes", "No"] if language == "en" else ["是", "否"]
    buttons = tuple(Button(title=t, payload=t) for t in titles)
    body = render(Outbound(text=question, buttons=buttons), max_segments=2)
    assert segments(body) <= 2
    assert body.endswith("Reply 1 or 2" if language == "en" else "请回复 1 或 2")
    assert ("...more in the chat link" if language == "en" else "…更多内容见聊天链接") in body


def test_attachment_links_follow_the_text() -> None:
    outbound = Outbound(
        text="Here is your invoice",
        attachments=(Attachment(kind="document", name="invoice.pdf", url="https://x.example/i"),),
    )
    assert (
        render(outbound, max_segments=2)
        == "Here is your invoice\n\ninvoice.pdf: https://x.example/i"
    )


def test_fit_returns_the_text_when_it_fits() -> None:
    assert fit("short", 1, "...") == "short"
