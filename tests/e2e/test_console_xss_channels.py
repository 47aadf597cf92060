"""What a customer typed on the api channel, Telegram and email is shown by the agent
console as text and never runs (issue 9), in Debian's Chromium driven by Playwright.

One real hub on 127.0.0.1 (`create_app`, hand-off and console on) with three channels, each
fed through its real connector: the api channel by a bearer-authenticated POST, Telegram by
a webhook update with the secret header (replies go to the fake Bot API), email by a real
SMTP mail (smtplib → the connector's aiosmtpd receiver; replies go to a capturing relay).
A tiny bot hands every conversation to a person (skill "general", which no agent has, so
all three wait in the queue). Payloads go into the message texts and into what the console
shows besides: the api sender id (shown among the profile's identities) and a CRM name,
company and tag (shown in the summary and the profile). The Telegram first name, the mail's
subject and the sender's display name carry payloads too, although the console shows none
of them today.

Mei (an agent) reads every conversation with the console's Content-Security-Policy on;
Sara (a supervisor) reads them again with CSP bypassed, so that escaping alone must stop
the payloads, and opens the supervisor view. Nothing may set `window.__xss`, open a
dialog, put an `<img>` or a foreign `<script>` in the page, or trip the CSP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, Dialog, Page, ViewportSize, expect
from ruamel.yaml import YAML

from connectors.email.connector import EmailConnector
from handoff.console.accounts import Role
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.api import HUB
from hub.model import ConversationStatus, NewEvent
from tests.connectors.email.harness import SUPPORT, CaptureRelay, send_mail
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    SECRET,
    WEBHOOK_URL,
    ready,
    secret_headers,
    text_update,
)
from tests.e2e.conftest import ARTIFACTS
from tests.handoff.console.helpers import (
    PASSWORD,
    console_app,
    handoff_env,
    seed_sqlite,
    wait_until,
)
from tests.support import DEMO_CONFIG, CallbackReceiver, api_auth, channel_auth

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
CUSTOMER_MAIL = "ana.lima@example.net"
HANDOFF = {"reason": "asked for a person", "skill": "general", "priority": "P2"}
# Collects CSP violations in the page itself (init scripts are not subject to the CSP).
CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def payload(tag: str) -> str:
    """An `<img onerror>`, a bare `alert` and a `<script>`, each marking `window.__xss`."""
    return (
        f"<img src=x onerror=\"window.__xss='{tag}-img'\">"
        "<img src=x onerror=alert(1)>"
        f"<script>window.__xss='{tag}-script';alert(2)</script>"
    )


API_SENDER = payload("api-sender")
API_TEXT = "api: " + payload("api-text")
TELEGRAM_TEXT = "telegram: " + payload("telegram-text")
MAIL_TEXT = "email: " + payload("mail-body")
CRM_NAME = payload("crm-name")
# The profile cuts attribute values at 80 characters: one that fits whole.
CRM_COMPANY = "<img src=x onerror=\"window.__xss='crm'\"><script>alert(3)</script>"


class HandsOff(ConversationHandler):
    """Hands every turn to a person, like a dialog flow's hand-off step does."""

    def __init__(self) -> None:
        self.channels: list[str] = []

    async def handle(self, turn: Turn) -> TurnResult:
        self.channels.append(turn.inbound.channel)
        return TurnResult(
            status=ConversationStatus.QUEUED,
            events=(NewEvent(type="handoff.requested", data=dict(HANDOFF)),),
        )


@dataclass
class Rig:
    url: str
    app: web.Application
    bot: HandsOff
    fake: FakeBotApi
    relay: CaptureRelay
    callbacks: CallbackReceiver
    smtp_port: int


