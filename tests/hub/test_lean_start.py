"""A hub serving without the dialog engine's models does not load the numeric libraries.

scikit-learn with SciPy and pandas costs a hub process about 110 MiB, more than 5,000 idle
web chat visitors' sockets; only the NLU's training, the knowledge base and the on-demand
"unanswered questions" report need them, so they are imported where those run. This starts
`python -m hub serve` as an operator would (echo bot, SQLite, web chat on), serves a web
chat visitor in both languages, and reads which native libraries the process has mapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[2]

# Each of these ships compiled extensions, so once imported it shows in /proc/<pid>/maps
# (bm25s is pure Python but imports SciPy).
HEAVY = ("/sklearn/", "/scipy/", "/pandas/")


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


def test_an_echo_bot_hub_serves_web_chat_without_the_numeric_libraries(tmp_path: Path) -> None:
    config = tmp_path / "frontdesk.yaml"
    config.write_text("channels:\n  webchat:\n    enabled: true\n", encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "FRONTDESK_HOST": "127.0.0.1",
        "FRONTDESK_PORT": str(port),
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/lean.db",
        "FRONTDESK_BOT": "echo",
        "FRONTDESK_WEBCHAT_SECRET": "lean-secret",
        "FRONTDESK_API_TOKEN": "lean-token",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        replies = asyncio.run(
            chat(f"http://127.0.0.1:{port}", ["where is my parcel", "我的包裹在哪里"])
        )
        mapped = Path(f"/proc/{server.pid}/maps").read_text(encoding="utf-8")
    finally:
        server.terminate()
        server.wait(timeout=30)
    # The server really served both languages before its libraries were read.
    assert replies == ["You said: where is my parcel", "You said: 我的包裹在哪里"]
    loaded = sorted({part for part in HEAVY if part in mapped})
    assert loaded == []
