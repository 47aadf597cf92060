"""An agent typing in a Telegram conversation: the one agent-actions service asks the hub,
the hub asks the connector, and the fake Bot API receives `sendChatAction` — rate-limited,
never logged, and only for the agent who holds the conversation."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from handoff.actions import ActionError, Actor, AgentActions
from handoff.api import ACTIONS, HANDOFF
from hub.echo import EchoBot
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    all_events,
    hub_of,
    post_update,
    ready,
    telegram_app,
    text_update,
)
from tests.handoff.console.helpers import HANDOFF_YAML, FakeClock, wait_until

MEI, TOM, SARA = Actor("mei", sees_all=False), Actor("tom", sees_all=False), Actor("sara")


async def handed_to_mei(app: web.Application, client, ask: str) -> tuple[AgentActions, str]:
    """The customer asks for a person on Telegram; Mei (online) is offered it and accepts."""
    engine = app[HANDOFF]
    actions = app[ACTIONS]
    actions.set_presence(MEI, "online")
    assert await post_update(client, text_update(1, ask)) == 200

    def offered() -> bool:
        return any(t.agent_id == "mei" for t in engine.queue.tickets.values())

    await wait_until(offered, timeout=30)
    (conversation_id,) = [c for c, t in engine.queue.tickets.items() if t.agent_id == "mei"]
    await actions.accept(MEI, conversation_id)
    return actions, conversation_id


@pytest.mark.parametrize("ask", ["I want to talk to a person", "我要转人工"], ids=["en", "zh"])
async def test_agent_typing_becomes_send_chat_action(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi, ask: str
) -> None:
    handoff_yaml = tmp_path / "handoff.yaml"
    handoff_yaml.write_text(HANDOFF_YAML, encoding="utf-8")
    app = telegram_app(tmp_path, fake, bot=EchoBot(), handoff_path=handoff_yaml)
    client = await aiohttp_client(app)
    await ready(app)
    clock = FakeClock(1000.0)
    hub_of(app).typing_signals.clock = clock  # the rate limit's clock, moved by hand
    actions, conversation_id = await handed_to_mei(app, client, ask)
    logged = len(await all_events(app))

    before = len(fake.called("sendChatAction"))
    assert await actions.typing(MEI, conversation_id) is True
    calls = await fake.wait_for("sendChatAction", before + 1)
    assert calls[-1].params["action"] == "typing"
    assert int(calls[-1].params["chat_id"]) == CHAT

    # Keystrokes come fast; Telegram needs the action renewed only every few seconds.
    assert await actions.typing(MEI, conversation_id) is False
    clock.now += 4.0
    assert await actions.typing(MEI, conversation_id) is True
    await fake.wait_for("sendChatAction", before + 2)

    # Only the agent who holds it: a supervisor reading along signals nothing, and another
    # agent does not even see the conversation.
    clock.now += 4.0
    assert await actions.typing(SARA, conversation_id) is False
    with pytest.raises(ActionError) as refused:
        await actions.typing(TOM, conversation_id)
    assert refused.value.status == 404

    # Ephemeral: nothing of it is in the conversation's log (the receipt of the agent's
    # greeting, delivered meanwhile, may be).
    events = await all_events(app)
    assert [e.type for e in events[logged:] if not e.type.startswith("delivery.")] == []
    assert not [e for e in events if "typing" in e.type]
