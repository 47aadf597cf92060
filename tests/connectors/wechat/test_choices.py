"""Choices on WeChat through the connector: a msgmenu click is read by its line's id (an
older menu's click still means what it said), and more choices than a menu holds go as a
numbered list whose typed number picks the choice — in English and Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.model import Button, Outbound
from tests.connectors.wechat.fake_wechat import FakeWeChatApi
from tests.connectors.wechat.harness import menu_click, push, sees, text, wechat_app

STORES = tuple(Button(title=f"Store {n} 门店", payload=f"/store{n}") for n in range(1, 13))
SIZES = (Button(title="Small 小", payload="/small"), Button(title="Large 大", payload="/large"))


class PickerBot(ConversationHandler):
    """Offers 12 stores or 2 sizes; says back the payload it got."""

    async def handle(self, turn: Turn) -> TurnResult:
        said = turn.inbound.text
        if said == "stores" or said == "门店":
            question = "Which store?" if said == "stores" else "哪家门店？"
            return TurnResult(replies=(Outbound(text=question, buttons=STORES),))
        if said in ("size", "尺寸"):
            return TurnResult(replies=(Outbound(text="Which size? 尺寸？", buttons=SIZES),))
        return TurnResult(replies=(Outbound(text=f"got {said}"),))


@pytest.mark.parametrize(
    ("ask", "typed", "hint"),
    [("stores", "12", "Reply 1, 2, 3"), ("门店", "第12个", "请回复 1、2、3")],
    ids=["en", "zh"],
)
async def test_more_than_ten_choices_go_as_a_numbered_list_and_the_typed_number_picks(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, ask: str, typed: str, hint: str
) -> None:
    client = await aiohttp_client(wechat_app(tmp_path, fake, bot=PickerBot()))
    assert await push(client, text(1, ask)) == (200, "success")
    listed = await sees(fake, "12. Store 12 门店")
    assert listed["msgtype"] == "text" and hint in listed["text"]["content"]
    assert await push(client, text(2, typed)) == (200, "success")
    await sees(fake, "got /store12")


async def test_a_click_on_an_older_menu_still_answers_with_its_own_payload(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await aiohttp_client(wechat_app(tmp_path, fake, bot=PickerBot()))
    assert await push(client, text(1, "size")) == (200, "success")
    first = await sees(fake, "Which size?")
    assert await push(client, text(2, "stores")) == (200, "success")
    await sees(fake, "Store 12")
    large = first["msgmenu"]["list"][1]
    assert await push(client, menu_click(3, large)) == (200, "success")
    await sees(fake, "got /large")
    # A typed "2" with no numbered list on screen is just "2".
    assert await push(client, text(4, "size")) == (200, "success")
    assert await push(client, text(5, "2")) == (200, "success")
    await sees(fake, "got 2")
