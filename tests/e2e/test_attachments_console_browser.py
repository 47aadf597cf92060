"""Files between a web chat customer and an agent in the console, both in Debian's Chromium
(Playwright), through the real server: the customer's photo shows as a thumbnail in the
transcript, the agent's PDF (an English or a Chinese name) and image reach the widget, and
a page disguised as a picture is refused in the console's language, with nothing sent."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, FilePayload, Page, expect

from handoff.console.accounts import Role
from tests.attachment_samples import HTML_AS_PNG, pdf, png
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console_browser import switch_to_chinese
from tests.handoff.console.helpers import PASSWORD, console_app, handoff_env, seed_sqlite
from tests.support import served


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    env = handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET="test-webchat-secret")
    async with served(console_app(env)) as base:
        yield base


async def sign_in(browser: Browser, url: str, lang: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(url + "/console/login")
    await page.locator("input[name=username]").fill("mei")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()
    await expect(page).to_have_url(url + "/console/")
    if lang == "zh":
        await switch_to_chinese(page)
    await page.locator("#presence").select_option("online")
    return page


def payload(name: str, mime: str, data: bytes) -> FilePayload:
    return FilePayload(name=name, mimeType=mime, buffer=data)


@pytest.mark.parametrize(("lang", "document"), [("en", "invoice.pdf"), ("zh", "发票.pdf")])
async def test_files_between_a_customer_and_an_agent(
    url: str, browser: Browser, lang: str, document: str
) -> None:
    mei = await sign_in(browser, url, lang)
    customer = await (await browser.new_context()).new_page()
    await customer.goto(url + "/")
    await customer.locator(".fdw-launcher").click()
    box = customer.get_by_role("textbox")
    await box.fill("My router is broken, I want to talk to a person")
    await box.press("Enter")
    chat = customer.get_by_role("log")
    await expect(chat).to_contain_text("in the queue")
    await customer.locator(".fdw-file").set_input_files(
        files=[payload("router.png", "image/png", png(1200, 900))]
    )
    # A thumbnail made on the server when the photo was stored (320 px), linking to the photo.
    await expect(chat.locator(".fdw-in img.fdw-thumb")).to_have_js_property("naturalWidth", 320)
    original = await chat.locator(".fdw-in a.fdw-file-image").get_attribute("href")
    assert original and "size=thumbnail" not in original
    assert (await (await customer.request.get(original)).body()) == png(1200, 900)

    ticket = mei.locator("#mine .ticket")
    await expect(ticket).to_have_count(1, timeout=15_000)
    await ticket.first.click()
    await mei.locator("#accept").click()
    timeline = mei.locator("#timeline")
    # The customer's photo, served by the console's own route, decoded by the browser.
    thumb = timeline.locator(".item-customer img.thumb")
    await expect(thumb).to_have_js_property("naturalWidth", 320)
    await expect(thumb).to_have_attribute("src", re.compile(r"/thumbnail$"))

    # A disguised page is refused in the console's language; nothing reaches the customer.
    await mei.locator("#attach-file").set_input_files(
        files=[payload("cat.png", "image/png", HTML_AS_PNG)]
    )
    await mei.locator("#reply").fill("see attached")
    await mei.locator("#reply").press("Enter")
    reason = "文件内容与声明的类型" if lang == "zh" else "not the image/png its type says"
    await expect(mei.locator("#toast")).to_contain_text(reason)
    await mei.locator("#attach-chosen .file-remove").click()

    await mei.locator("#attach-file").set_input_files(
        files=[
            payload(document, "application/pdf", pdf(document)),
            payload("map.png", "image/png", png(7, 5)),
        ]
    )
    await expect(mei.locator("#attach-chosen")).to_contain_text(document)
    await mei.locator("#reply").fill("Here is your invoice" if lang == "en" else "这是您的发票")
    await mei.locator("#reply").press("Enter")

    agent = timeline.locator(".item-agent").last
    await expect(agent.locator("a.file-link")).to_contain_text(document)
    await expect(agent.locator("a.file-link .file-icon")).to_have_text("PDF")  # not an image
    await expect(agent.locator("img.thumb")).to_have_js_property("naturalWidth", 7)
    theirs = chat.locator(".fdw-out").last
    await expect(theirs.locator("a.fdw-file-link")).to_contain_text(document)
    await expect(theirs.locator("img.fdw-thumb")).to_have_js_property("naturalWidth", 7)
    await expect(chat.locator(".fdw-out a.fdw-file-link")).to_have_count(1)  # once, not twice
    ARTIFACTS.mkdir(exist_ok=True)
    await mei.screenshot(path=str(ARTIFACTS / f"console-attachments-{lang}.png"))

    # The customer's download link gives back exactly the agent's bytes, as a download.
    href = await theirs.locator("a.fdw-file-link").get_attribute("href")
    assert href
    response = await customer.request.get(href)
    assert response.ok and await response.body() == pdf(document)
    assert response.headers["content-disposition"].startswith("attachment;")
