"""The kept web chat secret: created once with mode 0600, made private again if loosened,
and a file that holds no secret stops the start with the key to fix."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from connectors.webchat.connector import WebchatConnector
from connectors.webchat.secret import default_path, kept_secret
from hub.abc import ChannelLinks
from hub.config import Section
from hub.echo import EchoBot
from hub.errors import ConfigError
from hub.hub import Hub
from hub.store_sqlite import SQLiteStore
from tests.support import channel_links


def test_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "webchat.secret"
    first = kept_secret(path)
    assert len(first) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    assert kept_secret(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["webchat.secret"]  # no temporaries


def test_the_data_directory_follows_the_sqlite_store(tmp_path: Path) -> None:
    env = {"FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/x/frontdesk.db"}
    assert default_path(env) == tmp_path / "x" / "webchat.secret"
    assert default_path({"FRONTDESK_STORE_URL": "redis://127.0.0.1:6379/0"}) == Path(
        "data/webchat.secret"
    )


def _links(directory: Path) -> ChannelLinks:
    """A hub on a store never opened: nothing is received here."""
    return channel_links(Hub(store=SQLiteStore(directory / "hub.db"), bot=EchoBot()), directory)


def test_a_file_without_a_secret_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "webchat.secret"
    path.write_text("\n")
    os.chmod(path, 0o600)
    section = Section({"secret_file": str(path)}, path="frontdesk.yaml", key="channels.webchat")
    with pytest.raises(ConfigError) as error:
        WebchatConnector.from_config(section, links=_links(tmp_path), environ={})
    assert "secret_file" in str(error.value) and "64 hex digits" in str(error.value)


def test_an_unwritable_data_directory_falls_back_with_a_warning(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # Not even root may create files in /proc; the store reports such a path at start.
    section = Section(
        {"secret_file": "/proc/frontdesk-data/webchat.secret"},
        path="frontdesk.yaml",
        key="channels.webchat",
    )
    connector = WebchatConnector.from_config(section, links=_links(tmp_path), environ={})
    assert len(connector.secret) == 64  # hex, as a generated file holds it: offered to the store
    # Another test in the same process may have registered a secret that the log redactor
    # then hides wherever it appears, even inside words: check the parts that stay.
    assert "cannot keep the web chat" in caplog.text and "/proc/frontdesk-data" in caplog.text
