"""The `followups:` section of handoff.yaml (回访): which resolved conversations get a
follow-up, when, and how — a question to the customer on their channel, or a task for the
agent who resolved it. Off unless `enabled: true`; every mistake names file, line and key.

    followups:
      enabled: true
      answer_within_days: 3        # an unanswered question is recorded as "no answer" after
      give_up_after_days: 7        # a follow-up this late (the hub was down) is skipped, said so
      opt_out_tags: [no_followup]  # customers with one of these tags are never followed up
      rules:                       # the first rule that matches a resolved conversation wins
        - name: complaints
          complaint: true
          after_hours: 24
          action: message          # or task: the resolving agent calls back
        - name: unhappy
          csat_at_most: 2
          after_days: 2
          action: task
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.config import Section

ACTIONS = ("message", "task")
PRIORITIES = ("P1", "P2", "P3")


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpRule:
    """Conditions that must all hold (an empty one holds always) and what to do when."""

    name: str
    after: float  # seconds after resolution; the due time then waits for business hours
    action: str = "message"
    complaint: bool | None = None
    csat_at_most: int = 0  # 0: not a condition
    priorities: frozenset[int] = frozenset()
    intents: frozenset[str] = frozenset()
    business_hours: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpSettings:
    enabled: bool = False
    rules: tuple[FollowUpRule, ...] = ()
    answer_within: float = 3 * 86400.0
    give_up_after: float = 7 * 86400.0
    opt_out_tags: frozenset[str] = frozenset({"no_followup"})
    #: Words that answer the question, per language, beside the buttons' own payloads.
    words: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)


def followup_settings(section: Section) -> FollowUpSettings:
    """Read and check the `followups` section (absent: follow-ups off)."""
    rules = []
    names: set[str] = set()
    for index, raw in enumerate(section.get_list("rules", [])):
        if not isinstance(raw, Mapping):
            raise section.error("rules", f"rule {index + 1} must be a mapping")
        rule = _rule(Section(raw, path=section.path, key=f"followups.rules[{index}]"), index)
        if rule.name in names:
            raise section.error("rules", f"rule names must be unique ({rule.name!r} twice)")
        names.add(rule.name)
        rules.append(rule)
    enabled = section.get_bool("enabled", False)
    if enabled and not rules:
        raise section.error("rules", "follow-ups are enabled but no rule says which ones")
    words = section.section("words")
    answers: dict[str, dict[str, tuple[str, ...]]] = {}
    for kind in words.names():
        if kind not in ("yes", "no", "stop"):
            raise words.error(kind, "must be one of yes, no, stop")
        per_language = words.section(kind)
        answers[kind] = {
            lang: tuple(str(w).casefold() for w in per_language.get_list(lang))
            for lang in per_language.names()
        }
    settings = FollowUpSettings(
        enabled=enabled,
        rules=tuple(rules),
        answer_within=86400.0 * _positive(section, "answer_within_days", 3.0),
        give_up_after=86400.0 * _positive(section, "give_up_after_days", 7.0),
        opt_out_tags=frozenset(
            str(t).casefold() for t in section.get_list("opt_out_tags", ["no_followup"])
        ),
        words=answers,
    )
    section.reject_unknown()
    return settings


def _rule(rule: Section, index: int) -> FollowUpRule:
    hours = rule.get_float("after_hours", 0.0)
    days = rule.get_float("after_days", 0.0)
    if (hours > 0) == (days > 0):
        raise rule.error("after_hours", "give exactly one of after_hours or after_days (> 0)")
    priorities = frozenset(
        PRIORITIES.index(str(p)) + 1 if str(p) in PRIORITIES else _bad_priority(rule, p)
        for p in rule.get_list("priorities", [])
    )
    parsed = FollowUpRule(
        name=rule.get_str("name", f"rule-{index + 1}")[:64],
        after=hours * 3600.0 if hours > 0 else days * 86400.0,
        action=rule.get_str("action", "message", choices=ACTIONS),
        complaint=rule.get_bool("complaint", False) if "complaint" in rule.data else None,
        csat_at_most=rule.get_int("csat_at_most", 0, minimum=0, maximum=5),
        priorities=priorities,
        intents=frozenset(str(i) for i in rule.get_list("intents", [])),
        business_hours=rule.get_bool("business_hours", True),
    )
    rule.reject_unknown()
    return parsed


def _bad_priority(rule: Section, value: object) -> int:
    raise rule.error("priorities", f"{value!r} is not one of {', '.join(PRIORITIES)}")


def _positive(section: Section, key: str, default: float) -> float:
    value = section.get_float(key, default)
    if value <= 0:
        raise section.error(key, f"must be more than 0 (got {value:g})")
    return value


__all__ = ["FollowUpRule", "FollowUpSettings", "followup_settings"]
