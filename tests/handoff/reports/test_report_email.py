"""The scheduled report email through a real SMTP server (aiosmtpd) with an injected clock,
on both stores: sent at its local time once — not again on the next tick, nor after a
restart — retried after a refused delivery, bilingual or in one language, and escaped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer

from handoff.engine import HandoffEngine
from handoff.reports.mail import ReportMailer, last_slot
from handoff.reports.mail_settings import ReportMailSettings, report_mail_settings
from handoff.reports.seed import write_conversation
from hub.app import create_app
from hub.config import Section, load_config
from hub.errors import ConfigError
from hub.model import NewEvent
from tests.connectors.email.harness import CaptureRelay, html_text, plain_text
from tests.handoff.helpers import (
    FakeClock,
    TinyBot,
    api_channel_config,
    at,
    engine_of,
    handoff_yaml,
)
from tests.support import hub_env

T = TypeVar("T")
# Only a hang reaches this bound (the send, or a hub that does not stop): the test then fails
# saying what hung, instead of sitting until pytest-timeout on a loaded machine.
HANG = 60.0


async def within(step: Awaitable[T], what: str) -> T:
    try:
        return await asyncio.wait_for(step, HANG)
    except TimeoutError:
        pytest.fail(f"{what} did not finish within {HANG:.0f} s")


@pytest.fixture
async def relay() -> AsyncIterator[CaptureRelay]:
    server = CaptureRelay()
    await server.start()
    yield server
    await server.stop()


def email_section(relay: CaptureRelay, **overrides: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "to": ["lead@example.com", "ops@example.com"],
        "from": "reports@example.com",
        "every": "weekly",
        "weekday": "mon",
        "at": "08:00",
        "smtp": {"host": "127.0.0.1", "port": relay.port},
        **overrides,
    }


@asynccontextmanager
async def hub(
    tmp_path: Path, store_url: str, clock: FakeClock, email: dict[str, Any]
) -> AsyncIterator[tuple[HandoffEngine, ReportMailer]]:
    handoff = handoff_yaml(tmp_path, calendar={"timezone": "Asia/Shanghai", "hours": {}})
    path = api_channel_config(
        tmp_path, bot={"kind": "echo", "handoff_path": str(handoff)}, callback_url=""
    )
    config = json.loads(path.read_text(encoding="utf-8"))
    config["channels"] = {}
    config["reports"] = {"email": email}
    path.write_text(json.dumps(config), encoding="utf-8")
    env = hub_env(tmp_path, FRONTDESK_STORE_URL=store_url)
    app = create_app(load_config(path, env), environ=env, bot=TinyBot(), clock=clock)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        engine = engine_of(app)
        (job,) = engine.leader_jobs
        mailer = job.__self__  # type: ignore[attr-defined]
        assert isinstance(mailer, ReportMailer)
        yield engine, mailer
    finally:
        # A background task that ignores its cancel would hang the hub's shutdown.
        await within(client.close(), "stopping the hub")


async def write_week(engine: HandoffEngine) -> None:
    """A week of history: complaints, and lines the bot could not answer (one is markup)."""
    store = engine.hub.store
    fallback = NewEvent(type="bot.turn", data={"handled_as": "fallback", "lang": "en"})
    fallback_zh = NewEvent(type="bot.turn", data={"handled_as": "fallback", "lang": "zh"})
    complaint = NewEvent(type="handoff.requested", data={"reason": "refund_delay"})
    lines = [
        (at("2026-11-24 10:00"), "<script>alert('x')</script> refurbished phones?", [fallback]),
        (at("2026-11-25 10:00"), "有没有翻新手机卖", [fallback_zh]),
        (at("2026-11-26 11:00"), "my refund is late", [complaint]),
        (at("2026-11-27 11:00"), "退款还没到", [complaint]),
    ]
    for number, (when, text, events) in enumerate(lines):
        await write_conversation(store, "api", number, text, when, events)


def parts(message: EmailMessage) -> tuple[str, str]:
    return plain_text(message), html_text(message)


async def test_weekly_email_is_sent_once_at_its_time(
    tmp_path: Path, store_url: str, relay: CaptureRelay
) -> None:
    clock = FakeClock(at("2026-11-30 07:59"))  # a Monday, a minute early
    async with hub(tmp_path, store_url, clock, email_section(relay)) as (engine, mailer):
        await write_week(engine)
        await engine.tick()
        assert not await mailer.wait() and relay.messages == []  # last week's slot is stale
        clock.now = at("2026-11-30 08:00")
        await engine.tick()
        assert await mailer.wait()
        await engine.tick()  # the same slot: nothing more
        assert not await mailer.wait()
        (message,) = relay.messages
        assert message["Subject"] == (
            "Frontdesk · Weekly report · 每周报表 · 2026-11-23 – 2026-11-29"
        )
        assert sorted(relay.envelopes[0][1]) == ["lead@example.com", "ops@example.com"]
        assert message["Auto-Submitted"] == "auto-generated"
        text, html = parts(message)
        for fragment in ("Complaint hotspots this week", "本周投诉热点", "refund_delay: 2"):
            assert fragment in text
        assert "翻新手机" in text and "refurbished phones" in text
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
        assert "<script>" not in html
    clock.now = at("2026-11-30 08:05")
    async with hub(tmp_path, store_url, clock, email_section(relay)) as (engine, mailer):
        await engine.tick()  # a restarted hub finds the slot sent in the store
        assert not await mailer.wait()
    assert len(relay.messages) == 1


@pytest.mark.parametrize(
    ("language", "heading", "other"),
    [("en", "Daily report", "每日报表"), ("zh", "每日报表", "Daily report")],
)
async def test_daily_email_in_one_language_is_retried_after_a_refusal(
    tmp_path: Path, store_url: str, relay: CaptureRelay, language: str, heading: str, other: str
) -> None:
    clock = FakeClock(at("2026-11-25 18:30"))
    email = email_section(relay, every="daily", at="18:30", languages=[language])
    relay.refuse_next = ["451 4.3.0 try again later"]
    async with hub(tmp_path, store_url, clock, email) as (engine, mailer):
        await write_week(engine)
        await engine.tick()
        assert not await mailer.wait()  # refused: the claim is given back
        await engine.tick()
        assert not await mailer.wait() and relay.messages == []  # not before the retry time
        clock.advance(301)
        await engine.tick()
        assert await mailer.wait()
    (message,) = relay.messages
    text, html = parts(message)
    assert message["Subject"].endswith(f"{heading} · 2026-11-24")
    assert heading in text and other not in text and other not in html
    assert "有没有翻新手机卖" in text  # what customers wrote, whatever the email's language


def test_slots_follow_the_local_clock() -> None:
    weekly = ReportMailSettings(enabled=True, every="weekly", weekday=0, at_minutes=8 * 60)
    assert last_slot(at("2026-11-30 07:59"), weekly, "Asia/Shanghai") == at("2026-11-23 08:00")
    assert last_slot(at("2026-11-30 08:00"), weekly, "Asia/Shanghai") == at("2026-11-30 08:00")
    assert last_slot(at("2026-12-02 12:00"), weekly, "Asia/Shanghai") == at("2026-11-30 08:00")
    daily = ReportMailSettings(enabled=True, every="daily", at_minutes=18 * 60 + 30)
    assert last_slot(at("2026-11-25 18:29"), daily, "Asia/Shanghai") == at("2026-11-24 18:30")


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ({"enabled": True}, "has no recipient"),
        ({"to": ["lead@example.com\r\nBcc: all@example.com"]}, "is not an email address"),
        ({"to": ["lead@example.com"], "at": "8 am"}, "a time of day like 08:00"),
        ({"to": ["lead@example.com"], "every": "hourly"}, "must be one of"),
        ({"to": ["lead@example.com"], "languages": ["fr"]}, "en and/or zh"),
        ({"to": ["lead@example.com"], "smtp": {"tls": True, "starttls": True}}, "choose one"),
        ({"to": ["lead@example.com"], "cc": ["x@example.com"]}, "not a known setting"),
    ],
)
def test_mistakes_are_named(email: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        report_mail_settings(Section({"email": email}, path="frontdesk.yaml", key="reports"))
    assert message in str(error.value) and "frontdesk.yaml" in str(error.value)


def test_the_password_comes_from_the_environment() -> None:
    section = Section({"email": {"to": ["lead@example.com"]}}, path="f.yaml", key="reports")
    environ = {"FRONTDESK_REPORT_SMTP_PASSWORD": "s3cret"}
    assert report_mail_settings(section, environ).smtp_password == "s3cret"
    with pytest.raises(ConfigError):
        report_mail_settings(
            Section({"email": {"smtp": {"password": "x"}}}, path="f.yaml", key="reports")
        )


async def test_two_processes_send_one_email(
    tmp_path: Path, shared_store_url: str, relay: CaptureRelay
) -> None:
    clock = FakeClock(at("2026-11-30 08:00"))
    email = email_section(relay)
    async with (
        hub(tmp_path, shared_store_url, clock, email) as (first, first_mailer),
        hub(tmp_path, shared_store_url, clock, email) as (second, second_mailer),
    ):
        for engine in (first, second, first, second):
            await engine.tick()
        outcomes = [
            await within(first_mailer.wait(), "the first process's send"),
            await within(second_mailer.wait(), "the second process's send"),
        ]
        assert sorted(outcomes) == [False, True]
        assert first_mailer.sent + second_mailer.sent == 1
    assert len(relay.messages) == 1
