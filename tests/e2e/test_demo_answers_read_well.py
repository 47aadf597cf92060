"""The demo bot's answers as a customer reads them, through the real path (the api channel →
hub → the demo dialog engine and its help centre), in English and Chinese: no space a folded
YAML line left between Chinese characters, no line break an editor wrapped an article at."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_handoff_sentences import Desk, running_desk
from tests.support import REPO

CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
SPACE_IN_CHINESE = re.compile(f"[{CJK}] [{CJK}]")


@pytest.fixture
async def desk(aiohttp_client: Any, tmp_path: Path) -> AsyncIterator[Desk]:
    bot = {
        "kind": "dialogs",
        "dialogs_path": str(REPO / "config" / "dialogs"),
        "knowledge_path": str(REPO / "config" / "knowledge"),
    }
    async with running_desk(aiohttp_client, tmp_path, bot) as desk:
        yield desk


@pytest.mark.parametrize(
    ("question", "written"),
    [
        ("可以用支付宝付款吗", "中国大陆可货到付款；订单满 600 元"),
        ("退款政策是什么", "质量问题 1 年内可换新。我们收到退货后"),
        ("忘记密码了怎么办", "可能需要 5 分钟，请同时查看垃圾邮件"),
        # English keeps the spaces its folded lines are joined with.
        ("can i pay with paypal", "Cash on delivery is available in mainland China"),
        ("what is your refund policy", "Refunds reach your original payment method"),
    ],
)
async def test_folded_answers_have_no_space_between_chinese_characters(
    desk: Desk, question: str, written: str
) -> None:
    said = await desk.say("reader", question)
    assert written in said.text, said.text
    assert not SPACE_IN_CHINESE.search(said.text), said.text


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (
            "is my watch waterproof",
            "Phones are rated IP68: they survive rain, splashes and a short drop into fresh water.",
        ),
        ("耳机只有一边有声音", "把两只耳机一起放回充电盒十秒钟，再同时取出。"),
    ],
)
async def test_a_quoted_article_is_not_broken_where_its_file_was_wrapped(
    desk: Desk, question: str, sentence: str
) -> None:
    said = await desk.say("reader", question)
    assert sentence in said.text, said.text
    passage = said.text.split("\n\n")[1]  # between the article's title and its link
    assert "\n" not in passage, passage
