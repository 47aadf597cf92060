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
    {"flow": "router", "step": "1", "said": "Sorry to hear that! Let's try a few things."},
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
    assert text.splitlines()[0].startswith("Who: Ana [vip] via telegram (also email);")
    assert "Tried: held power 10s: yes; indicator light: off" in text
    assert "Waiting: 7 min" in text


def test_what_the_bot_answered_is_listed_with_how_often() -> None:
    # "As I said above": the same answer twice, then a person; an agent need not repeat it.
    answered = [
        event(1, "message.in", text="你好"),
        event(2, "bot.turn", intent="greet", handled_as="faq", small_talk=True),
        event(3, "message.in", text="我被扣了两次钱"),
        event(4, "bot.turn", intent="charged_twice", confidence=0.93, handled_as="faq"),
        event(5, "message.in", text="昨天扣的"),
        event(6, "bot.turn", intent="charged_twice", handled_as="faq", repeated=True),
        event(7, "message.in", text="do I need a receipt?"),
        event(8, "bot.turn", intent=None, handled_as="knowledge"),
        event(9, "kb.answered", article="receipts", lang="en", passage=0),
    ]
    summary = summarize(
        events=answered,
        customer=CUSTOMER,
        facts=CustomerFacts(conversations_90d=0, complaints_90d=0, last_csat=None),
        channel="api",
        requested_at=1000.0,
        now=1000.0,
    )
    assert summary["what"]["answered"] == [
        {"answer": "charged_twice", "times": 2},
        {"answer": "article receipts", "times": 1},
    ]
    assert "Answered: charged_twice ×2; article receipts" in as_text(summary)
    assert "Answered:" not in as_text(build())  # nothing answered: no line


def test_a_customer_on_one_channel_is_not_said_to_be_also_on_it() -> None:
    alone = Customer(id="cus_2", identities=("telegram:7",), attributes={}, tags=())
    summary = summarize(
        events=EVENTS,
        customer=alone,
        facts=CustomerFacts(conversations_90d=0, complaints_90d=0, last_csat=None),
        channel="telegram",
        requested_at=1000.0,
        now=1000.0,
        reasons=[],
        tried=[],
    )
    assert as_text(summary).splitlines()[0].startswith("Who: cus_2 via telegram; 0 conversations")


def test_describe_step_variants() -> None:
    assert describe_step({"step": "ask_email", "gave_up": "email"}) == "ask email: no valid answer"
    assert describe_step({"step": "explain", "said": "…"}) == "explain: told the customer"
    # An opening line at a step the operator did not name is nothing the customer tried.
    assert describe_step({"step": "1", "said": "Let's try a few things together."}) == ""


def said(*texts: str) -> list[Event]:
    return [event(i + 1, "message.in", text=text) for i, text in enumerate(texts)]


def summary_of(events: list[Event], **what: Any) -> dict[str, Any]:
    return summarize(
        events=[*events, event(99, "bot.turn", intent="order_status", confidence=0.9, **what)],
        customer=CUSTOMER,
        facts=CustomerFacts(),
        channel="webchat",
        requested_at=1000.0,
        now=1000.0,
    )


def test_the_mood_is_the_whole_customer_side_not_the_last_message() -> None:
    angry = said(
        "This is the worst service ever, I am furious and I want my money back!",
        "Nobody answers, this is a disgrace.",
        "status",
        "ok",
    )
    feeling = summary_of(angry)["feeling"]
    assert feeling["label"] == "negative" and feeling["latest"] > 0  # "ok" reads positive
    assert feeling["trend_label"] != "rising"  # the status check is no change of heart
    angry_zh = said("你们的服务太差了，气死我了，我要投诉！", "一直没人理，太过分了", "进度")
    assert summary_of(angry_zh)["feeling"]["label"] == "negative"
    # Recent messages weigh most: a customer who calmed down reads calmer than they began.
    calmed = said("This is awful and broken.", "ok it works now, great, thank you so much!")
    assert summary_of(calmed)["feeling"]["score"] > sentiment_score("This is awful and broken.")


def sentiment_score(text: str) -> float:
    from handoff import sentiment

    return sentiment.score(text)


def test_slots_are_shown_with_their_human_labels() -> None:
    summary = summary_of(
        said("where is my order 20261001"),
        slots={"order_id": "20261001", "order_status": "shipped", "delivery_city": "Hangzhou"},
    )
    details = summary["what"]["details"]
    assert [(d["label"]["en"], d["value"]) for d in details] == [
        ("Order number", "20261001"),
        ("Order status", "shipped"),
        ("Delivery city", "Hangzhou"),
    ]
    assert details[0]["label"]["zh"] == "订单号"
    text = as_text(summary)
    assert "Details: Order number: 20261001; Order status: shipped" in text
    assert "order_id=" not in text and "order_id:" not in text


def test_commands_and_one_word_status_checks_are_never_key_sentences() -> None:
    sentences = summary_of(
        said("进度", "status", "/csat 4", "ok", "我的订单 20261001 三天没动了", "查询进度")
    )["key_sentences"]
    assert sentences == ["我的订单 20261001 三天没动了"]
    assert key_sentences(["进度", "状态?", "thanks", "开机了", "转人工", "Talk to a human!"]) == []
