"""The reports' arithmetic on cases whose answers are known: Erlang C against published
tables, the forecast on a seasonal series, the heatmap's time zone, grouping of unanswered
lines in both languages, week-on-week hotspots, and CSV that spreadsheets read as text."""

from __future__ import annotations

import io
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from ruamel.yaml import YAML

from handoff.reports.export import csv_lines, safe_cell
from handoff.reports.hotspots import Case, hotspots
from handoff.reports.staffing import (
    HOURS_PER_WEEK,
    agents_needed,
    erlang_c,
    forecast,
    heatmap,
    service_level,
)
from handoff.reports.unanswered import Line, group_lines, unanswered_lines, yaml_stub
from hub.model import Conversation, ConversationStatus, Event

SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------- Erlang C


@pytest.mark.parametrize(("servers", "expected"), [(11, 0.6821), (12, 0.4494), (13, 0.2853)])
def test_erlang_c_matches_the_published_table(servers: int, expected: float) -> None:
    # 10 Erlangs of traffic: the classic textbook table.
    assert erlang_c(servers, 10.0) == pytest.approx(expected, abs=1e-4)


def test_service_level_and_agents_needed() -> None:
    # 10 Erlangs, 180 s handle time, 20 s target: 14 servers reach 80 % (88.8 %), 13 do not
    # (79.6 %).
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.796, abs=1e-3)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.888, abs=1e-3)
    assert agents_needed(200, handle_seconds=180, target_seconds=20) == 14
    # Three chats at once per agent: 15 seats, so 5 agents.
    assert agents_needed(200, handle_seconds=180, target_seconds=20, concurrency=3) == 5
    assert agents_needed(0, handle_seconds=180) == 0
    assert erlang_c(5, 7.0) == 1.0  # overloaded: everyone waits


# ---------------------------------------------------------------- forecast and heatmap


