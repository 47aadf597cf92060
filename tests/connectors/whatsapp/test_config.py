"""The ``channels.whatsapp`` section: every mistake is a `ConfigError` naming its key or
environment variable (what `frontdesk check-config` prints)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.app import create_app
from hub.config import load_config
from hub.errors import ConfigError

SECRETS = {"FRONTDESK_WHATSAPP_TOKEN": "token", "FRONTDESK_WHATSAPP_APP_SECRET": "secret"}


def build(tmp_path: Path, section: dict[str, Any], environ: dict[str, str]) -> None:
    path = tmp_path / "frontdesk.yaml"
    config = {"bot": {"kind": "echo"}, "channels": {"whatsapp": {"enabled": True, **section}}}
    path.write_text(json.dumps(config), encoding="utf-8")
    env = {"FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db", **environ}
    create_app(load_config(path, env), environ=env)


@pytest.mark.parametrize(
    ("section", "environ", "named"),
    [
        ({}, SECRETS, "channels.whatsapp.phone_number_id"),
        (
            {"phone_number_id": "1"},
            {"FRONTDESK_WHATSAPP_TOKEN": "t"},
            "FRONTDESK_WHATSAPP_APP_SECRET",
        ),
        ({"phone_number_id": "+1 555"}, {}, "channels.whatsapp.phone_number_id"),
        ({"graph_url": "graph.facebook.com"}, {}, "channels.whatsapp.graph_url"),
        ({"api_version": "21"}, {}, "channels.whatsapp.api_version"),
        ({"phone_numbr_id": "1"}, {}, "channels.whatsapp.phone_numbr_id"),
        (
            {"templates": {"agent": {"name": "x", "en": "en"}}},
            {},
            "channels.whatsapp.templates.agent",
        ),
        (
            {"templates": {"csat": {"name": "x", "en": "english"}}},
            {},
            "channels.whatsapp.templates.csat.en",
        ),
        ({"templates": {"csat": {"name": "x"}}}, {}, "channels.whatsapp.templates.csat.en"),
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


def test_a_complete_section_is_accepted(tmp_path: Path) -> None:
    templates = {"agent_reply": {"name": "frontdesk_agent_reply", "en": "en_US", "zh": "zh_CN"}}
    build(tmp_path, {"phone_number_id": "106540352242922", "templates": templates}, SECRETS)
