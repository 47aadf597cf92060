"""The demo dialog engine (config/dialogs) behind the hand-off: its flows' hand-off steps
and the triggers reach the queue with the flow's skill and priority, and the bot then stays
silent while the conversation waits (the hand-off only acknowledges, once, that an agent
will see what the customer writes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.api import HUB
from hub.app import create_app
from hub.config import load_config
from tests.handoff.helpers import api_channel_config, handoff_yaml
from tests.support import REPO, CallbackReceiver, api_auth, channel_auth, hub_env


async def test_demo_flows_hand_off_through_the_engine(aiohttp_client, tmp_path: Path) -> None:
    receiver = CallbackReceiver()
    await receiver.start()
    agents = [{"id": "gen", "skills": ["general", "complaints"], "languages": ["en", "zh"]}]
    bot = {
        "kind": "dialogs",
        "dialogs_path": str(REPO / "config" / "dialogs"),
        "handoff_path": str(handoff_yaml(tmp_path, agents=agents)),
    }
    path = api_channel_config(tmp_path, bot=bot, callback_url=receiver.url)
    env = hub_env(tmp_path)
    client = await aiohttp_client(create_app(load_config(path, env), environ=env))
    try:
        response = await client.post(
            "/api/v1/channels/api/messages",
            json={"id": "d1", "sender": "li", "text": "我要投诉，你们的服务太差了"},
            headers=channel_auth(),
        )
        conversation_id = (await response.json())["conversation_id"]
        await receiver.wait_for(1)
        told = receiver.received[-1]["text"]  # one message: the flow's own words, then …
        assert "资深客服" in told
        assert "第 1 位" in told or "留言" in told  # … the place in the queue or "leave a message"
        store = client.app[HUB].store
        events = await store.events(conversation_id, limit=200)
        requested = [e.data for e in events if e.type == "handoff.requested"]
        assert len(requested) == 1
        data = requested[0]
        assert "flow" in data["reasons"] and "complaint_words" in data["reasons"]
        assert data["skill"] == "complaints" and data["priority"] == "P1"
        assert data["flow_reason"] == "complaint" and data["language"] == "zh"

        before = len(receiver.received)
        response = await client.post(
            "/api/v1/channels/api/messages",
            json={"id": "d2", "sender": "li", "text": "hello? what are your opening hours?"},
            headers=channel_auth(),
        )
        seq = (await response.json())["seq"]
        for _ in range(1000):  # until the turn has run
            conversation = await store.get_conversation(conversation_id)
            if conversation is not None and conversation.handled_seq >= seq:
                break
            await asyncio.sleep(0.01)
        assert conversation is not None and conversation.handled_seq >= seq
        queue = await client.get("/api/v1/handoff/queue", headers=api_auth())
        assert [t["conversation_id"] for t in (await queue.json())["waiting"]] == [conversation_id]
        events = await store.events(conversation_id, after_seq=seq - 1, limit=200)
        assert events[0].type == "message.in"  # kept for the agent; the bot did not answer:
        assert not [e for e in events if e.type == "bot.turn"]
        told = await receiver.wait_for(before + 1)
        assert "客服接入后会看到" in told[-1]["text"]  # only "an agent will see this", in zh
    finally:
        await receiver.stop()
