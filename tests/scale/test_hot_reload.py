"""A dialog edit is served by every process: each watches the same files and reloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.scale.clients import eventually, post_message
from tests.scale.processes import HubGroup, group_config
from tests.support import CallbackReceiver

QUESTION = {"en": "what are your opening hours", "zh": "你们的营业时间是什么"}
BEFORE = {"en": "We are open 9:00-18:00.", "zh": "我们的营业时间是 9:00-18:00。"}
AFTER = {"en": "We are now open 8:00-20:00.", "zh": "我们现在的营业时间是 8:00-20:00。"}


def _write_bot(directory: Path, answers: dict[str, str]) -> None:
    faq = {
        "faq": {
            "hours": {
                "title": {"en": "Opening hours", "zh": "营业时间"},
                "examples": [
                    "what are your opening hours",
                    "when are you open",
                    "opening hours please",
                    "你们的营业时间是什么",
                    "几点开门",
                    "营业时间",
                ],
                "answer": answers,
            },
            "greet": {
                "title": {"en": "Say hello", "zh": "打招呼"},
                "examples": ["hi", "hello", "good morning", "你好", "您好", "早上好"],
                "answer": {"en": "Hello!", "zh": "您好！"},
            },
        }
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bot.yml").write_text(
        json.dumps({"settings": {"languages": ["en", "zh"]}}), encoding="utf-8"
    )
    (directory / "faq.yml").write_text(json.dumps(faq, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_process_answers_from_the_reloaded_dialogs(
    tmp_path: Path, scale_store_url: str, receiver: CallbackReceiver, lang: str
) -> None:
    dialogs = tmp_path / "dialogs"
    _write_bot(dialogs, BEFORE)
    config = group_config(tmp_path, scale_store_url, receiver.url)
    config["bot"] = {"kind": "dialogs", "dialogs_path": str(dialogs), "action_endpoint": ""}
    group = HubGroup(tmp_path, config, count=3)
    asked = 0

    async def answer(session: aiohttp.ClientSession, index: int) -> str:
        nonlocal asked
        asked += 1
        sender = f"reload-{lang}-{index}"
        before = len(receiver.received)
        await post_message(session, group[index], sender, QUESTION[lang], f"q{asked}")
        replies: list[dict[str, Any]] = []

        async def replied() -> bool:
            replies[:] = [r for r in receiver.received[before:] if r.get("recipient") == sender]
            return bool(replies)

        await eventually(replied, f"an answer from process {index}")
        return str(replies[-1]["text"])

    try:
        await group.start()
        async with aiohttp.ClientSession() as session:
            for index in range(3):
                assert await answer(session, index) == BEFORE[lang]
            _write_bot(dialogs, AFTER)  # the operator edits the answer once
            for index in range(3):

                async def reloaded(index: int = index) -> bool:
                    return await answer(session, index) == AFTER[lang]

                await eventually(reloaded, f"process {index} serving the new answer")
    finally:
        group.stop()
