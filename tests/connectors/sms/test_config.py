"""The ``channels.sms`` section: every mistake is a `ConfigError` naming its key or
environment variable (what `frontdesk check-config` prints)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.app import create_app
from hub.cli import main
from hub.config import load_config
from hub.errors import ConfigError

SID = "AC" + "a" * 32
SECRETS = {"FRONTDESK_TWILIO_ACCOUNT_SID": SID, "FRONTDESK_TWILIO_AUTH_TOKEN": "token"}
COMPLETE = {"from_number": "+15017122661", "public_url": "https://support.example.com"}


def write(tmp_path: Path, section: dict[str, Any]) -> Path:
    path = tmp_path / "frontdesk.yaml"
    config = {"bot": {"kind": "echo"}, "channels": {"sms": {"enabled": True, **section}}}
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def build(tmp_path: Path, section: dict[str, Any], environ: dict[str, str]) -> None:
    env = {"FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db", **environ}
    create_app(load_config(write(tmp_path, section), env), environ=env)


@pytest.mark.parametrize(
    ("section", "environ", "named"),
    [
        ({"public_url": "https://x.example"}, SECRETS, "channels.sms.from_number"),
        ({"from_number": "+15017122661"}, SECRETS, "channels.sms.public_url"),
        (COMPLETE, {"FRONTDESK_TWILIO_ACCOUNT_SID": SID}, "FRONTDESK_TWILIO_AUTH_TOKEN"),
        (
            COMPLETE,
            {**SECRETS, "FRONTDESK_TWILIO_ACCOUNT_SID": "AC123"},
            "FRONTDESK_TWILIO_ACCOUNT_SID",
        ),
        ({"from_number": "5017122661"}, {}, "channels.sms.from_number"),
        ({"messaging_service_sid": "MG1"}, {}, "channels.sms.messaging_service_sid"),
        ({"public_url": "support.example.com"}, {}, "channels.sms.public_url"),
        ({"api_url": "api.twilio.com"}, {}, "channels.sms.api_url"),
        ({"chat_link": "example.com/chat"}, {}, "channels.sms.chat_link"),
        ({"max_segments": 11}, {}, "channels.sms.max_segments"),
        ({"max_segments": 0}, {}, "channels.sms.max_segments"),
        ({"help_text": {"fr": "Aide"}}, {}, "channels.sms.help_text.fr"),
        ({"help_text": {"en": ""}}, {}, "channels.sms.help_text.en"),
        ({"from_numbr": "+15017122661"}, {}, "channels.sms.from_numbr"),
    ],
)
def test_a_wrong_setting_is_named(
    tmp_path: Path, section: dict[str, Any], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as error:
        build(tmp_path, section, environ)
    assert named in str(error.value)


def test_without_credentials_the_channel_is_built_and_stays_idle(tmp_path: Path) -> None:
    build(tmp_path, {}, {})  # the demo's state: enabled by the operator, no secrets yet


@pytest.mark.parametrize(
    "section",
    [COMPLETE, {**COMPLETE, "from_number": "", "messaging_service_sid": "MG" + "b" * 32}],
)
def test_a_complete_section_is_accepted(tmp_path: Path, section: dict[str, Any]) -> None:
    build(tmp_path, section, SECRETS)


def test_check_config_names_the_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTDESK_STORE_URL", f"sqlite:///{tmp_path}/frontdesk.db")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    assert main(["check-config", str(write(tmp_path, COMPLETE))]) == 0
    assert "sms" in capsys.readouterr().out
