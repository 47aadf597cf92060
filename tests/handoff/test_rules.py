"""Pure parts: business calendar, trigger words, priority rules, routing choice, settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from handoff.calendar import BusinessCalendar, weekly
from handoff.queue import Presence, Queue
from handoff.settings import AgentSpec, PriorityRule, Triggers, load_settings
from handoff.triggers import Signals, answered, find_words, fired, priority_for
from hub.errors import ConfigError
from hub.model import Event
from tests.handoff.helpers import at, handoff_yaml

WEEKDAYS = weekly({d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
CAL = BusinessCalendar(
    timezone="Asia/Shanghai", hours=WEEKDAYS, holidays=frozenset({dt.date(2026, 12, 25)})
)


# ------------------------------------------------------------------ calendar


def test_deadline_inside_a_working_day() -> None:
    assert CAL.add(at("2026-11-23 10:00"), 300) == at("2026-11-23 10:05")


def test_deadline_skips_the_night_and_the_weekend() -> None:
    assert CAL.add(at("2026-11-27 17:55"), 15 * 60) == at("2026-11-30 09:10")
    assert CAL.add(at("2026-11-28 12:00"), 60) == at("2026-11-30 09:01")  # Saturday


def test_deadline_skips_holidays() -> None:
    assert CAL.add(at("2026-12-24 17:00"), 2 * 3600) == at("2026-12-28 10:00")


def test_resolution_deadline_spans_days() -> None:
    # 24 business hours from Monday 10:00 = 2 days 6 hours of 9-hour days → Wednesday 16:00
    assert CAL.add(at("2026-11-23 10:00"), 24 * 3600) == at("2026-11-25 16:00")


def test_elapsed_and_open() -> None:
    assert CAL.elapsed(at("2026-11-27 17:00"), at("2026-11-30 10:00")) == 2 * 3600
    assert CAL.is_open(at("2026-11-23 09:00")) and not CAL.is_open(at("2026-11-23 18:00"))
    assert CAL.next_open(at("2026-11-28 08:00")) == at("2026-11-30 09:00")
    always = BusinessCalendar()
    assert always.add(100.0, 50) == 150.0 and always.is_open(0)


# ------------------------------------------------------------------ triggers


def test_words_match_whole_words_in_english_and_anywhere_in_chinese() -> None:
    words = {"en": ("urgent", "refund now"), "zh": ("紧急", "12315")}
    assert find_words("URGENT please", words) == ("urgent",)
    assert find_words("the insurgents", words) == ()
    assert find_words("I want a refund now!", words) == ("refund now",)
    assert find_words("非常紧急，打12315", words) == ("紧急", "12315")


SETTINGS = Triggers(
    human_intents=frozenset({"human"}),
    human_phrases={"en": ("real person",), "zh": ("转人工",)},
    vip_tags=frozenset({"vip"}),
    vip_mode="on_fallback",
)


@pytest.mark.parametrize(
    ("signals", "reasons"),
    [
        (Signals(text="x", language="en", intent="human"), ["human_request"]),
        (Signals(text="a real person please", language="en"), ["human_request"]),
        (Signals(text="x", language="en", fallback=True, fallbacks=3), ["fallbacks"]),
        (Signals(text="x", language="en", scores=(-0.8,)), ["negative_sentiment"]),
        (Signals(text="x", language="en", scores=(0.5, 0.1, -0.2, -0.4)), ["falling_sentiment"]),
        (Signals(text="x", language="en", scores=(0.5, -0.3)), []),  # too few for a trend
        (Signals(text="x", language="en", tags=frozenset({"vip"})), []),  # on_fallback only
        (
            Signals(text="x", language="en", tags=frozenset({"vip"}), fallback=True, fallbacks=1),
            ["vip"],
        ),
        (Signals(text="x", language="en", repeat_of="cnv-1"), ["repeat_contact"]),
        (Signals(text="x", language="en", flow_request={"reason": "r"}), ["flow"]),
        (
            Signals(text="x", language="en", matched_words={"complaint": ("投诉",)}),
            ["complaint_words"],
        ),
    ],
)
def test_fired(signals: Signals, reasons: list[str]) -> None:
    assert fired(SETTINGS, signals) == reasons


WORDS = {"complaint": ("complaint",), "urgent": ("urgent",)}


@pytest.mark.parametrize(
    ("signals", "reasons"),
    [
        # The bot answered from a confident FAQ/flow: the words yield to the answer …
        (Signals(text="x", language="en", answered=True, matched_words=WORDS, scores=(0.1,)), []),
        # … unless the message is strongly negative,
        (
            Signals(text="x", language="en", answered=True, matched_words=WORDS, scores=(-0.55,)),
            ["complaint_words", "urgent_words"],
        ),
        # … or asks for a person,
        (
            Signals(text="a real person please", language="en", answered=True, matched_words=WORDS),
            ["human_request"],
        ),
        # and without an answer (a fallback) the words hand off as before.
        (
            Signals(text="x", language="en", fallback=True, fallbacks=1, matched_words=WORDS),
            ["complaint_words", "urgent_words"],
        ),
    ],
)
def test_a_confident_answer_wins_over_words(signals: Signals, reasons: list[str]) -> None:
    assert fired(SETTINGS, signals) == reasons


def test_words_win_when_answers_are_not_preferred() -> None:
    settings = Triggers(answers_win=False)
    signals = Signals(text="x", language="en", answered=True, matched_words=WORDS)
    assert fired(settings, signals) == ["complaint_words", "urgent_words"]


def test_answered_reads_the_bot_turn() -> None:
    human = frozenset({"talk_to_human"})
    assert answered({"intent": "refund_policy", "handled_as": "faq"}, human_intents=human)
    assert answered({"intent": "check_order", "handled_as": "flow"}, human_intents=human)
    assert not answered({"intent": None, "handled_as": "fallback"}, human_intents=human)
    assert not answered({"intent": "talk_to_human", "handled_as": "flow"}, human_intents=human)
    assert not answered({"intent": "x", "handled_as": "slot"}, human_intents=human)


RULES = (
    PriorityRule(priority=1, reasons=frozenset({"complaint_words"})),
    PriorityRule(priority=1, tags=frozenset({"vip"})),
    PriorityRule(priority=1, complaints_90d=2),
    PriorityRule(priority=2, sentiment_below=-0.6),
    PriorityRule(reasons=frozenset({"flow"}), use_flow_priority=True),
)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"reasons": ["human_request"]}, 3),
        ({"reasons": ["complaint_words"]}, 1),
        ({"reasons": ["fallbacks"], "tags": frozenset({"vip"})}, 1),
        ({"reasons": ["fallbacks"], "complaints_90d": 2}, 1),
        ({"reasons": ["fallbacks"], "complaints_90d": 1}, 3),
        ({"reasons": ["fallbacks"], "score": -0.7}, 2),
        ({"reasons": ["flow"], "flow_priority": "P2"}, 2),
        ({"reasons": ["flow"], "flow_priority": 1}, 1),
        ({"reasons": ["flow"], "flow_priority": "urgent!"}, 3),
    ],
)
def test_priority_rules(kwargs: dict, expected: int) -> None:
    arguments = {"tags": frozenset(), "score": 0.0, "complaints_90d": 0, **kwargs}
    assert priority_for(RULES, default=3, **arguments) == expected


CAREFUL = (
    PriorityRule(priority=1, reasons=frozenset({"urgent_words"})),
    PriorityRule(reasons=frozenset({"flow"}), use_flow_priority=True, min_confidence=0.6),
    PriorityRule(intents=frozenset({"gift_cards"}), no_higher_than=2),
)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # A flow's P1 needs the bot to have been sure of the intent that started it.
        ({"reasons": ["flow"], "flow_priority": "P1", "confidence": 0.9}, 1),
        ({"reasons": ["flow"], "flow_priority": "P1", "confidence": 0.41}, 3),
        # Gift-card questions are never P1, whatever words they carry.
        ({"reasons": ["urgent_words"], "intent": "gift_cards"}, 2),
        ({"reasons": ["urgent_words"], "intent": "check_order"}, 1),
        ({"reasons": ["human_request"], "intent": "gift_cards"}, 3),
    ],
)
def test_priority_rules_with_care(kwargs: dict, expected: int) -> None:
    arguments = {"tags": frozenset(), "score": 0.0, "complaints_90d": 0, **kwargs}
    assert priority_for(CAREFUL, default=3, **arguments) == expected


def test_shipped_rules_never_make_a_gift_card_question_p1() -> None:
    settings = load_settings(Path(__file__).parents[2] / "config" / "handoff.yaml")
    for reasons in (["urgent_words"], ["complaint_words", "human_request"], ["flow"]):
        priority = priority_for(
            settings.rules,
            default=settings.default_priority,
            reasons=reasons,
            tags=frozenset(),
            score=-0.3,
            complaints_90d=0,
            flow_priority="P1",
            intent="gift_cards",
            confidence=0.95,
        )
        assert priority > 1, reasons


# ------------------------------------------------------------------ routing


def requested(conversation_id: str, priority: int, due: float, at_: float, **data) -> Event:
    sla = {"pickup_due": due, "pickup_warn": due, "resolve_due": due, "resolve_warn": due}
    return Event(
        conversation_id=conversation_id,
        seq=5,
        type="handoff.requested",
        at=at_,
        data={"priority_number": priority, "sla": sla, "language": "en", **data},
    )


def agent(agent_id: str, skills=("hardware",), languages=("en",), capacity=2) -> AgentSpec:
    return AgentSpec(
        id=agent_id,
        name=agent_id,
        skills=frozenset(skills),
        languages=frozenset(languages),
        capacity=capacity,
    )


def test_queue_order_priority_then_deadline_then_age() -> None:
    queue = Queue()
    queue.apply(requested("c-old-p3", 3, 500, 1))
    queue.apply(requested("c-p1", 1, 900, 5))
    queue.apply(requested("c-p3-due-soon", 3, 400, 9))
    queue.apply(requested("c-p3-same-due-newer", 3, 500, 2))
    assert [t.conversation_id for t in queue.waiting()] == [
        "c-p1",
        "c-p3-due-soon",
        "c-old-p3",
        "c-p3-same-due-newer",
    ]
    assert queue.position("c-old-p3") == 3


def test_choose_agent_by_skill_language_and_free_capacity() -> None:
    queue = Queue(
        {
            a.id: a
            for a in (
                agent("busy", capacity=1),
                agent("roomy", capacity=5),
                agent("zh", languages=("zh",), capacity=9),
                agent("billing", skills=("billing",), capacity=9),
                agent("away", capacity=9),
            )
        }
    )
    for name in ("busy", "roomy", "zh", "billing"):
        queue.agents[name].presence = Presence.ONLINE
    queue.agents["away"].presence = Presence.AWAY
    queue.apply(requested("c1", 3, 100, 1, skill="hardware"))
    ticket = queue.tickets["c1"]
    assert getattr(queue.choose_agent(ticket), "id", None) == "roomy"
    ticket.skipped.add("roomy")
    assert getattr(queue.choose_agent(ticket), "id", None) == "busy"
    queue.agents["busy"].active.add("other")
    assert queue.choose_agent(ticket) is None  # full, skipped, wrong language/skill, away
    ticket.language = "zh"
    assert getattr(queue.choose_agent(ticket), "id", None) == "zh"


# ------------------------------------------------------------------ settings


def test_demo_settings_load() -> None:
    settings = load_settings(Path(__file__).parents[2] / "config" / "handoff.yaml")
    assert settings.sla.pickup == {1: 300.0, 2: 600.0, 3: 900.0}
    assert settings.sla.resolve[3] == 48 * 3600
    assert {a.id for a in settings.agents} >= {"mei", "tom"}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"calendar": {"timezone": "Mars/Olympus"}}, "calendar.timezone: unknown time zone"),
        ({"calendar": {"hours": {"mon": ["18:00-09:00"]}}}, "must start before it ends"),
        ({"sla": {"warn_at": 1.5}}, "sla.warn_at: must be between 0 and 1"),
        ({"triggers": {"fallback": 3}}, "triggers.fallback: is not a known setting"),
        ({"priority": {"default": "P9"}}, "priority.default: must be one of P1, P2, P3"),
        ({"agents": [{"id": "a"}, {"id": "a"}]}, "agent ids must be unique"),
        ({"alerts": {"webhook_url": "ftp://x"}}, "must be an http(s) URL"),
        (
            {"priority": {"rules": [{"intents": ["x"], "no_higher_than": "P2", "priority": "P1"}]}},
            "priority.rules[0].no_higher_than: a cap cannot also propose a priority",
        ),
        (
            {"priority": {"rules": [{"reasons": ["flow"], "min_confidence": 1.5}]}},
            "priority.rules[0].min_confidence: must be between 0 and 1",
        ),
        ({"leave_queue": {"whole": {"fr": ["annuler"]}}}, "must be one of en, zh"),
        ({"leave_queue": {"buton": True}}, "leave_queue.buton: is not a known setting"),
    ],
)
def test_settings_errors_name_the_key(tmp_path: Path, override: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(handoff_yaml(tmp_path, **override))
    assert message in str(error.value)
