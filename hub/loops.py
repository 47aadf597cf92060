"""Which event loop `frontdesk serve` runs on: the standard one, or uvloop when asked for.

uvloop (libuv) makes the loop's own work (socket reads and writes, callbacks, timers)
cheaper; the hub's work (the store, the bot) is unchanged. It is never required: set
``FRONTDESK_EVENT_LOOP=uvloop`` to use it when installed (``pip install uvloop``), and the
standard loop is used, with a warning, where it is not. The default is the standard loop,
so a machine behaves the same whatever happens to be installed on it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os

from hub.errors import ConfigError

log = logging.getLogger("frontdesk.loop")

ENV = "FRONTDESK_EVENT_LOOP"
CHOICES = ("asyncio", "uvloop")


def new_event_loop(choice: str | None = None) -> asyncio.AbstractEventLoop:
    """A fresh loop of the kind `choice` (default: `$FRONTDESK_EVENT_LOOP`, else asyncio)."""
    choice = (choice if choice is not None else os.environ.get(ENV, "")).strip().lower()
    if choice in ("", "asyncio"):
        return asyncio.new_event_loop()
    if choice != "uvloop":
        raise ConfigError(f"{ENV} must be one of {', '.join(CHOICES)}, not {choice!r}", key=ENV)
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        log.warning("uvloop was asked for but is not installed; using the standard loop")
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop
