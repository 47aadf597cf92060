"""The email channel's settings are checked at start-up, with file:line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.email.connector import EmailConnector
from connectors.email.smtp_in import recipient_allowed
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.errors import ConfigError
from tests.support import hub_config, hub_env

BASE = """\
channels:
  api:
    enabled: false
  email:
    address: support@example.com
    inbound: {inbound}
{extra}    relay:
      host: {relay_host}
      port: 2526
      security: none
"""


def build(
    tmp_path: Path,
    *,
    inbound: str = "smtp",
    extra: str = "",
    relay_host: str = "127.0.0.1",
    **env: str,
) -> EmailConnector:
    path = tmp_path / "frontdesk.yaml"
    path.write_text(BASE.format(inbound=inbound, extra=extra, relay_host=relay_host))
    environ = hub_env(tmp_path, **env)
    app = create_app(hub_config(environ, path), environ=environ, bot=EchoBot())
    connector = app[HUB].connectors["email"]
    assert isinstance(connector, EmailConnector)
    return connector


def test_a_valid_section_builds(tmp_path: Path) -> None:
    build(tmp_path)


def test_relay_host_is_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        build(tmp_path, relay_host="null")
    assert error.value.key == "channels.email.relay.host"
    assert "is required" in str(error.value)


def test_typos_are_named_with_their_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        build(tmp_path, extra="    signatur: oops\n")
    assert error.value.key == "channels.email.signatur"
    assert error.value.line == 7
    assert "not a known setting" in str(error.value)


def test_imap_needs_a_host_and_its_password_from_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        build(tmp_path, inbound="imap", extra="    imap:\n      host: imap.example.com\n")
    assert "FRONTDESK_EMAIL_IMAP_PASSWORD" in str(error.value)
    with pytest.raises(ConfigError) as missing_host:
        build(tmp_path, inbound="imap", FRONTDESK_EMAIL_IMAP_PASSWORD="x")
    assert missing_host.value.key == "channels.email.imap.host"
    build(
        tmp_path,
        inbound="imap",
        extra="    imap:\n      host: imap.example.com\n",
        FRONTDESK_EMAIL_IMAP_PASSWORD="x",
    )


def test_smtp_auth_needs_its_password_and_relay_auth_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        build(tmp_path, extra="    smtp_in:\n      auth_username: mx\n")
    assert "FRONTDESK_EMAIL_SMTP_IN_PASSWORD" in str(error.value)
    with pytest.raises(ConfigError) as relay:
        build(tmp_path, extra="", relay_host="127.0.0.1\n      username: hub")
    assert "FRONTDESK_EMAIL_RELAY_PASSWORD" in str(relay.value)


def test_the_address_must_be_an_address(tmp_path: Path) -> None:
    path = tmp_path / "frontdesk.yaml"
    path.write_text(
        BASE.format(inbound="smtp", extra="", relay_host="x").replace(
            "support@example.com", "support"
        )
    )
    environ = hub_env(tmp_path)
    with pytest.raises(ConfigError) as error:
        create_app(hub_config(environ, path), environ=environ, bot=EchoBot())
    assert error.value.key == "channels.email.address"


def test_sender_authentication_is_required_unless_configured_otherwise(tmp_path: Path) -> None:
    connector = build(tmp_path)
    assert connector.auth.policy == "require"
    assert connector.auth.trusted_authserv_ids == ()
    trusted = build(
        tmp_path, extra="    sender_auth: flag\n    trusted_authserv_ids: [MX.example.com]\n"
    )
    assert (trusted.auth.policy, trusted.auth.trusted_authserv_ids) == ("flag", ("mx.example.com",))


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ("    sender_auth: maybe\n", "channels.email.sender_auth", "require, flag, off"),
        (
            "    trusted_authserv_ids: mx.example.com\n",
            "channels.email.trusted_authserv_ids",
            "list",
        ),
        ("    bounce_local_part: 'a b'\n", "channels.email.bounce_local_part", "local part"),
    ],
)
def test_bad_sender_auth_settings_are_named(
    tmp_path: Path, extra: str, key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        build(tmp_path, extra=extra)
    assert error.value.key == key and error.value.line == 7
    assert message in str(error.value)


def test_verp_return_paths_use_the_shared_secret_and_are_accepted(tmp_path: Path) -> None:
    one = build(tmp_path, FRONTDESK_EMAIL_VERP_SECRET="s3cret")
    two = build(tmp_path, FRONTDESK_EMAIL_VERP_SECRET="s3cret")
    path = one.verp.return_path("<fd.dlv_1.x@example.com>", "ana@example.net")
    assert path == two.verp.return_path("<fd.dlv_1.x@example.com>", "ana@example.net")
    assert path.startswith("bounces+") and path.endswith("@example.com")
    assert one.receiver is not None
    assert recipient_allowed(path, one.receiver.settings.recipients)
    assert not recipient_allowed("postmaster@example.com", one.receiver.settings.recipients)
