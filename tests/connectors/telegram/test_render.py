"""Outbound → Telegram messages, pacing and the callback mapping (pure, no network)."""

from __future__ import annotations

import pytest

from connectors.telegram.callbacks import CallbackCache, payload_from_events
from connectors.telegram.pacing import Pacer
from connectors.telegram.render import (
    MAX_CALLBACK_DATA,
    callback_data,
    escape,
    render,
    split_text,
    utf16_len,
)
from hub.model import Attachment, Button, Event, EventType, Outbound


def test_escape_makes_any_text_safe_html() -> None:
    assert escape("<b>hi</b> & _x_ *y*") == "&lt;b&gt;hi&lt;/b&gt; &amp; _x_ *y*"


def test_short_text_is_one_part() -> None:
    assert split_text("hello") == ["hello"]


def test_split_prefers_paragraphs_then_lines_then_spaces() -> None:
    paragraphs = ["p" * 3000, "q" * 3000]
    assert split_text("\n\n".join(paragraphs)) == paragraphs
    lines = ["l" * 3000, "m" * 3000]
    assert split_text("\n".join(lines)) == lines
    words = " ".join(["word"] * 2000)
    parts = split_text(words)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert " ".join(parts) == words


def test_split_cuts_a_huge_word_and_counts_emoji_twice() -> None:
    assert [len(p) for p in split_text("x" * 9000)] == [4096, 4096, 808]
    parts = split_text("😀" * 3000)  # 6,000 UTF-16 units
    assert [utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == "😀" * 3000


def test_a_long_paragraph_among_short_ones() -> None:
    text = "intro\n\n" + "a " * 3000 + "\n\noutro"
    parts = split_text(text)
    assert parts[0].startswith("intro") and parts[-1].endswith("outro")
    assert all(utf16_len(p) <= 4096 for p in parts)


def test_callback_data_fits_and_is_stable() -> None:
    assert callback_data("yes") == "yes"
    long = "x" * 65
    token = callback_data(long)
    assert token == callback_data(long) != long
    assert len(token.encode()) <= MAX_CALLBACK_DATA
    assert callback_data("fd1:looks-like-a-token") != "fd1:looks-like-a-token"
    assert len(callback_data("é" * 40).encode()) <= MAX_CALLBACK_DATA  # 80 bytes in UTF-8


def test_render_puts_the_keyboard_on_the_last_part() -> None:
    long = "p" * 100
    rendered = render(
        Outbound(
            text="a" * 3000 + "\n\n" + "<b>" * 1000,
            buttons=(Button(title="Yes", payload="yes"), Button(title="More", payload=long)),
        )
    )
    first, last = rendered.parts
    assert first.keyboard is None and last.keyboard is not None
    assert last.html.startswith("&lt;b&gt;")
    row = last.keyboard.inline_keyboard[0]
    assert [b.text for b in row] == ["Yes", "More"]
    assert rendered.callbacks == {callback_data(long): long}


def test_render_buttons_only_and_links() -> None:
    (part,) = render(Outbound(text="", buttons=(Button(title="Go", payload="go"),))).parts
    assert part.html and part.keyboard is not None
    (part,) = render(
        Outbound(text="See", attachments=(Attachment(kind="document", name="Menu", url="u"),))
    ).parts
    assert part.html == "See\n\nMenu: u"
    assert render(Outbound(text="  ")).parts == ()


def test_wide_titles_get_their_own_rows() -> None:
    rendered = render(
        Outbound(text="?", buttons=tuple(Button(title=t, payload=t) for t in ("A", "B", "C" * 40)))
    )
    keyboard = rendered.parts[0].keyboard
    assert keyboard is not None
    assert [[b.text for b in row] for row in keyboard.inline_keyboard] == [["A", "B"], ["C" * 40]]


def out_event(seq: int, *payloads: str) -> Event:
    outbound = Outbound(text="?", buttons=tuple(Button(title=p, payload=p) for p in payloads))
    return Event(
        conversation_id="c",
        seq=seq,
        type=EventType.MESSAGE_OUT,
        at=0,
        data={"outbound": outbound.to_json()},
    )


def test_payload_is_recovered_from_the_log() -> None:
    long = "a long payload " * 10
    events = [out_event(1, "x"), out_event(2, long), out_event(3, "y")]
    assert payload_from_events(callback_data(long), events) == long
    assert payload_from_events(callback_data("z" * 80), events) is None


def test_callback_cache_forgets_the_oldest() -> None:
    cache = CallbackCache(capacity=2)
    cache.remember({"a": "1", "b": "2"})
    assert cache.get("a") == "1"  # now "b" is the least recently used
    cache.remember({"c": "3"})
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("1", None, "3")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_pacer_spaces_one_chat_and_lets_others_through() -> None:
    clock = Clock()
    pacer = Pacer(per_second=30, chat_interval=1.0, group_interval=3.0, clock=clock)
    assert await pacer.reserve(1, max_wait=5) == 0
    assert await pacer.reserve(1, max_wait=5) == pytest.approx(1.0)
    assert await pacer.reserve(1, max_wait=5) == pytest.approx(2.0)
    # Another chat is not held up by chat 1's spacing, only by the global rate.
    assert await pacer.reserve(2, max_wait=5) == pytest.approx(1 / 30)
    assert await pacer.reserve(-100, max_wait=5) == pytest.approx(2 / 30)
    assert await pacer.reserve(-100, max_wait=5) == pytest.approx(
        2 / 30 + 3.0
    )  # groups: 20 a minute


async def test_pacer_refuses_long_waits_and_honours_pauses() -> None:
    clock = Clock()
    pacer = Pacer(per_second=1000, chat_interval=1.0, group_interval=3.0, clock=clock)
    await pacer.pause(7, 30)
    assert await pacer.reserve(7, max_wait=5) is None
    assert await pacer.wait_for(7) == pytest.approx(30)
    clock.now += 30
    assert await pacer.reserve(7, max_wait=5) == 0


async def test_global_rate_is_respected() -> None:
    clock = Clock()
    pacer = Pacer(per_second=30, chat_interval=0, group_interval=0, clock=clock)
    waits = [await pacer.reserve(chat, max_wait=10) for chat in range(60)]
    assert waits[-1] == pytest.approx(59 / 30)  # 60 chats take two seconds, none dropped
