"""Config loading: defaults, environment overrides, and errors that say file, line and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import load_config
from hub.errors import ConfigError
from tests.support import DEMO_CONFIG, REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "frontdesk.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_config_loads_with_documented_defaults() -> None:
    config = load_config(DEMO_CONFIG, {})
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert config.server.max_body_bytes == 65536
    assert config.store_url == "sqlite:///data/frontdesk.db"
    assert "api" in config.channels


def test_environment_overrides_the_file() -> None:
    env = {
        "FRONTDESK_HOST": "127.0.0.2",
        "FRONTDESK_PORT": "9090",
        "FRONTDESK_STORE_URL": "redis://127.0.0.1:1/0",
        "FRONTDESK_API_TOKEN": "tok",
    }
    config = load_config(DEMO_CONFIG, env)
    assert (config.server.host, config.server.port) == ("127.0.0.2", 9090)
    assert config.store_url == "redis://127.0.0.1:1/0"
    assert config.api_token == "tok"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "server:\n  host: 127.0.0.1\n  port: eighty\n",
            "frontdesk.yaml:3: server.port: must be a whole number",
        ),
        ("server:\n  port: 99999\n", "frontdesk.yaml:2: server.port: must be between 0 and 65535"),
        ("server:\n  prot: 80\n", "frontdesk.yaml:2: server.prot: is not a known setting"),
        (
            "store:\n  url: mysql://x\n",
            "frontdesk.yaml:2: store.url: must start with sqlite:/// or redis://",
        ),
        ("logging:\n  level: LOUD\n", "frontdesk.yaml:2: logging.level: must be one of DEBUG"),
        ("server: [1, 2]\n", "frontdesk.yaml:1: server: must be a mapping"),
        ("server:\n  port: 80\n bad indent: [\n", "frontdesk.yaml:3: invalid YAML"),
        (
            "channels:\n  api:\n    callback_url: ftp://x\n",
            "frontdesk.yaml:3: channels.api.callback_url: must be an http",
        ),
        ("channels:\n  pigeon: {}\n", "channels.pigeon: unknown channel 'pigeon'"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    from hub.app import build_connectors
    from hub.echo import EchoBot
    from hub.hub import Hub
    from hub.store_sqlite import SQLiteStore
    from tests.support import channel_links

    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        config = load_config(path, {})
        hub = Hub(store=SQLiteStore(tmp_path / "x.db"), bot=EchoBot())
        build_connectors(config, channel_links(hub, tmp_path), {})
    assert expected in caught.value.located()


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(DEMO_CONFIG, {"FRONTDESK_PORT": "http"})
    assert (
        caught.value.located() == "environment: FRONTDESK_PORT: must be a whole number, not 'http'"
    )


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_check_config_cli_exit_codes(tmp_path: Path) -> None:
    ok = run_cli("check-config", str(DEMO_CONFIG))
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    bad = run_cli("check-config", str(write(tmp_path, "server:\n  port: -1\n")))
    assert bad.returncode == 2
    assert (
        bad.stderr.strip()
        == f"error: {tmp_path}/frontdesk.yaml:2: server.port: must be between 0 and 65535 (got -1)"
    )
    assert "Traceback" not in bad.stderr
    missing = run_cli("check-config", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "file not found" in missing.stderr


def test_delivery_rides_out_an_hour_by_default_and_the_horizon_is_configurable(
    tmp_path: Path,
) -> None:
    for config in (load_config(DEMO_CONFIG, {}), load_config(write(tmp_path, "{}\n"), {})):
        assert (config.delivery.retry_for, config.delivery.max_attempts) == (3600.0, 0)
        assert config.delivery.max_delay <= 300.0
    custom = load_config(write(tmp_path, "delivery:\n  retry_for: 7200\n  max_attempts: 50\n"), {})
    assert (custom.delivery.retry_for, custom.delivery.max_attempts) == (7200.0, 50)
    with pytest.raises(ConfigError, match="retry_for"):
        load_config(write(tmp_path, "delivery:\n  retry_for: -1\n"), {})