def seasonal_series(weeks: int, noise: float, seed: int = 1) -> list[int]:
    rng = np.random.default_rng(seed)
    hours = np.arange(weeks * HOURS_PER_WEEK)
    daily = 5 + 4 * np.sin((hours % 24 - 8) / 24 * 2 * math.pi)
    weekly = np.where((hours // 24) % 7 >= 5, 0.6, 1.0)
    return [int(v) for v in np.maximum(0, rng.normal(daily * weekly, noise))]


def test_holt_winters_learns_the_week_and_reports_its_backtest() -> None:
    history = seasonal_series(weeks=5, noise=0.5)
    result = forecast(history, start=0.0)
    assert result.method == "holt-winters" and len(result.hourly) == HOURS_PER_WEEK
    assert result.backtest_wape is not None and result.backtest_wape < 0.2
    expected = seasonal_series(weeks=6, noise=0.0)[-HOURS_PER_WEEK:]
    error = np.mean(np.abs(np.array(result.hourly) - np.array(expected)))
    assert error < 1.0  # about one conversation an hour on a 1–9 per hour series
    assert min(result.hourly) >= 0.0


def test_short_history_falls_back_to_the_weekly_average_and_says_so() -> None:
    result = forecast([2, 0, 4] * 56, start=0.0)  # one week
    assert result.method == "weekly average" and result.backtest_mae is None
    assert forecast([], start=0.0).hourly == (0.0,) * HOURS_PER_WEEK


def test_heatmap_counts_in_the_team_time_zone() -> None:
    monday_evening = datetime(2026, 11, 30, 20, 30, tzinfo=SHANGHAI).timestamp()
    sunday_night_utc = datetime(2026, 11, 29, 23, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    grid = heatmap([monday_evening, monday_evening + 60, sunday_night_utc], "Asia/Shanghai")
    assert grid[0][20] == 2
    assert grid[0][7] == 1  # Sunday 23:00 UTC is Monday 07:00 in Shanghai


# ---------------------------------------------------------------- unanswered


def conversation(id_: str = "c1") -> Conversation:
    return Conversation(
        id=id_,
        customer_id="u1",
        status=ConversationStatus.RESOLVED,
        channel="webchat",
        address="v1",
    )


def event(seq: int, type_: str, **data: object) -> Event:
    return Event(conversation_id="c1", seq=seq, type=type_, at=1000.0 + seq, data=data)


def test_unanswered_lines_are_fallbacks_and_unhelpful_articles() -> None:
    events = [
        event(1, "message.in", text="do you sell refurbished phones"),
        event(2, "bot.turn", handled_as="fallback", lang="en"),
        event(3, "message.in", text="what are your opening hours"),
        event(4, "bot.turn", handled_as="faq", lang="en", intent="opening_hours"),
        event(5, "message.in", text="手表能戴着游泳吗"),
        event(6, "bot.turn", handled_as="knowledge", lang="zh"),
        event(7, "message.in", text="/kb_not_helped"),
        event(8, "bot.turn", handled_as="kb_not_helped", lang="zh"),
        event(9, "kb.feedback", article="water-resistance", helpful=False),
    ]
    lines = unanswered_lines(conversation(), events)
    assert [(line.text, line.lang, line.why) for line in lines] == [
        ("do you sell refurbished phones", "en", "fallback"),
        ("手表能戴着游泳吗", "zh", "kb_not_helped"),
    ]


def line(text: str, lang: str, n: int) -> Line:
    return Line(text, lang, f"c{n}", float(n), "fallback")


def test_lines_that_say_the_same_thing_are_grouped_per_language() -> None:
    texts = [
        ("do you sell refurbished phones", "en"),
        ("Do you sell refurbished phones?", "en"),
        ("do you sell any refurbished phones", "en"),
        ("can I rent a camera for the weekend", "en"),
        ("有没有翻新手机卖", "zh"),
        ("你们卖翻新手机吗", "zh"),
        ("相机可以租吗", "zh"),
    ]
    groups = group_lines(line(text, lang, n) for n, (text, lang) in enumerate(texts))
    sizes = sorted((g.lang, g.count) for g in groups)
    assert sizes == [("en", 1), ("en", 3), ("zh", 1), ("zh", 2)]
    biggest = groups[0]
    assert biggest.lang == "en" and "refurbished" in biggest.words
    assert biggest.name().startswith(("phones", "refurbished", "sell"))


def test_the_yaml_stub_is_valid_yaml_whatever_the_customer_wrote() -> None:
    hostile = ['- @=cmd|"/c calc": x', "{{ 7*7 }}", "退款\t多久"]
    groups = group_lines(line(text, "en", n) for n, text in enumerate(hostile * 2))
    for group in groups:
        parsed = YAML(typ="safe").load(io.StringIO(yaml_stub(group)))
        ((_name, intent),) = parsed["intents"].items()
        assert set(intent["examples"]) <= set(hostile) and intent["examples"]


# ---------------------------------------------------------------- hotspots


def case(n: int, day: int, reason: str, *words: str) -> Case:
    at = datetime(2026, 11, day, 12, tzinfo=SHANGHAI).timestamp()
    return Case(f"c{n}", at, reason, "complaint", tuple(words))


def test_hotspots_compare_each_week_with_the_one_before() -> None:
    cases = [
        case(1, 17, "late_delivery", "parcel", "late"),  # week of Mon 16 Nov
        case(2, 18, "refund_delay", "refund"),
        case(3, 24, "refund_delay", "refund"),  # week of Mon 23 Nov
        case(4, 25, "refund_delay", "refund", "bank"),
        case(5, 29, "refund_delay", "refund"),  # Sunday 29 Nov: still that week
    ]
    this_week, last_week = hotspots(cases, "Asia/Shanghai")
    assert this_week["week"] == "2026-11-23" and last_week["week"] == "2026-11-16"
    assert this_week["reasons"][0] == {
        "reason": "refund_delay",
        "count": 3,
        "before": 1,
        "conversations": ["c3", "c4", "c5"],
    }
    assert {"word": "refund", "count": 3, "before": 1} in this_week["words"]
    assert last_week["cases_before"] == 0


# ---------------------------------------------------------------- CSV


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_defused(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


def test_csv_streams_rows_and_keeps_numbers_and_chinese() -> None:
    lines = csv_lines(
        ("reason", "count", "delta"), iter([("退款慢", 3, -2), ("=HYPERLINK()", 1, 0)])
    )
    assert next(lines) == "\ufeffreason,count,delta\r\n"
    assert next(lines) == "退款慢,3,-2\r\n"
    assert next(lines) == "'=HYPERLINK(),1,0\r\n"
    assert next(lines, None) is None
