"""Stopping a polling connector: a long poll in flight is abandoned, not waited out, and an
update that was not stored yet is left for Telegram to send again, while those stored are
confirmed. Also when the cancel that stops the loop is lost in the HTTP client on the way
(`cancel_lost_in_transport`): the loop stops on its own flag, as `hub.periodic`'s do."""

from __future__ import annotations

import copy
import gc
import logging
from pathlib import Path
from typing import Any

import pytest

from hub.echo import EchoBot
from hub.model import EventType
from tests.cancels import stops
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    all_events,
    fixture,
    ready,
    telegram_app,
    text_update,
    wait_for_event,
)

# The first update is stored before the stop; the second (a document) is being fetched.
TEXTS = {
    "en": ("Where is my order?", "Here is the receipt"),
    "zh": ("我的订单在哪里？", "这是收据"),
}


def document_update(update_id: int, caption: str) -> dict[str, Any]:
    update = copy.deepcopy(fixture("document"))
    update["update_id"] = update_id
    update["message"]["message_id"] = update_id
    update["message"]["caption"] = caption
    return update


def complaints(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors from anywhere ("Task was destroyed but it is pending" among them), and the
    connector's warnings: a stop is not a failure."""
    gc.collect()  # a task dropped while pending says so when collected
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
        or (record.levelno >= logging.WARNING and record.name == "frontdesk.connectors.telegram")
    ]


@pytest.mark.usefixtures("cancel_lost_in_transport")
async def test_a_stop_during_a_long_poll_abandons_it(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot(), mode="polling", poll_timeout=50)
    await aiohttp_client(app)
    connector = await ready(app)
    poll = await fake.in_flight("getUpdates")  # waits up to 50 s for an update
    caplog.clear()

    await stops(connector.stop(), "the telegram connector's stop()")

    assert all(poll is not call for call in fake.answered)  # abandoned, not waited out
    assert complaints(caplog) == []


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("cancel", ["passed on", "lost in transport"])
async def test_a_stop_before_an_update_is_stored_leaves_it_for_telegram(
    aiohttp_client,
    tmp_path: Path,
    fake: FakeBotApi,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
    language: str,
    cancel: str,
) -> None:
    if cancel == "lost in transport":
        request.getfixturevalue("cancel_lost_in_transport")
    stored, unstored = TEXTS[language]
    fetch = fake.hold("getFile")  # the document's file is being fetched when the stop comes
    app = telegram_app(tmp_path, fake, bot=EchoBot(), mode="polling")
    client = await aiohttp_client(app)
    connector = await ready(app)
    fake.updates += [text_update(1, stored), document_update(2, unstored)]
    await fake.push_update(text_update(3, stored + "!"))  # one batch of three
    await fake.in_flight("getFile")
    caplog.clear()

    await stops(connector.stop(), "the telegram connector's stop()")

    texts = [e.data["text"] for e in await all_events(app) if e.type == EventType.MESSAGE_IN]
    assert texts == [stored]
    offsets = [call.params.get("offset") for call in fake.called("getUpdates")]
    assert max(o or 0 for o in offsets) == 2  # update 1 confirmed, never past update 2
    assert [update["update_id"] for update in fake.updates] == [2, 3]  # Telegram resends
    assert complaints(caplog) == []

    # The next start receives what was not stored, and nothing twice.
    await client.close()
    fetch.set()
    fake.user_files[fixture("document")["message"]["document"]["file_id"]] = b"%PDF-1.4 receipt"
    restarted = telegram_app(tmp_path, fake, bot=EchoBot(), mode="polling")
    await aiohttp_client(restarted)
    await ready(restarted)
    await wait_for_event(restarted, EventType.MESSAGE_IN, 3)
    events = await all_events(restarted)
    texts = [e.data["text"] for e in events if e.type == EventType.MESSAGE_IN]
    assert texts == [stored, unstored, stored + "!"]