def hub_yaml(tmp_path: Path, *, fake: FakeBotApi, relay_port: int, callback_url: str) -> Path:
    """The demo config with fast retries and the three channels pointed at loopback."""
    yaml = YAML(typ="rt")
    config = yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"))
    config["delivery"].update(
        {"max_attempts": 4, "base_delay": 0.05, "max_delay": 0.2, "poll_interval": 0.05}
    )
    channels = config["channels"]
    channels["webchat"]["enabled"] = False
    channels["api"]["callback_url"] = callback_url
    channels["telegram"].update(
        {
            "mode": "webhook",
            "webhook_url": WEBHOOK_URL,
            "base_url": fake.base_url,
            "base_file_url": fake.base_file_url,
            "per_chat_interval": 0,
        }
    )
    channels["email"].update(
        {
            "enabled": True,
            "inbound": "smtp",
            "sender_auth": "off",  # unsigned test mail; sender authentication is tested apart
            "smtp_in": {"host": "127.0.0.1", "port": 0, "recipients": [SUPPORT]},
            "relay": {"host": "127.0.0.1", "port": relay_port, "security": "none"},
        }
    )
    path = tmp_path / "frontdesk.yaml"
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(config, out)
    return path


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("sara", Role.SUPERVISOR))
    fake, relay, callbacks = FakeBotApi(), CaptureRelay(), CallbackReceiver()
    await fake.start()
    await relay.start()
    await callbacks.start()
    env = handoff_env(tmp_path, FRONTDESK_TELEGRAM_TOKEN=TOKEN, FRONTDESK_TELEGRAM_SECRET=SECRET)
    path = hub_yaml(tmp_path, fake=fake, relay_port=relay.port, callback_url=callbacks.url)
    bot = HandsOff()
    app = console_app(env, bot=bot, config_path=path)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await ready(app)  # the webhook is registered with the fake Bot API
        email = app[HUB].connectors["email"]
        assert isinstance(email, EmailConnector) and email.receiver is not None
        port = runner.addresses[0][1]
        yield Rig(f"http://127.0.0.1:{port}", app, bot, fake, relay, callbacks, email.receiver.port)
    finally:
        await runner.cleanup()
        await callbacks.stop()
        await relay.stop()
        await fake.stop()


@dataclass
class Watch:
    """What a page did that it must not: dialogs and CSP violations (console messages)."""

    dialogs: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)


async def sign_in(
    browser: Browser, url: str, username: str, watch: Watch, *, bypass_csp: bool = False
) -> Page:
    context = await browser.new_context(viewport=DESKTOP, bypass_csp=bypass_csp)
    await context.add_init_script(CSP_PROBE)
    page = await context.new_page()

    async def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(f"{username}: {dialog.type} {dialog.message}")
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda m: watch.csp.append(m.text) if "Content Security Policy" in m.text else None,
    )
    await page.goto(url + "/console/")
    await expect(page).to_have_url(url + "/console/login")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(url + "/console/")
    await page.locator("#presence").select_option("online")
    return page


async def nothing_ran(page: Page) -> None:
    """No payload ran or became markup: no flag, no <img>, only the console's own scripts."""
    assert await page.evaluate("window.__xss") is None
    assert await page.evaluate("window.__csp") == []
    assert await page.locator("img").count() == 0
    scripts = await page.evaluate(
        "[...document.scripts].map((s) => s.id === 'strings' ? 'strings' : s.src)"
    )
    static = page.url.split("/console/")[0] + "/console/static/"
    assert all(s == "strings" or s.startswith(static) for s in scripts), scripts


async def read_conversation(page: Page, channel: str, text: str, shown: tuple[str, ...]) -> None:
    """Open the waiting conversation from `channel` and check every payload reads as text."""
    await page.get_by_role("tab", name="Queue").click()
    ticket = page.locator("#queue .ticket").filter(has_text=channel)
    await expect(ticket).to_have_count(1)
    await ticket.click()
    # (The flow's "P2" counts only under a `use_flow_priority` rule; this handoff.yaml has none.)
    await expect(page.locator("#conv-title")).to_have_text(f"P3 · {channel} · general")
    customer = page.locator("#timeline .item-customer")
    await expect(customer).to_have_count(1)
    await expect(customer.locator(".text")).to_have_text(text)
    await expect(customer.locator(".badge")).to_have_text(channel)
    # Key sentences are cut from the same text: still text, never markup.
    await expect(page.locator("#summary .key-sentences")).to_contain_text("window.__xss=")
    for value in shown:
        await expect(page.locator("#profile")).to_contain_text(value)
    await nothing_ran(page)


