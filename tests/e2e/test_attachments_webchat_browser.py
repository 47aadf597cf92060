"""Files both ways on the web chat, in a real browser (Debian's Chromium via Playwright):
the visitor attaches an image and a PDF with a Chinese name, the log keeps references
only, an agent's file comes back as a thumbnail and a download link, and a disguised page
is refused in the widget's own language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from playwright.async_api import Browser, FilePayload, Page, expect

from hub.api import HUB
from hub.app import create_app
from hub.attachments import AttachmentStore
from hub.attachments_http import ATTACHMENTS
from hub.hub import Hub
from hub.model import Outbound
from tests.attachment_samples import HTML_AS_PNG, agent_files, pdf, png
from tests.connectors.webchat.helpers import webchat_config, webchat_env


@dataclass
class Server:
    url: str
    hub: Hub
    files: AttachmentStore


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    env = webchat_env(tmp_path)
    app = create_app(webchat_config(tmp_path, env), environ=env)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Server(f"http://127.0.0.1:{port}", app[HUB], app[ATTACHMENTS])
    finally:
        await runner.cleanup()


async def open_chat(browser: Browser, url: str, lang: str) -> Page:
    context = await browser.new_context(locale="zh-CN" if lang == "zh" else "en-GB")
    page = await context.new_page()
    await page.goto(url)
    if lang == "zh":  # the page's language chooses the widget's words before any message
        await page.evaluate(
            "localStorage.setItem('frontdesk.webchat.' + location.origin + '.lang', '\"zh\"')"
        )
        await page.reload()
    await page.locator(".fdw-launcher").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    return page


async def attach(page: Page, name: str, mime: str, data: bytes) -> None:
    await page.locator(".fdw-file").set_input_files(
        files=[FilePayload(name=name, mimeType=mime, buffer=data)]
    )


@pytest.mark.parametrize(("lang", "document"), [("en", "invoice.pdf"), ("zh", "发票.pdf")])
async def test_files_go_both_ways_on_the_web_chat(
    server: Server, browser: Browser, lang: str, document: str
) -> None:
    page = await open_chat(browser, server.url + "/", lang)
    chat = page.get_by_role("log")
    await attach(page, "photo.png", "image/png", png(8, 6))
    await attach(page, document, "application/pdf", pdf(document))
    # The visitor's own image is shown from the server, decoded by the browser.
    thumb = chat.locator(".fdw-in img.fdw-thumb")
    await expect(thumb).to_have_count(1)
    await expect(thumb).to_have_js_property("naturalWidth", 8)
    mine = chat.locator(".fdw-in a.fdw-file-link")
    await expect(mine).to_contain_text(document)

    conversation = (await server.hub.store.list_conversations(limit=1)).items[0]
    events = await server.hub.store.events(conversation.id)
    inbound = [e for e in events if e.type == "message.in"]
    assert [a["name"] for e in inbound for a in e.data["attachments"]] == ["photo.png", document]
    for event in inbound:  # references only: never the bytes
        (reference,) = event.data["attachments"]
        assert set(reference) == {"kind", "name", "mime_type", "size", "url", "ref", "id", "sha256"}
        assert await server.files.read(reference["id"]) is not None

    # An agent's reply with a file (stored for this conversation) comes back to the widget.
    reply_name = "回执.pdf" if lang == "zh" else "receipt.pdf"
    image, receipt = await agent_files(
        server.files, conversation.id, ("map.png", png(10, 4)), (reply_name, pdf("receipt"))
    )
    await server.hub.send(
        conversation.id,
        [Outbound(text="Here you go", attachments=(image.reference(), receipt.reference()))],
    )
    theirs = chat.locator(".fdw-out").filter(has_text="Here you go")
    await expect(theirs.locator("img.fdw-thumb")).to_have_js_property("naturalWidth", 10)
    link = theirs.locator("a.fdw-file-link")
    await expect(link).to_contain_text(reply_name)
    href = await link.get_attribute("href")
    assert href and "token" not in href
    async with ClientSession() as http:
        async with http.get(href) as response:
            assert response.status == 200
            assert await response.read() == pdf("receipt")
            assert response.headers["Content-Disposition"].startswith("attachment;")
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        # The signed link is for this file only; another id with it is not found.
        other = href.replace(receipt.id, image.id)
        async with http.get(other) as response:
            assert response.status == 404

    # After a reload the log is replayed with fresh links: every file is shown again.
    await page.reload()
    await page.locator(".fdw-launcher").click()
    await expect(chat.locator("img.fdw-thumb")).to_have_count(2)
    await expect(chat.locator("a.fdw-file-link")).to_have_count(2)
    await expect(chat.locator(".fdw-in img.fdw-thumb")).to_have_js_property("naturalWidth", 8)

    # A page disguised as a picture is refused, and the visitor is told why in their language.
    await attach(page, "cat.png", "image/png", HTML_AS_PNG)
    alert = page.locator(".fdw-file-notice")
    await expect(alert).to_contain_text(
        "文件内容与声明的类型" if lang == "zh" else "not the image/png"
    )
    await expect(chat.locator(".fdw-in")).to_have_count(2)
