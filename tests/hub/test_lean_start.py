"""A hub loads the numeric libraries only for what needs them, and never to train.

scikit-learn with SciPy and pandas costs a hub process about 110 MiB, more than 5,000 idle
web chat visitors' sockets; only the NLU's training, the knowledge base and the on-demand
"unanswered questions" report need them, so they are imported where those run, and the
training runs in a short-lived process of its own (`dialogs.training_process`). These start
`python -m hub serve` as an operator would (SQLite, web chat on; the echo bot, then the demo
dialog bot), serve web chat visitors in both languages, and read which native libraries the
process has mapped (jieba's dictionary, 62 MiB as jieba keeps it, is a 3 MB trie there).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from dialogs.loader import load_bot
from dialogs.yamlsource import DialogsInvalid

REPO = Path(__file__).resolve().parents[2]

# Each of these ships compiled extensions, so once imported it shows in /proc/<pid>/maps
# (bm25s is pure Python but imports SciPy).
HEAVY = ("/sklearn/", "/scipy/", "/pandas/")
#: Polled for, never timed: a reload is noticed within a second, its training takes seconds.
RELOAD_DEADLINE = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def chat(url: str, texts: list[str]) -> list[str]:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        break
            await asyncio.sleep(0.1)
        replies: list[str] = []
        async with session.ws_connect(url.replace("http", "ws", 1) + "/webchat/ws") as ws:
            await ws.send_json({"type": "hello"})
            for number, text in enumerate(texts):
                await ws.send_json({"type": "message", "id": f"m{number}", "text": text})
                while True:
                    frame = json.loads((await ws.receive(timeout=30)).data)
                    assert frame["type"] not in ("error", "slow_down"), frame
                    if frame["type"] == "message" and frame["direction"] == "out":
                        replies.append(frame["text"])
                        break
        return replies


@contextlib.contextmanager
def serving(tmp_path: Path, **settings: str) -> Iterator[tuple[str, int, Path]]:
    """`python -m hub serve` on SQLite with web chat on: (its URL, its pid, its log file)."""
    config = tmp_path / "frontdesk.yaml"
    config.write_text("channels:\n  webchat:\n    enabled: true\n", encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "FRONTDESK_HOST": "127.0.0.1",
        "FRONTDESK_PORT": str(port),
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/lean.db",
        "FRONTDESK_WEBCHAT_SECRET": "lean-secret",
        "FRONTDESK_API_TOKEN": "lean-token",
        "FRONTDESK_LOG_FORMAT": "text",
        **settings,
    }
    log = tmp_path / "hub.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--config", str(config)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
        try:
            yield f"http://127.0.0.1:{port}", server.pid, log
        finally:
            server.terminate()
            server.wait(timeout=30)


def heavy_libraries(pid: int) -> list[str]:
    mapped = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")
    return sorted({part for part in HEAVY if part in mapped})


def test_an_echo_bot_hub_serves_web_chat_without_the_numeric_libraries(tmp_path: Path) -> None:
    with serving(tmp_path, FRONTDESK_BOT="echo") as (url, pid, _):
        replies = asyncio.run(chat(url, ["where is my parcel", "我的包裹在哪里"]))
        loaded = heavy_libraries(pid)
    # The server really served both languages before its libraries were read.
    assert replies == ["You said: where is my parcel", "You said: 我的包裹在哪里"]
    assert loaded == []


DEMO = REPO / "config" / "dialogs"
PASSWORD_EN = 'Tap "Forgot password" on the sign-in screen'
PASSWORD_ZH = "在登录页点击「忘记密码」"
GIFT_WRAP = """\
version: 1
faq:
  gift_wrap:
    title: {en: "Gift wrapping", zh: "礼品包装"}
    examples:
      - can you gift wrap my order
      - do you offer gift wrapping
      - I want it wrapped as a present
      - 可以帮我包装成礼物吗
      - 有礼品包装吗
      - 我想要礼品包装
    answer:
      en: Gift wrapping is free; tick "gift" at checkout.
      zh: 礼品包装免费，结账时勾选「礼品」即可。
"""
BLANK_INTENT = """\
  blank:
    examples: ["\\u200b"]
    answer: {en: "Never said", zh: "从未说过"}
"""


def test_a_demo_bot_hub_answers_both_languages_without_scikit_learn(tmp_path: Path) -> None:
    dialogs = shutil.copytree(DEMO, tmp_path / "dialogs")
    with serving(tmp_path, FRONTDESK_BOT="dialogs", FRONTDESK_DIALOGS_PATH=str(dialogs)) as (
        url,
        pid,
        _,
    ):
        english = asyncio.run(chat(url, ["I forgot my password"]))
        chinese = asyncio.run(chat(url, ["忘记密码了"]))
        mapped = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")
    # The classifier was trained (it understood both FAQs), and not by this process.
    assert english[0].startswith(PASSWORD_EN), english
    assert chinese[0].startswith(PASSWORD_ZH), chinese
    assert "/sklearn/" not in mapped
    # Chinese was cut over jieba's dictionary as a trie (`hub.jieba_dict`), not jieba's dict.
    assert "/marisa_trie." in mapped


async def answer_once_reloaded(url: str, text: str, expected: str) -> str:
    """The reply to `text` once it is `expected` (a reload has landed), else the last one."""
    deadline = time.monotonic() + RELOAD_DEADLINE
    while True:
        reply = (await chat(url, [text]))[0]
        if reply == expected or time.monotonic() > deadline:
            return reply
        await asyncio.sleep(0.5)


def test_a_demo_bot_hub_retrains_on_reload_and_keeps_it_through_a_bad_edit(
    tmp_path: Path,
) -> None:
    dialogs = Path(shutil.copytree(DEMO, tmp_path / "dialogs"))
    wrapped_en = 'Gift wrapping is free; tick "gift" at checkout.'
    wrapped_zh = "礼品包装免费，结账时勾选「礼品」即可。"
    with serving(tmp_path, FRONTDESK_BOT="dialogs", FRONTDESK_DIALOGS_PATH=str(dialogs)) as (
        url,
        pid,
        log,
    ):
        asyncio.run(chat(url, ["hello"]))  # serving the demo bot
        # A new intent: only a classifier trained again can answer it.
        (dialogs / "gift_wrap.yml").write_text(GIFT_WRAP, encoding="utf-8")
        english = asyncio.run(answer_once_reloaded(url, "do you do gift wrapping", wrapped_en))
        chinese = asyncio.run(answer_once_reloaded(url, "有没有礼品包装", wrapped_zh))
        # An intent whose one example is blank once normalized (a zero-width space) passes
        # the checks and fails the training: the reload is refused, the previous bot goes on.
        (dialogs / "gift_wrap.yml").write_text(GIFT_WRAP + BLANK_INTENT, encoding="utf-8")
        deadline = time.monotonic() + RELOAD_DEADLINE
        while "dialogs reload rejected" not in log.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.2)
        after = asyncio.run(chat(url, ["do you do gift wrapping", "有没有礼品包装"]))
        mapped = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")
    assert (english, chinese) == (wrapped_en, wrapped_zh)
    assert after == [wrapped_en, wrapped_zh]
    # The error reads as it does when the bot is trained in the process that loads it
    # (`dialogs check`, and the hub before its training moved out).
    with pytest.raises(DialogsInvalid) as here:
        load_bot(dialogs)
    [problem] = here.value.problems
    assert "cannot train intents: every intent needs a non-blank example" in problem.message
    assert f"dialogs reload rejected: {problem.located()}\n" in log.read_text(encoding="utf-8")
    assert "/sklearn/" not in mapped
