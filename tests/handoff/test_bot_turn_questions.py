"""A `bot.turn` that answered several questions of one message (`questions`, see
docs/dialogs.md): the hand-off's history remembers every intent, the console shows each."""

from __future__ import annotations

from handoff.console.views import timeline
from handoff.history import History, turn_intents
from hub.model import Event

TWO = {
    "intent": "check_order",
    "confidence": 0.91,
    "handled_as": "flow",
    "questions": [
        {"intent": "change_address", "confidence": 0.93},
        {"intent": "check_order", "confidence": 0.91},
    ],
}
ONE = {"intent": "shipping_cost", "confidence": 0.85, "handled_as": "faq"}


def test_turn_intents_lists_each_question_once() -> None:
    assert turn_intents(TWO) == ["check_order", "change_address"]
    assert turn_intents(ONE) == ["shipping_cost"]
    assert turn_intents({"intent": None, "handled_as": "fallback"}) == []


def test_the_history_remembers_every_question_live_and_rebuilt() -> None:
    live, rebuilt = History(), History()
    live.note_turn("cus", "c1", "check_order", 10.0, also=turn_intents(TWO))
    rebuilt.apply(Event(conversation_id="c1", seq=1, type="bot.turn", at=10.0, data=TWO), "cus")
    for history in (live, rebuilt):
        past = history.past("c1")
        assert past is not None and past.intents == {"change_address", "check_order"}
        # A later conversation about either question is a repeat of this one.
        repeat = history.repeat_of(
            "cus", "c2", "change_address", now=20.0, days=7, ignore=frozenset()
        )
        assert repeat == "c1"


def test_the_console_timeline_names_each_question_answered() -> None:
    events = [
        Event(conversation_id="c1", seq=1, type="bot.turn", at=1.0, data=TWO),
        Event(conversation_id="c1", seq=2, type="bot.turn", at=2.0, data=ONE),
    ]
    assert [item["text"] for item in timeline(events, channel="api")] == [
        "bot: change_address (0.93) + check_order (0.91)",
        "bot: shipping_cost (0.85)",
    ]
