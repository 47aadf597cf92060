"""``channels.email`` settings → the value objects the connector's parts take.

Every problem is a `ConfigError` naming file, line and key (`Section.error`); secrets come
from the environment only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.email.auth import POLICIES, AuthSettings
from connectors.email.imap_in import ImapSettings
from connectors.email.smtp_in import SmtpSettings
from connectors.email.verp import Verp
from hub.config import Section

RELAY_PASSWORD = "FRONTDESK_EMAIL_RELAY_PASSWORD"
IMAP_PASSWORD = "FRONTDESK_EMAIL_IMAP_PASSWORD"
SMTP_IN_PASSWORD = "FRONTDESK_EMAIL_SMTP_IN_PASSWORD"
VERP_SECRET = "FRONTDESK_EMAIL_VERP_SECRET"


def auth_settings(settings: Section) -> AuthSettings:
    """`sender_auth` (require by default) and the MTAs whose verdicts are believed."""
    return AuthSettings(
        policy=settings.get_str("sender_auth", "require", choices=POLICIES),
        trusted_authserv_ids=tuple(
            str(authserv).strip().lower()
            for authserv in settings.get_list("trusted_authserv_ids", [])
            if str(authserv).strip()
        ),
    )


def smtp_settings(
    section: Section, inbound: str, address: str, environ: Mapping[str, str]
) -> SmtpSettings | None:
    settings = SmtpSettings(
        host=section.get_str("host", "127.0.0.1"),
        port=section.get_int("port", 2525, minimum=0, maximum=65535),
        lmtp=inbound == "lmtp",
        hostname=section.get_str("hostname", "frontdesk"),
        max_message_bytes=section.get_int(
            "max_message_bytes", 50 * 1024 * 1024, minimum=1024, maximum=2**31
        ),
        recipients=tuple(str(r) for r in section.get_list("recipients", [address])),
        auth_username=section.get_str("auth_username", ""),
        auth_password=environ.get(SMTP_IN_PASSWORD, ""),
        tls_cert=section.get_str("tls_cert", ""),
        tls_key=section.get_str("tls_key", ""),
        require_tls=section.get_bool("require_tls", False),
    )
    if settings.auth_username and not settings.auth_password:
        raise section.error("auth_username", f"is set but {SMTP_IN_PASSWORD} is not")
    if settings.require_tls and not settings.tls_cert:
        raise section.error("require_tls", "needs tls_cert (and tls_key)")
    section.reject_unknown()
    return settings if inbound in ("smtp", "lmtp") else None


def imap_settings(
    section: Section, inbound: str, address: str, environ: Mapping[str, str]
) -> ImapSettings | None:
    host = section.get_str("host", "")
    settings = ImapSettings(
        host=host,
        port=section.get_int("port", 993, minimum=1, maximum=65535),
        security=section.get_str("security", "tls", choices=("tls", "starttls", "none")),
        username=section.get_str("username", address),
        password=environ.get(IMAP_PASSWORD, ""),
        mailbox=section.get_str("mailbox", "INBOX"),
        processed_folder=section.get_str("processed_folder", ""),
        poll_interval=section.get_float("poll_interval", 60.0, minimum=0.05),
        idle=section.get_bool("idle", True),
        timeout=section.get_float("timeout", 30.0, minimum=1.0),
    )
    section.reject_unknown()
    if inbound != "imap":
        return None
    if not host:
        raise section.error("host", "is required when inbound is imap")
    if not settings.password:
        raise section.error("username", f"needs the password in {IMAP_PASSWORD}")
    return settings


def relay_settings(section: Section, environ: Mapping[str, str]) -> dict[str, Any]:
    relay = {
        "host": section.get_str("host"),
        "port": section.get_int("port", 587, minimum=1, maximum=65535),
        "security": section.get_str("security", "starttls", choices=("starttls", "tls", "none")),
        "username": section.get_str("username", ""),
        "password": environ.get(RELAY_PASSWORD, ""),
        "timeout": section.get_float("timeout", 30.0, minimum=1.0),
    }
    if relay["username"] and not relay["password"]:
        raise section.error("username", f"is set but {RELAY_PASSWORD} is not")
    section.reject_unknown()
    return relay


def verp_settings(settings: Section, domain: str, environ: Mapping[str, str]) -> Verp:
    """VERP return paths (`bounce_local_part`) keyed by the shared secret."""
    local_part = settings.get_str("bounce_local_part", "bounces")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,30}", local_part):
        raise settings.error("bounce_local_part", "must be a plain local part like 'bounces'")
    # Without the variable the secret stays empty here: the connector draws one made for
    # the deployment from the store (`hub.kv.shared_secret`), because a bounce comes back
    # to whichever process receives the mail, not to the one that sent the reply.
    secret = environ.get(VERP_SECRET, "").encode()
    return Verp(secret=secret, local_part=local_part, domain=domain)


__all__ = [
    "IMAP_PASSWORD",
    "RELAY_PASSWORD",
    "SMTP_IN_PASSWORD",
    "VERP_SECRET",
    "auth_settings",
    "imap_settings",
    "relay_settings",
    "smtp_settings",
    "verp_settings",
]
