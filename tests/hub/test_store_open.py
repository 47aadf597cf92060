"""A SQLite store that cannot be written says so at start-up, naming the path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.store_sqlite import SQLiteStore
from tests.support import DEMO_CONFIG, REPO

# Not even root may create files in /proc: an unwritable path on any Linux machine.
UNWRITABLE = Path("/proc/frontdesk-data/frontdesk.db")


async def test_opening_an_unwritable_path_names_it() -> None:
    with pytest.raises(ConfigError) as raised:
        await SQLiteStore(UNWRITABLE).open()
    assert str(UNWRITABLE) in raised.value.located()
    assert "writable" in raised.value.message


async def test_a_file_that_is_no_database_is_named_too(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100)
    with pytest.raises(ConfigError) as raised:
        await SQLiteStore(path).open()
    assert str(path) in raised.value.message


def test_serve_exits_with_the_path_in_its_error(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FRONTDESK_STORE_URL": f"sqlite:///{UNWRITABLE}",
        "FRONTDESK_PORT": "0",
        "FRONTDESK_BOT": "echo",
        "FRONTDESK_HANDOFF_PATH": "",
        "FRONTDESK_API_TOKEN": "t",
        "FRONTDESK_LOG_FORMAT": "text",
    }
    done = subprocess.run(
        [sys.executable, "-m", "hub", "serve", "--config", str(DEMO_CONFIG)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"cannot open the SQLite store at {UNWRITABLE}" in done.stderr
    assert "Traceback" not in done.stderr
