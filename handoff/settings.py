"""`config/handoff.yaml`, read into frozen values; every mistake names file, line and key."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handoff.calendar import DAYS, BusinessCalendar, weekly
from handoff.followup_settings import FollowUpSettings, followup_settings
from hub.config import Section, read_section

PRIORITIES = ("P1", "P2", "P3")
LANGUAGES = ("en", "zh")


def priority_number(name: str) -> int:
    return PRIORITIES.index(name) + 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Triggers:
    human_intents: frozenset[str] = frozenset()
    human_phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fallbacks: int = 3
    sentiment_level: float = -0.6
    sentiment_trend: float = -0.5
    trend_window: int = 4
    complaint_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    urgent_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    answers_win: bool = True  # a confident FAQ/flow answer wins over complaint/urgent words …
    words_despite_below: float = -0.5  # … unless the message's sentiment is this negative
    vip_tags: frozenset[str] = frozenset({"vip"})
    vip_mode: str = "on_fallback"
    repeat_days: float = 7.0
    repeat_ignore: frozenset[str] = frozenset()
    flow: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityRule:
    """Matches when every condition given holds; proposes `priority` (or the flow's), or,
    with `no_higher_than`, caps how urgent the hand-off may be ("gift cards are never P1")."""

    priority: int = 3
    reasons: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    intents: frozenset[str] = frozenset()
    complaints_90d: int = 0
    sentiment_below: float | None = None
    min_confidence: float = 0.0  # the bot's confidence in the turn's intent
    use_flow_priority: bool = False
    no_higher_than: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sla:
    pickup: Mapping[int, float]  # priority → seconds of business time
    resolve: Mapping[int, float]
    warn_at: float = 0.8
    bump: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpec:
    id: str
    name: str
    skills: frozenset[str]
    languages: frozenset[str]
    capacity: int
    supervisor: bool = False
    team: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    accept_timeout: float = 60.0
    intent_skills: Mapping[str, str] = field(default_factory=dict)
    reason_skills: Mapping[str, str] = field(default_factory=dict)
    vip_skill: str = "vip"
    default_wait: float = 0.0  # per place while the history is thin; 0: say the place only
    update_interval: float = 120.0
    tick_interval: float = 1.0
    resync_interval: float = 15.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    csat: bool = True
    nps: bool = False
    comment_window: float = 600.0
    reopen_window: float = 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaveQueue:
    """How a customer still waiting for a person (not yet accepted) goes back to the bot."""

    button: bool = True  # a "Back to the bot" button with the queue message
    whole: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # the whole message
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # anywhere, not denied
    acknowledge: bool = True  # the first message written while waiting gets "an agent will see"


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffSettings:
    triggers: Triggers = field(default_factory=Triggers)
    default_priority: int = 3
    rules: tuple[PriorityRule, ...] = ()
    sla: Sla = field(
        default_factory=lambda: Sla(
            pickup={1: 300.0, 2: 600.0, 3: 900.0}, resolve={1: 7200.0, 2: 86400.0, 3: 172800.0}
        )
    )
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    routing: Routing = field(default_factory=Routing)
    agents: tuple[AgentSpec, ...] = ()
    alert_webhook: str = ""
    feedback: Feedback = field(default_factory=Feedback)
    leave: LeaveQueue = field(default_factory=LeaveQueue)
    followups: FollowUpSettings = field(default_factory=FollowUpSettings)
    status_commands: frozenset[str] = frozenset({"status", "/status", "进度"})
    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def load_settings(path: str | Path) -> HandoffSettings:
    """Read and validate a handoff.yaml."""
    root = read_section(path)
    priority = root.section("priority")
    default_priority = _priority(priority, "default", "P3")
    settings = HandoffSettings(
        triggers=_triggers(root.section("triggers")),
        default_priority=default_priority,
        rules=_rules(priority),
        sla=_sla(root.section("sla")),
        calendar=_calendar(root.section("calendar")),
        routing=_routing(root.section("routing")),
        agents=_agents(root),
        alert_webhook=_webhook(root.section("alerts")),
        feedback=_feedback(root.section("feedback")),
        leave=_leave(root.section("leave_queue")),
        followups=followup_settings(root.section("followups")),
        status_commands=frozenset(
            str(c).casefold() for c in root.get_list("status_commands", ["status", "进度"])
        ),
        messages=_messages(root),
    )
    root.reject_unknown()
    return settings


def _words(section: Section, name: str) -> dict[str, tuple[str, ...]]:
    words = section.section(name)
    result = {}
    for language in words.names():
        if language not in LANGUAGES:
            raise words.error(language, f"must be one of {', '.join(LANGUAGES)}")
        result[language] = tuple(str(w).casefold() for w in words.get_list(language))
    return result


def _triggers(section: Section) -> Triggers:
    human = section.section("human_request")
    sentiment = section.section("sentiment")
    words = section.section("words")
    vip = section.section("vip")
    repeat = section.section("repeat_contact")
    triggers = Triggers(
        human_intents=frozenset(human.get_list("intents", ["human"])),
        human_phrases=_words(human, "phrases"),
        fallbacks=section.get_int("fallbacks", 3, minimum=1, maximum=100),
        sentiment_level=sentiment.get_float("level", -0.6, minimum=-1.0),
        sentiment_trend=sentiment.get_float("trend", -0.5, minimum=-2.0),
        trend_window=sentiment.get_int("trend_window", 4, minimum=3, maximum=50),
        complaint_words=_words(words, "complaint"),
        urgent_words=_words(words, "urgent"),
        answers_win=words.get_bool("answers_win", True),
        words_despite_below=words.get_float("unless_sentiment_below", -0.5, minimum=-1.0),
        vip_tags=frozenset(str(t).casefold() for t in vip.get_list("tags", ["vip"])),
        vip_mode=vip.get_str("mode", "on_fallback", choices=("immediate", "on_fallback", "off")),
        repeat_days=repeat.get_float("within_days", 7.0),
        repeat_ignore=frozenset(repeat.get_list("ignore_intents", [])),
        flow=section.get_bool("flow", True),
    )
    for part in (human, sentiment, words, vip, repeat, section):
        part.reject_unknown()
    return triggers


def _priority(section: Section, name: str, default: str) -> int:
    return priority_number(section.get_str(name, default, choices=PRIORITIES))


def _rules(section: Section) -> tuple[PriorityRule, ...]:
    rules = []
    for index, raw in enumerate(section.get_list("rules", [])):
        if not isinstance(raw, Mapping):
            raise section.error("rules", f"rule {index + 1} must be a mapping")
        rule = Section(raw, path=section.path, key=f"priority.rules[{index}]")
        use_flow = rule.get_bool("use_flow_priority", False)
        below = rule.get_float("sentiment_below", -9.0, minimum=-9.0)
        cap = _priority(rule, "no_higher_than", "P3") if "no_higher_than" in rule.data else None
        if cap is not None and (use_flow or "priority" in rule.data):
            raise rule.error("no_higher_than", "a cap cannot also propose a priority")
        rules.append(
            PriorityRule(
                priority=_priority(rule, "priority", "P3") if not use_flow else 3,
                reasons=frozenset(rule.get_list("reasons", [])),
                tags=frozenset(str(t).casefold() for t in rule.get_list("tags", [])),
                intents=frozenset(str(i) for i in rule.get_list("intents", [])),
                complaints_90d=rule.get_int("complaints_90d", 0),
                sentiment_below=None if below == -9.0 else below,
                min_confidence=_share(rule, "min_confidence"),
                use_flow_priority=use_flow,
                no_higher_than=cap,
            )
        )
        rule.reject_unknown()
    section.reject_unknown()
    return tuple(rules)


def _share(section: Section, name: str) -> float:
    value = section.get_float(name, 0.0)
    if value > 1:
        raise section.error(name, f"must be between 0 and 1 (got {value:g})")
    return value


def _sla(section: Section) -> Sla:
    defaults = {"P1": (5, 120), "P2": (10, 1440), "P3": (15, 2880)}
    pickup, resolve = {}, {}
    for name, (pick_default, resolve_default) in defaults.items():
        level = section.section(name)
        pickup[priority_number(name)] = 60.0 * level.get_float("pickup", pick_default)
        resolve[priority_number(name)] = 60.0 * level.get_float("resolve", resolve_default)
        level.reject_unknown()
    sla = Sla(
        pickup=pickup,
        resolve=resolve,
        warn_at=section.get_float("warn_at", 0.8),
        bump=section.get_bool("breach_bumps_priority", True),
    )
    if not 0 < sla.warn_at < 1:
        raise section.error("warn_at", "must be between 0 and 1")
    section.reject_unknown()
    return sla


def _calendar(section: Section) -> BusinessCalendar:
    timezone = section.get_str("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise section.error("timezone", f"unknown time zone {timezone!r}") from None
    hours = section.section("hours")
    raw_hours: dict[str, list[str]] = {}
    for day in hours.names():
        if day not in DAYS:
            raise hours.error(day, f"must be one of {', '.join(DAYS)}")
        raw_hours[day] = [str(r) for r in hours.get_list(day, [])]
    try:
        table = weekly(raw_hours)
    except ValueError as error:
        raise section.error("hours", str(error)) from None
    holidays = set()
    for text in section.get_list("holidays", []):
        try:
            holidays.add(dt.date.fromisoformat(str(text)))
        except ValueError:
            raise section.error("holidays", f"{text!r} is not a date like 2026-12-25") from None
    section.reject_unknown()
    return BusinessCalendar(timezone=timezone, hours=table, holidays=frozenset(holidays))


def _routing(section: Section) -> Routing:
    routing = Routing(
        accept_timeout=section.get_float("accept_timeout", 60.0),
        intent_skills={str(k): str(v) for k, v in section.section("intent_skills").data.items()},
        reason_skills={str(k): str(v) for k, v in section.section("reason_skills").data.items()},
        vip_skill=section.get_str("vip_skill", "vip"),
        default_wait=section.get_float("default_wait", 0.0, minimum=0.0),
        update_interval=section.get_float("update_interval", 120.0),
        tick_interval=section.get_float("tick_interval", 1.0, minimum=0.05),
        resync_interval=section.get_float("resync_interval", 15.0, minimum=1.0),
    )
    section.reject_unknown()
    return routing


def _agents(root: Section) -> tuple[AgentSpec, ...]:
    agents: list[AgentSpec] = []
    for index, raw in enumerate(root.get_list("agents", [])):
        if not isinstance(raw, Mapping):
            raise root.error("agents", f"agent {index + 1} must be a mapping")
        agents.append(agent_spec(Section(raw, path=root.path, key=f"agents[{index}]")))
    ids = [a.id for a in agents]
    if len(set(ids)) != len(ids):
        raise root.error("agents", "agent ids must be unique")
    return tuple(agents)


# An agent's id is also their console account's id (in URLs, the CLI and @mentions): ASCII
# only, one rule for handoff.yaml, the API and the account store.
AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def agent_spec(section: Section) -> AgentSpec:
    """One agent from config or from the API (same validation for both)."""
    agent_id = section.get_str("id")
    if not AGENT_ID.fullmatch(agent_id):
        raise section.error("id", "must be 1-64 ASCII letters, digits, '-' or '_'")
    languages = frozenset(str(x) for x in section.get_list("languages", ["en"]))
    if not languages <= set(LANGUAGES):
        raise section.error("languages", f"must be a list of {', '.join(LANGUAGES)}")
    spec = AgentSpec(
        id=agent_id,
        name=section.get_str("name", agent_id)[:80],
        skills=frozenset(str(x) for x in section.get_list("skills", [])),
        languages=languages,
        capacity=section.get_int("capacity", 3, minimum=1, maximum=100),
        supervisor=section.get_bool("supervisor", False),
        team=section.get_str("team", "")[:80],
    )
    section.reject_unknown()
    return spec


def _webhook(section: Section) -> str:
    url = section.get_str("webhook_url", "")
    if url and not url.startswith(("http://", "https://")):
        raise section.error("webhook_url", f"must be an http(s) URL (got {url!r})")
    section.reject_unknown()
    return url


def _feedback(section: Section) -> Feedback:
    feedback = Feedback(
        csat=section.get_bool("csat", True),
        nps=section.get_bool("nps", False),
        comment_window=section.get_float("comment_window", 600.0),
        reopen_window=section.get_float("reopen_window", 86400.0),
    )
    section.reject_unknown()
    return feedback


def _leave(section: Section) -> LeaveQueue:
    leave = LeaveQueue(
        button=section.get_bool("button", True),
        whole=_words(section, "whole"),
        phrases=_words(section, "phrases"),
        acknowledge=section.get_bool("acknowledge", True),
    )
    section.reject_unknown()
    return leave


def _messages(root: Section) -> dict[str, dict[str, str]]:
    section = root.section("messages")
    result: dict[str, dict[str, str]] = {}
    for key in section.names():
        texts = section.section(key)
        result[key] = {lang: texts.get_str(lang) for lang in texts.names()}
    return result


def raw_section(data: Mapping[str, Any], *, key: str) -> Section:
    """A Section over an API body, so agents added by API are validated like config."""
    return Section(data, path="request body", key=key)
