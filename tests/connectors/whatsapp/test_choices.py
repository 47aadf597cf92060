"""Choices through the connector: a long payload's token and a typed number on a numbered
list come back as the chosen payload; a split reply resumes after the parts already sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.model import Button, Outbound
from tests.connectors.whatsapp.fake_graph import FakeGraphApi, choices_of, graph_error
from tests.connectors.whatsapp.harness import (
    NUMBER,
    all_events,
    post,
    reply,
    text,
    wait_for_event,
    whatsapp_app,
)

LONG = "/handoff" + '{"reason": "asked for a person", "skill": "billing"}' * 5
STORES = tuple(Button(title=f"Store {n}", payload=f"store-{n}") for n in range(1, 13))


class ChoosingBot(ConversationHandler):
    """Offers a button with a long payload, or twelve stores; repeats what was chosen."""

    async def handle(self, turn: Turn) -> TurnResult:
        said = turn.inbound.text
        if said in ("person", "人工"):
            buttons: tuple[Button, ...] = (Button(title="Talk to a person", payload=LONG),)
            return TurnResult(replies=(Outbound(text=said, buttons=buttons),))
        if said in ("stores", "门店"):
            return TurnResult(replies=(Outbound(text=f"{said}?", buttons=STORES),))
        if said == "long":
            return TurnResult(replies=(Outbound(text="\n\n".join(["x" * 3000] * 3)),))
        return TurnResult(replies=(Outbound(text=f"chose {said}"),))


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeGraphApi) -> Any:
    return await aiohttp_client(whatsapp_app(tmp_path, fake, bot=ChoosingBot()))


@pytest.mark.parametrize("words", ["person", "人工"])
async def test_a_tap_on_a_button_whose_payload_was_too_long_for_an_id_gives_the_payload(
    client: Any, fake: FakeGraphApi, words: str
) -> None:
    await post(client, text(1, words))
    (offer,) = await fake.wait_for("messages")
    (choice,) = choices_of(offer.body)
    assert choice["id"] != LONG
    await post(client, reply(2, choice))
    await fake.wait_for("messages", 2)
    assert fake.texts(NUMBER)[-1] == f"chose {LONG}"


@pytest.mark.parametrize(("words", "hint"), [("stores", "Reply 1, 2"), ("门店", "请回复 1、2")])
async def test_a_typed_number_answers_a_numbered_list(
    client: Any, fake: FakeGraphApi, words: str, hint: str
) -> None:
    await post(client, text(1, words))
    await fake.wait_for("messages")
    assert hint in fake.texts(NUMBER)[0] and "12. Store 12" in fake.texts(NUMBER)[0]
    await post(client, text(2, "１２"))
    await fake.wait_for("messages", 2)
    assert fake.texts(NUMBER)[-1] == "chose store-12"
    incoming = [e for e in await all_events(client.app) if e.type == "message.in"]
    assert incoming[-1].data["raw"]["typed"] == "１２"
    # A number that is not an answer to a numbered list stays what it is.
    await post(client, text(3, "3"))
    await fake.wait_for("messages", 3)
    assert fake.texts(NUMBER)[-1] == "chose 3"


async def test_a_split_reply_resumes_after_the_parts_already_sent(
    client: Any, fake: FakeGraphApi
) -> None:
    fake.fail_call("messages", 2, 500, graph_error(131000, "Something went wrong"))
    await post(client, text(1, "long"))
    await wait_for_event(client.app, "delivery.delivered")
    assert len(fake.sent[NUMBER]) == 3  # three parts, none twice
    assert len(fake.called("messages")) == 4  # the second part was tried twice
