"""Agent assist: the open conversation's view carries the articles (from the knowledge base,
through the hub's port — the console never imports the dialogs) and the canned responses that
fit what the customer wrote last, in the conversation's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role
from handoff.console.assist import rank_canned
from handoff.console.canned import Canned
from tests.dialogs.talk import DEMO_KNOWLEDGE, REPO, demo_engine
from tests.handoff.console.helpers import console_app, console_env, login, seed_sqlite, wait_until
from tests.handoff.console.test_workspace import customer_says, snapshot


@pytest.mark.parametrize(
    ("handoff", "problem", "article", "lang"),
    [
        ("talk to a person", "my earbuds only play on one side", "bluetooth-pairing", "en"),
        ("转人工", "蓝牙耳机只有一边有声音", "bluetooth-pairing", "zh"),
    ],
)
async def test_the_open_conversation_suggests_articles(
    tmp_path: Path, aiohttp_client: Any, handoff: str, problem: str, article: str, lang: str
) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    bot = demo_engine(knowledge=DEMO_KNOWLEDGE)
    # The demo's hand-off: the bot's "talk to a person" asks for the general skill, which
    # mei has (config/handoff.yaml).
    env = console_env(tmp_path, FRONTDESK_HANDOFF_PATH=str(REPO / "config" / "handoff.yaml"))
    client: TestClient[Any, Any] = await aiohttp_client(console_app(env, bot=bot))
    conversation_id = await customer_says(client, handoff, "m1")
    await customer_says(client, problem, "m2")
    csrf = await login(client, "mei")
    headers = {"X-CSRF-Token": csrf}
    await client.post("/console/api/presence", json={"presence": "online"}, headers=headers)

    async def mine() -> bool:
        return conversation_id in {
            t["conversation_id"] for t in (await snapshot(client, csrf))["mine"]
        }

    await wait_until(mine)
    base = f"/console/api/conversations/{conversation_id}"
    assert (await client.post(base + "/accept", headers=headers)).status == 200
    view = await (await client.get(base)).json()
    suggested = view["assist"]["articles"]
    assert suggested and suggested[0]["article"] == article
    assert suggested[0]["link"] == f"/help/{article}?lang={lang}"
    assert set(view["assist"]["canned"]) <= {c["name"] for c in view["canned"]}


def test_canned_responses_are_ranked_by_shared_words() -> None:
    canned = [
        Canned(name="greeting", title="Greeting", text="Hello, this is Mei."),
        Canned(name="refund", title="Refund policy", text="Refunds reach you in 5 days."),
        Canned(name="退款", title="退款政策", text="退款将在 5 个工作日内到账。"),
    ]
    assert rank_canned("where is my refund?", canned) == ["refund"]
    assert rank_canned("我的退款什么时候到账", canned) == ["退款"]
    assert rank_canned("", canned) == []
