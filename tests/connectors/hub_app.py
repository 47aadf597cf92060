"""The whole hub for a channel's tests: its configuration written to `tmp_path` and
loaded as `frontdesk` loads it, with quick delivery retries so a failing send is retried
(and parked) within a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.abc import ConversationHandler
from hub.app import create_app
from hub.config import load_config

# Retries fast enough for a test to watch a send be retried, then parked.
QUICK_DELIVERY = {"max_attempts": 4, "base_delay": 0.05, "max_delay": 0.2, "poll_interval": 0.05}


def hub_app(
    tmp_path: Path,
    *,
    channels: dict[str, Any],
    environ: dict[str, str],
    bot: ConversationHandler,
    handoff: Path | None = None,
) -> web.Application:
    """The hub with `channels` configured, the hand-off read from `handoff` when given."""
    config: dict[str, Any] = {
        "delivery": dict(QUICK_DELIVERY),
        "logging": {"format": "text"},
        "bot": {"kind": "echo", **({"handoff_path": str(handoff)} if handoff else {})},
        "channels": channels,
    }
    path = tmp_path / "frontdesk.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    return create_app(load_config(path, environ), environ=environ, bot=bot)


__all__ = ["QUICK_DELIVERY", "hub_app"]
