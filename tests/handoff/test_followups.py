"""Follow-up rules and answers: which resolved conversation gets which follow-up and when
(business hours), what a typed answer means in either language, and handoff.yaml mistakes
named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.calendar import BusinessCalendar, weekly
from handoff.followup_settings import FollowUpRule, FollowUpSettings
from handoff.followups import FollowUps, classify
from handoff.history import Past
from handoff.settings import HandoffSettings, load_settings
from hub.errors import ConfigError
from tests.handoff.helpers import at


@pytest.mark.parametrize(
    ("language", "text", "kind"),
    [
        ("en", "/followup yes", "yes"),
        ("en", "Yes!", "yes"),
        ("en", "it works now, thanks", "yes"),
        ("en", "no", "no"),
        ("en", "not solved, it broke again", "no"),
        ("en", "please stop asking me", "stop"),
        ("en", "what are your opening hours?", ""),
        ("zh", "/followup no", "no"),
        ("zh", "是的", "yes"),
        ("zh", "已经好了，谢谢", "yes"),
        ("zh", "没有解决", "no"),
        ("zh", "还是不行", "no"),
        ("zh", "不要再回访我了", "stop"),
        ("zh", "你们几点上班？", ""),
    ],
)
def test_typed_answers(language: str, text: str, kind: str) -> None:
    assert classify(text) == kind


def test_operator_words_answer_too() -> None:
    assert classify("👍", {"yes": {"en": ("👍",)}}) == "yes"


class _Engine:
    """What `FollowUps.rule_for` and `due_at` read of the engine: its settings."""

    def __init__(self, settings: HandoffSettings) -> None:
        self.settings = settings


def _followups(*rules: FollowUpRule) -> FollowUps:
    calendar = BusinessCalendar(
        timezone="Asia/Shanghai", hours=weekly({d: ["09:00-18:00"] for d in ("mon", "fri")})
    )
    settings = HandoffSettings(
        calendar=calendar, followups=FollowUpSettings(enabled=True, rules=rules)
    )
    return FollowUps(_Engine(settings))  # type: ignore[arg-type]


def _past(**fields: object) -> Past:
    values: dict[str, object] = {
        "conversation_id": "c1", "customer_id": "k1", "started": 0.0, "agent_id": "bo",
        "resolved_at": at("2026-11-27 17:30"),
    }  # fmt: skip
    values.update(fields)
    return Past(**values)  # type: ignore[arg-type]


def test_the_first_matching_rule_wins_and_waits_for_business_hours() -> None:
    followups = _followups(
        FollowUpRule(name="complaints", complaint=True, after=86400.0),
        FollowUpRule(name="unhappy", csat_at_most=2, after=3600.0, action="task"),
        FollowUpRule(name="p1", priorities=frozenset({1}), after=7200.0, business_hours=False),
    )
    complaint = _past(complaint=True, csat=1)
    rule = followups.rule_for(complaint)
    assert rule is not None and rule.name == "complaints"
    # Friday 17:30 + 24 h is Saturday; the business next opens on Monday at 09:00.
    assert followups.due_at(complaint, rule) == at("2026-11-30 09:00")
    unhappy = followups.rule_for(_past(csat=2))
    assert unhappy is not None and unhappy.action == "task"
    assert followups.rule_for(_past(csat=3)) is None  # no CSAT rule for a 3, not P1
    assert followups.rule_for(_past()) is None  # not rated: the CSAT rule does not match
    urgent = followups.rule_for(_past(priority=1))
    assert urgent is not None and urgent.name == "p1"
    assert followups.due_at(_past(priority=1), urgent) == at("2026-11-27 19:30")


@pytest.mark.parametrize(
    ("section", "line", "message"),
    [
        ("followups:\n  enabled: true\n", 2, "no rule says which ones"),
        (
            "followups:\n  rules:\n    - {name: a, after_hours: 2, after_days: 1}\n",
            3,
            "exactly one of after_hours or after_days",
        ),
        (
            "followups:\n  rules:\n    - {name: a, after_days: 1, action: call}\n",
            3,
            "must be one of message, task",
        ),
        (
            "followups:\n  rules:\n    - {name: a, after_days: 1, priorities: [P9]}\n",
            3,
            "'P9' is not one of P1, P2, P3",
        ),
        ("followups:\n  answer_within_days: 0\n", 2, "must be more than 0"),
        ("followups:\n  rule: []\n", 2, "rule"),
    ],
)
def test_mistakes_name_file_and_line(tmp_path: Path, section: str, line: int, message: str) -> None:
    path = tmp_path / "handoff.yaml"
    path.write_text(section, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert message in str(error.value)
    assert error.value.path.endswith("handoff.yaml") and error.value.line == line


def test_shipped_config_keeps_followups_off() -> None:
    settings = load_settings(Path(__file__).parents[2] / "config" / "handoff.yaml")
    assert not settings.followups.enabled
    assert [r.name for r in settings.followups.rules] == ["complaints", "unhappy", "urgent"]
