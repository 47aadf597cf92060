"""The structured summary: who, what, feeling, key sentences — deterministic and offline."""

from __future__ import annotations

from typing import Any

from handoff.summary import CustomerFacts, as_text, describe_step, key_sentences, summarize
from hub.model import Customer, Event


def event(seq: int, kind: str, **data: Any) -> Event:
    return Event(conversation_id="cnv", seq=seq, type=kind, at=1000.0 + seq, data=data)


EVENTS = [
    event(1, "message.in", text="hi"),
    event(2, "bot.turn", intent="greet", confidence=0.99),
    event(3, "message.in", text="My router AX3000 drops Wi-Fi every evening since Monday."),
    event(4, "bot.turn", intent="router", confidence=0.87, slots={"model": "AX3000"}),
    event(5, "message.in", text="Yes, I already restarted it twice."),
    event(6, "message.in", text="ok"),
    event(7, "message.in", text="This is really frustrating, I work from home and lose calls."),
    event(8, "message.in", text="Order 55821 was the replacement and it is broken too!"),
]
CUSTOMER = Customer(
    id="cus_1",
    identities=("telegram:42", "email:ana@example.com"),
    attributes={"name": "Ana"},
    tags=("vip",),
)
TRIED: list[dict[str, Any]] = [
    {"flow": "router", "step": "held_power_10s", "asked": "Hold power 10 s?", "answer": "yes"},
    {"flow": "router", "step": "indicator_light", "answer": "off"},
    {"flow": "router", "step": "lookup", "action": "check_line", "failed": True},
]


def build() -> dict[str, Any]:
    return summarize(
        events=EVENTS,
        customer=CUSTOMER,
        facts=CustomerFacts(conversations_90d=3, complaints_90d=1, last_csat=4),
        channel="telegram",
        requested_at=1000.0,
        now=1000.0 + 420,
        reasons=["negative_sentiment"],
        tried=TRIED,
    )


def test_summary_fields() -> None:
    summary = build()
    assert summary["who"] == {
        "customer_id": "cus_1",
        "name": "Ana",
        "channels": ["email", "telegram"],
        "identities": ["telegram:42", "email:ana@example.com"],
        "tags": ["vip"],
        "vip": True,
        "conversations_90d": 3,
        "complaints_90d": 1,
        "last_csat": 4,
    }
    what = summary["what"]
    assert (what["intent"], what["confidence"], what["slots"]) == (
        "router",
        0.87,
        {"model": "AX3000"},
    )
    assert what["tried"] == [
        "held power 10s: yes",
        "indicator light: off",
        "ran check_line (failed)",
    ]
    assert summary["feeling"]["label"] == "negative"
    assert summary["waiting_seconds"] == 420 and summary["messages"] == 6


def test_key_sentences_are_informative_and_in_order() -> None:
    assert build()["key_sentences"] == [
        "My router AX3000 drops Wi-Fi every evening since Monday.",
        "This is really frustrating, I work from home and lose calls.",
        "Order 55821 was the replacement and it is broken too!",
    ]
    assert key_sentences(["hi", "ok", "yes"]) == []


def test_deterministic_and_readable() -> None:
    assert build() == build()
    text = as_text(build())
    assert text.splitlines()[0].startswith("Who: Ana [vip] via telegram (also email, telegram)")
    assert "Tried: held power 10s: yes; indicator light: off" in text
    assert "Waiting: 7 min" in text


def test_describe_step_variants() -> None:
    assert describe_step({"step": "ask_email", "gave_up": "email"}) == "ask email: no valid answer"
    assert describe_step({"step": "explain", "said": "…"}) == "explain: told the customer"
