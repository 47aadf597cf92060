"""SLA alerts reach every process's console: the leader raises them, but a supervisor's
page (and an agent's desktop notification) may be served by any process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.scale.clients import PATIENCE, Feed, Operator, post_message
from tests.scale.processes import HANDOFF, HubGroup, group_config
from tests.support import CallbackReceiver

ASK = {"en": "I want to talk to a person", "zh": "我要转人工"}
# Three seconds to pick up, at every priority, on a 24/7 calendar: nobody is online, so
# the one hand-off is warned about, then breaches, within a few of the leader's ticks.
FAST_SLA = {p: {"pickup": 0.05} for p in ("P1", "P2", "P3")}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_sla_breach_reaches_the_live_feed_and_figures_of_every_process(
    tmp_path: Path, scale_store_url: str, receiver: CallbackReceiver, lang: str
) -> None:
    config = group_config(tmp_path, scale_store_url, receiver.url)
    handoff = Path(config["bot"]["handoff_path"])
    handoff.write_text(json.dumps({**HANDOFF, "sla": FAST_SLA}, ensure_ascii=False), "utf-8")
    group = HubGroup(tmp_path, config, count=3)
    try:
        await group.start()
        async with aiohttp.ClientSession() as session:
            feeds = [Feed(session) for _ in group.hubs]
            for feed, hub in zip(feeds, group.hubs, strict=True):
                await feed.open(hub)
            receipt = await post_message(session, group[0], f"sla-{lang}", ASK[lang], "s1")
            conversation_id = receipt["conversation_id"]

            for n, feed in enumerate(feeds):
                alerts: list[dict[str, Any]] = []

                def breached(frame: dict[str, Any], seen: list[dict[str, Any]] = alerts) -> bool:
                    if frame["type"] == "alert" and frame["conversation_id"] == conversation_id:
                        seen.append(frame)
                    return bool(seen) and seen[-1]["alert"] == "sla.breached"

                try:  # the feed keeps streaming other frames: bound the wait for this one
                    await asyncio.wait_for(feed.until(breached), PATIENCE)
                except TimeoutError:
                    raise AssertionError(f"process {n}'s feed saw {alerts}") from None
                assert [(a["alert"], a["kind"]) for a in alerts] == [
                    ("sla.warning", "pickup"),
                    ("sla.breached", "pickup"),
                ], f"process {n}"
                await feed.close()

            for hub in group.hubs:
                stats = await Operator(session, hub).call("GET", "/api/v1/handoff/stats")
                assert stats["alerts"] == {"pickup.warning": 1, "pickup.breached": 1}, hub.name
    finally:
        await group.stop()
