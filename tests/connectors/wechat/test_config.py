"""``channels.wechat`` is checked when the hub is built (so by ``frontdesk check-config``),
naming the key or environment variable that is wrong; secrets only from the environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from connectors.wechat.connector import WeChatConnector
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.errors import ConfigError
from tests.connectors.wechat.fake_wechat import APP_ID, APP_SECRET
from tests.connectors.wechat.harness import AES_KEY, TOKEN
from tests.support import hub_config, hub_env

REPO = Path(__file__).resolve().parents[3]


def build(tmp_path: Path, section: str = f"    app_id: {APP_ID}\n", **env: str) -> WeChatConnector:
    path = tmp_path / "frontdesk.yaml"
    path.write_text("channels:\n  api:\n    enabled: false\n  wechat:\n" + section)
    environ = hub_env(tmp_path, **env)
    app = create_app(hub_config(environ, path), environ=environ, bot=EchoBot())
    connector = app[HUB].connectors["wechat"]
    assert isinstance(connector, WeChatConnector)
    return connector


SECRETS = {
    "FRONTDESK_WECHAT_APP_SECRET": APP_SECRET,
    "FRONTDESK_WECHAT_TOKEN": TOKEN,
}


def test_a_valid_section_builds_in_plaintext_and_in_safe_mode(tmp_path: Path) -> None:
    plain = build(tmp_path, **SECRETS)
    assert plain.settings.configured and not plain.settings.safe_mode
    safe = build(tmp_path, **SECRETS, FRONTDESK_WECHAT_AES_KEY=AES_KEY)
    assert safe.settings.safe_mode and len(safe.settings.aes_key) == 32


def test_without_secrets_the_channel_builds_and_stays_idle(tmp_path: Path) -> None:
    assert not build(tmp_path, section="    enabled: true\n").settings.configured


@pytest.mark.parametrize(
    ("section", "env", "key", "words"),
    [
        ("    app_id: wx123\n", SECRETS, "channels.wechat.app_id", "16 hex digits"),
        ("    enabled: true\n", SECRETS, "channels.wechat.app_id", "is required"),
        (
            f"    app_id: {APP_ID}\n    app_secret: x\n",
            {},
            "channels.wechat.app_secret",
            "not a known",
        ),
        (f"    app_id: {APP_ID}\n    api_url: ftp://x\n", {}, "channels.wechat.api_url", "http(s)"),
        (
            f"    app_id: {APP_ID}\n",
            {**SECRETS, "FRONTDESK_WECHAT_TOKEN": "has spaces!"},
            "FRONTDESK_WECHAT_TOKEN",
            "3-32 letters or digits",
        ),
        (
            f"    app_id: {APP_ID}\n",
            {**SECRETS, "FRONTDESK_WECHAT_AES_KEY": "too-short"},
            "FRONTDESK_WECHAT_AES_KEY",
            "43 characters",
        ),
    ],
    ids=["app-id-shape", "app-id-missing", "secret-in-file", "api-url", "token-shape", "aes-key"],
)
def test_wrong_settings_are_named(
    tmp_path: Path, section: str, env: dict[str, str], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as error:
        build(tmp_path, section=section, **env)
    assert error.value.key == key
    assert words in str(error.value)


def test_check_config_accepts_the_demo_config_with_wechat_listed(tmp_path: Path) -> None:
    text = (REPO / "config" / "frontdesk.yaml").read_text(encoding="utf-8")
    assert "  wechat:" in text
    result = subprocess.run(
        [sys.executable, "-m", "hub", "check-config", str(REPO / "config" / "frontdesk.yaml")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/c.db"},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
