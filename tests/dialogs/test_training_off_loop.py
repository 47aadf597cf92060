"""A reload retrains the intent classifier in a worker thread: turns go on meanwhile, and the
new bot replaces the old one whole."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from dialogs.engine import DialogEngine
from tests.dialogs.talk import DEMO_DIALOGS, Chat


async def test_turns_are_answered_while_a_reload_trains(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(DEMO_DIALOGS, tmp_path / "dialogs"))
    engine = DialogEngine.from_path(folder)
    old_bot = engine.bot
    # New examples: the classifier cannot come from the training cache, it must be trained
    # (and calibrated: several fits).
    gift = folder / "payments.yml"
    gift.write_text(
        gift.read_text(encoding="utf-8").replace(
            "      - 有礼品卡吗\n",
            "      - 有礼品卡吗\n      - 礼品卡能退吗\n      - 购物卡能退吗\n",
        ),
        encoding="utf-8",
    )
    reload = asyncio.create_task(engine.reload())
    await asyncio.sleep(0)  # the reload is under way in its thread
    english, chinese = Chat(engine), Chat(engine)
    answers = [await english.say("how much is shipping?"), await chinese.say("运费多少")]
    # Both turns were answered by the old bot before the new one was ready.
    assert not reload.done()
    assert engine.bot is old_bot
    assert "¥99" in Chat.texts(answers[0])[0]
    assert "99 元" in Chat.texts(answers[1])[0]
    assert await reload is True
    assert engine.bot is not old_bot
    assert "礼品卡能退吗" in engine.bot.intents["gift_cards"].examples
    assert engine.bot.classifier is not old_bot.classifier
