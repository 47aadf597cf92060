"""A frame for a visitor with several tabs open is encoded once, and every tab gets the
same text a single tab would have."""

from __future__ import annotations

import json

import pytest

from connectors.webchat import protocol
from connectors.webchat.sessions import Sessions, SocketListener
from hub import jsonio

TEXTS = {"en": "Your order ships today.", "zh": "您的订单今天发货。"}


def reply_frame(text: str) -> dict[str, object]:
    return {
        "type": "message",
        "conversation_id": "con_1",
        "seq": 3,
        "direction": "out",
        "text": text,
        "buttons": [],
    }


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_one_encoding_for_every_tab(monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    sessions = Sessions(rate=10, burst=10, max_per_visitor=5)
    tabs = [SocketListener("v1", max_pending=10) for _ in range(3)]
    for tab in tabs:
        assert sessions.add(tab)
    encoded: list[object] = []
    real = jsonio.dumps

    def counting(value: object) -> str:
        encoded.append(value)
        return real(value)

    monkeypatch.setattr(jsonio, "dumps", counting)  # the module protocol encodes with
    frame = reply_frame(TEXTS[language])
    assert sessions.publish("v1", frame) == 3
    texts = [protocol.encode(tab.queue.take_nowait()[0] or {}) for tab in tabs]
    assert len(encoded) == 1
    assert texts == [real(frame)] * 3
    assert json.loads(texts[0])["text"] == TEXTS[language]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_single_tab_gets_the_frame_itself(language: str) -> None:
    sessions = Sessions(rate=10, burst=10, max_per_visitor=5)
    tab = SocketListener("v1", max_pending=10)
    assert sessions.add(tab)
    frame = reply_frame(TEXTS[language])
    sessions.publish("v1", frame)
    assert tab.queue.take_nowait()[0] is frame  # nothing copied when nothing is shared
