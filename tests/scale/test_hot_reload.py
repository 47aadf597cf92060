"""A dialog edit is served by every process: each watches the same files and reloads, and a
reload one process noticed is followed by the others at once (`hub.bot_sync`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.scale.clients import eventually, post_message
from tests.scale.processes import HubGroup, HubProcess, group_config
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
        await group.stop()


async def _bot(session: aiohttp.ClientSession, hub: HubProcess) -> dict[str, Any]:
    async with session.get(f"{hub.url}/readyz") as response:
        assert response.status == 200, await response.text()
        found: dict[str, Any] = (await response.json())["bot"]
        return found


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_reload_on_one_process_is_followed_by_the_others(
    tmp_path: Path, scale_store_url: str, receiver: CallbackReceiver, lang: str
) -> None:
    """A notices the edit itself; B watches the same files but only once an hour, so only
    A's announcement can make it reload; C's files (another machine) were not edited."""
    edited, elsewhere = tmp_path / "dialogs", tmp_path / "elsewhere"
    _write_bot(edited, BEFORE)
    _write_bot(elsewhere, BEFORE)
    config = group_config(tmp_path, scale_store_url, receiver.url)
    bot = {"kind": "dialogs", "action_endpoint": ""}
    settings = [(edited, 0.2), (edited, 3600.0), (elsewhere, 3600.0)]
    hubs = [
        HubProcess(
            tmp_path / f"hub{n}",
            "ABC"[n],
            {**config, "bot": {**bot, "dialogs_path": str(path), "reload_interval": interval}},
        )
        for n, (path, interval) in enumerate(settings)
    ]
    asked = 0

    async def answer(session: aiohttp.ClientSession, hub: HubProcess) -> str:
        nonlocal asked
        asked += 1
        sender = f"follow-{lang}-{asked}"
        before = len(receiver.received)
        await post_message(session, hub, sender, QUESTION[lang], f"f{asked}")
        replies: list[dict[str, Any]] = []

        async def replied() -> bool:
            replies[:] = [r for r in receiver.received[before:] if r.get("recipient") == sender]
            return bool(replies)

        await eventually(replied, f"an answer from process {hub.name}")
        return str(replies[-1]["text"])

    try:
        for hub in hubs:
            hub.spawn()
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(hub.ready(session) for hub in hubs))
            first = [await _bot(session, hub) for hub in hubs]
            assert len({found["version"] for found in first}) == 1, first
            assert all(found["current"] for found in first), first
            old = first[0]["version"]

            _write_bot(edited, AFTER)  # the operator edits the answer once

            async def followed() -> list[dict[str, Any]] | None:
                found = [await _bot(session, hub) for hub in hubs]
                return (
                    found
                    if found[0]["version"] != old == found[2]["version"]
                    and (found[1]["version"] == found[0]["version"])
                    and found[2]["announced"] == found[0]["version"]
                    else None
                )

            a, b, c = await eventually(followed, "B following A's reload, C told of it")
            assert a["current"] and b["current"]
            assert not c["current"]  # C's files are not that version: it says so
            assert await answer(session, hubs[1]) == AFTER[lang]
            assert await answer(session, hubs[0]) == AFTER[lang]
            assert await answer(session, hubs[2]) == BEFORE[lang]
    finally:
        for hub in hubs:
            await hub.stop()
