"""Shared by the web chat tests: a hub config with the webchat channel, and a socket client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType

from connectors.webchat import protocol
from hub.config import Config, load_config
from hub.model import Outbound

SECRET = "test-webchat-secret"


def webchat_env(tmp_path: Path) -> dict[str, str]:
    return {
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db",
        "FRONTDESK_API_TOKEN": "test-api-token",
        "FRONTDESK_WEBCHAT_SECRET": SECRET,
        "FRONTDESK_LOG_FORMAT": "text",
    }


def webchat_config(tmp_path: Path, env: dict[str, str], **settings: Any) -> Config:
    """A config file with only the webchat channel, its settings overridden by `settings`."""
    lines = ["bot:", "  kind: echo", "delivery:", "  poll_interval: 0.05", "channels:"]
    lines += ["  webchat:", "    enabled: true"]
    for key, value in settings.items():
        lines.append(f"    {key}: {json.dumps(value)}")
    path = tmp_path / "frontdesk.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(path, env)


class HandTimer:
    """A timer a test fires by hand (it stands in for the loop's `TimerHandle`)."""

    def __init__(self, callback: Callable[[], None], when: float = 0.0) -> None:
        self.callback = callback
        self.when = when
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def bot_reply(text: str) -> dict[str, Any]:
    """A reply frame as the live feed would publish it (conversation `con_1`, seq 2)."""
    return protocol.message_out(
        conversation_id="con_1", seq=2, at=1.0, outbound=Outbound(text=text), delivery_id="d_1"
    )


async def next_frame(ws: ClientWebSocketResponse, timeout: float = 10.0) -> dict[str, Any]:
    message = await ws.receive(timeout=timeout)
    assert message.type == WSMsgType.TEXT, f"expected a text frame, got {message.type!r}"
    frame: dict[str, Any] = json.loads(message.data)
    return frame


async def frames_until(
    ws: ClientWebSocketResponse, predicate: Any, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Every frame up to and including the first one `predicate` accepts."""
    seen: list[dict[str, Any]] = []

    async def collect() -> None:
        while True:
            frame = await next_frame(ws, timeout)
            seen.append(frame)
            if predicate(frame):
                return

    await asyncio.wait_for(collect(), timeout)
    return seen


def is_reply(text: str) -> Any:
    return lambda f: f["type"] == "message" and f["direction"] == "out" and f["text"] == text


async def hello(ws: ClientWebSocketResponse, **fields: Any) -> list[dict[str, Any]]:
    """Say hello; the frames up to `synced` (welcome first, then the replay)."""
    await ws.send_json({"type": "hello", **fields})
    return await frames_until(ws, lambda f: f["type"] == "synced")
