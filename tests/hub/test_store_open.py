"""A SQLite store that cannot be written, or is newer than the code, says so at start-up,
naming the path."""

from __future__ import annotations

import os
import sqlite3
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


def serve(store_url: str) -> subprocess.CompletedProcess[str]:
    """`frontdesk serve` on the demo config with this store; it should exit at start-up."""
    env = {
        **os.environ,
        "FRONTDESK_STORE_URL": store_url,
        "FRONTDESK_PORT": "0",
        "FRONTDESK_BOT": "echo",
        "FRONTDESK_HANDOFF_PATH": "",
        "FRONTDESK_API_TOKEN": "t",
        "FRONTDESK_LOG_FORMAT": "text",
    }
    return subprocess.run(
        [sys.executable, "-m", "hub", "serve", "--config", str(DEMO_CONFIG)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_exits_with_the_path_in_its_error(tmp_path: Path) -> None:
    done = serve(f"sqlite:///{UNWRITABLE}")
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"cannot open the SQLite store at {UNWRITABLE}" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_a_store_newer_than_itself(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    done = serve(f"sqlite:///{path}")
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"the SQLite store at {path} has schema version 99, newer than" in done.stderr
    assert "Traceback" not in done.stderr
    after = sqlite3.connect(path)
    assert after.execute("PRAGMA user_version").fetchone()[0] == 99  # left as it was
    after.close()
