"""Rate limits hold across processes: a web chat address gets its burst once, not once per
process it reaches."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.scale.processes import HubGroup, group_config
from tests.support import CallbackReceiver

BURST = 4
TEXTS = {"en": "Where is my parcel?", "zh": "我的包裹在哪里？"}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_address_burst_is_shared_by_three_processes(
    tmp_path: Path, scale_store_url: str, receiver: CallbackReceiver, lang: str
) -> None:
    config = group_config(tmp_path, scale_store_url, receiver.url)
    config["channels"]["webchat"].update(
        {"message_burst_per_address": BURST, "messages_per_second_per_address": 0.01}
    )
    group = HubGroup(tmp_path, config, count=3)
    try:
        await group.start()
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{group[0].url}/webchat/hello", json={}) as response:
                token = (await response.json())["token"]
            headers = {"Authorization": f"Bearer {token}"}
            statuses = []
            for n in range(BURST + 2):  # round-robin over A, B, C, as a balancer would
                hub = group[n % 3]
                body = {"id": f"m{n}", "text": f"{TEXTS[lang]} {n}"}
                async with session.post(
                    f"{hub.url}/webchat/messages", json=body, headers=headers
                ) as response:
                    statuses.append(response.status)
                    if response.status == 429:
                        assert int(response.headers["Retry-After"]) >= 1
                        assert (await response.json())["type"] == "slow_down"
        assert statuses == [202] * BURST + [429, 429]
    finally:
        await group.stop()
