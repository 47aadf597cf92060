"""A web chat visitor is the same visitor on every process, also when no secret is
configured and each machine generated its own file: the store keeps one secret for all."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.scale.clients import Visitor
from tests.scale.processes import HubGroup, group_config
from tests.support import CallbackReceiver

TEXTS = {"en": "Where is my parcel?", "zh": "我的包裹在哪里？"}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_visitor_from_one_machine_is_known_on_the_others_without_a_configured_secret(
    tmp_path: Path, scale_store_url: str, receiver: CallbackReceiver, lang: str
) -> None:
    config = group_config(tmp_path, scale_store_url, receiver.url)

    def own_data_directory(n: int, shared: Mapping[str, Any]) -> Mapping[str, Any]:
        mine = copy.deepcopy(dict(shared))  # as on a machine of its own
        mine["channels"]["webchat"]["secret_file"] = str(tmp_path / f"data{n}" / "webchat.secret")
        return mine

    group = HubGroup(tmp_path, config, count=3, each=own_data_directory)
    for hub in group.hubs:
        del hub.env["FRONTDESK_WEBCHAT_SECRET"]
    try:
        await group.start()
        files = {(tmp_path / f"data{n}" / "webchat.secret").read_text() for n in range(3)}
        assert len(files) == 3  # each machine generated its own, and offered it to the store
        async with aiohttp.ClientSession() as session:
            visitor = Visitor(session)
            await visitor.connect(group[0])
            await visitor.say("m1", TEXTS[lang])
            ack = await visitor.until(lambda f: f["type"] == "ack")
            await visitor.until(lambda f: f["type"] == "message" and f["direction"] == "out")
            await visitor.close()

            for hub in group.hubs[1:]:  # the balancer sends the next page load elsewhere
                again = Visitor(session)
                again.token = visitor.token
                await again.connect(hub, ack["conversation_id"])
                assert again.token == visitor.token, hub.name  # not a new visitor
                said = [
                    (f["direction"], f["text"]) for f in again.logged() if f["type"] == "message"
                ]
                assert said[0] == ("in", TEXTS[lang]) and said[1][0] == "out", (hub.name, said)
                await again.close()
    finally:
        await group.stop()
