"""The report email's content: the same figures as the console's report pages (one `Reports`
service), summed up for the day or week, rendered as plain text and escaped HTML with one
section per language (English and Chinese by default).

Everything a customer wrote (unanswered lines) reaches the HTML part only through Jinja2's
autoescape; the subject is made of dates and fixed words only, so nothing from outside can
reach a header.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from handoff.reports.followups import COLUMNS
from handoff.reports.service import Reports

TEMPLATES = Path(__file__).parent / "templates"
TOP = 5

LABELS: dict[str, dict[str, str]] = {
    "daily": {"en": "Daily report", "zh": "每日报表"},
    "weekly": {"en": "Weekly report", "zh": "每周报表"},
    "period": {"en": "Period", "zh": "统计区间"},
    "volume": {"en": "Volume", "zh": "话务量"},
    "conversations": {"en": "Conversations in the last 28 days", "zh": "最近 28 天会话数"},
    "staffing": {
        "en": "Agents needed, next 7 days (peak hour)",
        "zh": "未来 7 天所需客服（高峰时段）",
    },
    "day": {"en": "Day", "zh": "日期"},
    "expected": {"en": "Expected conversations", "zh": "预计会话数"},
    "agents": {"en": "Agents at the peak", "zh": "高峰所需客服"},
    "hotspots": {"en": "Complaint hotspots this week", "zh": "本周投诉热点"},
    "reason": {"en": "Reason", "zh": "原因"},
    "count": {"en": "Count", "zh": "数量"},
    "before": {"en": "Week before", "zh": "上周"},
    "unanswered": {"en": "Questions the bot could not answer", "zh": "机器人未能解答的问题"},
    "example": {"en": "Example", "zh": "示例"},
    "followups": {"en": "Follow-ups", "zh": "回访"},
    "none": {"en": "Nothing in this period.", "zh": "本期无数据。"},
    "console": {
        "en": "Details, drill-down and CSV: the Reports pages of the console.",
        "zh": "详细数据、明细和 CSV 下载：请查看客服控制台的报表页面。",
    },
    "sent": {"en": "Asked", "zh": "已发送"},
    "tasks": {"en": "Call-back tasks", "zh": "回访任务"},
    "skipped": {"en": "Skipped", "zh": "已跳过"},
    "solved": {"en": "Solved", "zh": "已解决"},
    "unsolved": {"en": "Not solved (reopened)", "zh": "未解决（已重开）"},
    "opted_out": {"en": "Opted out", "zh": "拒绝回访"},
    "unreachable": {"en": "Unreachable", "zh": "联系不上"},
    "no_answer": {"en": "No answer", "zh": "未答复"},
    "waiting": {"en": "Waiting", "zh": "等待中"},
}


def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


_HTML = _environment(True)
_TEXT = _environment(False)


async def gather(reports: Reports, *, days: int) -> dict[str, Any]:
    """The figures of the `days` before the reports' clock, for the email."""
    hotspots = await reports.hotspots(7)
    unanswered = await reports.unanswered(days)
    volume = await reports.volume(28)
    followups = await reports.followups(days)
    plan: list[dict[str, Any]] = volume["plan"]  # type: ignore[assignment]
    per_day: dict[str, dict[str, Any]] = {}
    for row in plan:
        day = per_day.setdefault(str(row["at"])[:10], {"expected": 0.0, "agents": 0})
        day["expected"] += float(row["expected"])
        day["agents"] = max(day["agents"], int(row["agents"]))
    weeks: list[dict[str, Any]] = hotspots["weeks"]  # type: ignore[assignment]
    totals = dict.fromkeys(COLUMNS, 0)
    for week in followups["weeks"]:  # type: ignore[attr-defined]
        for column in COLUMNS:
            totals[column] += int(week[column])
    groups: list[dict[str, Any]] = unanswered["groups"]  # type: ignore[assignment]
    return {
        "conversations": volume["conversations"],
        "staffing": [
            {"day": day, "expected": round(v["expected"], 1), "agents": v["agents"]}
            for day, v in per_day.items()
        ],
        "hotspots": weeks[0]["reasons"][:TOP] if weeks else [],
        "unanswered": [
            {"lang": g["lang"], "count": g["count"], "example": (g["examples"] or [""])[0]}
            for g in groups[:TOP]
        ],
        "followups": totals if any(totals.values()) else {},
    }


def subject(every: str, start: dt.date, end: dt.date, languages: Sequence[str]) -> str:
    """``Frontdesk · Weekly report · 每周报表 · 2026-11-23 – 2026-11-29``"""
    names = " · ".join(LABELS[every][lang] for lang in languages)
    period = start.isoformat() if start == end else f"{start.isoformat()} – {end.isoformat()}"
    return f"Frontdesk · {names} · {period}"


def compose(
    figures: dict[str, Any],
    *,
    every: str,
    slot: float,
    zone: str,
    languages: Sequence[str],
    sender: str,
    recipients: Sequence[str],
) -> EmailMessage:
    """The email: plain text and HTML, one section per language, for the period before
    `slot` (its scheduled time)."""
    tz = ZoneInfo(zone)
    end = dt.datetime.fromtimestamp(slot, tz).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=0 if every == "daily" else 6)
    context = {
        "figures": figures,
        "every": every,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "zone": zone,
        "languages": list(languages),
        "columns": COLUMNS,
        "L": LABELS,
    }
    message = EmailMessage()
    message["Subject"] = subject(every, start, end, languages)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(slot, localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a report
    message.set_content(_TEXT.get_template("digest.txt").render(context))
    message.add_alternative(_HTML.get_template("digest.html").render(context), subtype="html")
    return message


__all__ = ["LABELS", "compose", "gather", "subject"]