async def test_customer_payloads_from_every_channel_stay_text(rig: Rig, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    watch = Watch()
    mei = await sign_in(browser, rig.url, "mei", watch)

    async with aiohttp.ClientSession() as http:
        # A CRM record for the email customer: its name, company and tag are shown too.
        response = await http.put(
            rig.url + "/api/v1/customers/crm-ana",
            json={
                "identities": [f"email:{CUSTOMER_MAIL}"],
                "attributes": {"name": CRM_NAME, "company": CRM_COMPANY},
                "tags": [payload("crm-tag")],
            },
            headers=api_auth(),
        )
        assert response.status == 201, await response.text()

        # The api channel: a backend posts with the channel token.
        response = await http.post(
            rig.url + "/api/v1/channels/api/messages",
            json={
                "id": "xss-1",
                "sender": API_SENDER,
                "text": API_TEXT,
                "metadata": {"display_name": payload("api-display-name")},
            },
            headers=channel_auth(),
        )
        assert response.status == 202, await response.text()

        # Telegram: an update through the webhook, from a user whose names are payloads.
        update = text_update(1, TELEGRAM_TEXT)
        names = {
            "first_name": payload("telegram-first-name"),
            "last_name": payload("telegram-last-name"),
        }
        update["message"]["from"].update(names)
        update["message"]["chat"].update(names)
        response = await http.post(
            rig.url + "/webhooks/telegram", json=update, headers=secret_headers()
        )
        assert response.status == 200, await response.text()

    # Email: a real mail over SMTP, with payloads in the display name and the subject.
    mail = EmailMessage()
    mail["From"] = Address(payload("mail-from-name"), addr_spec=CUSTOMER_MAIL)
    mail["To"] = SUPPORT
    mail["Subject"] = payload("mail-subject")
    mail["Message-ID"] = "<xss-1@example.net>"
    mail.set_content(MAIL_TEXT + "\n")
    await send_mail(rig.smtp_port, mail.as_bytes(), sender=CUSTOMER_MAIL)

    # Each channel's customer is told they wait for a person, on that channel.
    await rig.callbacks.wait_for(1)
    await rig.relay.wait_for(1)
    await wait_until(lambda: rig.fake.texts(CHAT))
    assert sorted(rig.bot.channels) == ["api", "email", "telegram"]

    # All three wait in Mei's queue (no one has the skill "general"); she reads each.
    await expect(mei.locator("#queue .ticket")).to_have_count(3, timeout=10_000)
    await read_conversation(mei, "api", API_TEXT, (f"api:{API_SENDER}",))
    await read_conversation(mei, "telegram", TELEGRAM_TEXT, (f"telegram:{CHAT}",))
    await read_conversation(
        mei,
        "email",
        MAIL_TEXT,
        (f"email:{CUSTOMER_MAIL}", CRM_NAME, payload("crm-tag")),
    )
    await expect(mei.locator("#profile .name")).to_have_text(CRM_NAME)
    # The contact panel shows CRM fields in their edit boxes: a value, never markup.
    await expect(mei.locator('#profile input[data-key="company"]')).to_have_value(CRM_COMPANY)
    await mei.screenshot(path=str(ARTIFACTS / "console-xss-channels.png"))

    # Sara reads them again with the CSP out of the way: escaping alone has to hold.
    sara = await sign_in(browser, rig.url, "sara", watch, bypass_csp=True)
    await expect(sara.locator("#queue .ticket")).to_have_count(3, timeout=10_000)
    await read_conversation(sara, "api", API_TEXT, (f"api:{API_SENDER}",))
    await read_conversation(sara, "telegram", TELEGRAM_TEXT, (f"telegram:{CHAT}",))
    await read_conversation(sara, "email", MAIL_TEXT, (CRM_NAME,))
    await sara.goto(rig.url + "/console/supervisor")
    await expect(sara.locator("#floor-rows tr")).to_have_count(3)
    await expect(sara.locator("#by-skill")).to_have_text("general: 3")
    await nothing_ran(sara)

    await nothing_ran(mei)
    assert watch.dialogs == []
    assert watch.csp == []
    # Each conversation was handed off, and the payloads the console does not show (the
    # Telegram names, the mail's display name and subject) did arrive with the messages.
    raw: dict[str, dict[str, Any]] = {}
    for identity in (f"api:{API_SENDER}", f"telegram:{CHAT}", f"email:{CUSTOMER_MAIL}"):
        conversation = await rig.app[HUB].latest_conversation(identity)
        assert conversation is not None, identity
        events = await rig.app[HUB].store.events(conversation.id, limit=100)
        assert [e.type for e in events].count("handoff.requested") == 1
        (message,) = [e for e in events if e.type == "message.in"]
        raw[conversation.channel] = message.data["raw"]
    assert raw["api"]["metadata"]["display_name"] == payload("api-display-name")
    sender = raw["telegram"]["update"]["message"]["from"]
    assert sender["first_name"] == payload("telegram-first-name")
    # (Header folding may leave a doubled space inside these two; compare the words.)
    assert raw["email"]["from_name"].split() == payload("mail-from-name").split()
    assert raw["email"]["subject"].split() == payload("mail-subject").split()
