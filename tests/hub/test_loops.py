"""`FRONTDESK_EVENT_LOOP`: the standard loop by default, uvloop only when asked for and
installed, and a clear configuration error for anything else."""

from __future__ import annotations

import asyncio
import importlib.util
import logging

import pytest

from hub.errors import ConfigError
from hub.loops import ENV, new_event_loop


def test_the_standard_loop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    loop = new_event_loop()
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()


def test_uvloop_when_asked_for(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(ENV, "uvloop")
    with caplog.at_level(logging.WARNING, logger="frontdesk.loop"):
        loop = new_event_loop()
    try:
        if importlib.util.find_spec("uvloop") is None:
            assert isinstance(loop, asyncio.AbstractEventLoop)
            assert type(loop).__module__.startswith("asyncio")
            assert "not installed" in caplog.text
        else:
            assert type(loop).__module__.startswith("uvloop")
            assert loop.run_until_complete(asyncio.sleep(0, result=7)) == 7
    finally:
        loop.close()


def test_anything_else_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "trio")
    with pytest.raises(ConfigError, match="asyncio, uvloop"):
        new_event_loop()
