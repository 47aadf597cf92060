"""The ``channels.sms`` config section (Twilio); secrets come from the environment only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.config import Section
from hub.errors import ConfigError

ACCOUNT_SID_ENV = "FRONTDESK_TWILIO_ACCOUNT_SID"  # AC…, the account the number belongs to
AUTH_TOKEN_ENV = "FRONTDESK_TWILIO_AUTH_TOKEN"  # signs every webhook; basic-auth password
DEFAULT_API_URL = "https://api.twilio.com"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
DEFAULT_HELP = {
    "en": "Frontdesk support: reply to this number to reach us. Reply STOP to opt out.",
    "zh": "Frontdesk 客服：直接回复本号码即可联系我们。回复 退订 或 STOP 不再接收短信。",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsSettings:
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""  # E.164, or …
    messaging_service_sid: str = ""  # … a Messaging Service (MG…) that picks the sender
    public_url: str = ""  # the hub as Twilio calls it: signatures are over this URL
    api_url: str = DEFAULT_API_URL
    max_segments: int = 4
    chat_link: str = ""  # where the rest of a capped text can be read
    help_text: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HELP))
    max_body_bytes: int = 64 * 1024
    request_timeout: float = 10.0
    # Twilio's 429 carries no "retry after"; a throttled send comes back after this long.
    rate_limit_pause: float = 5.0

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token)


def read_settings(section: Section, environ: Mapping[str, str]) -> SmsSettings:
    account_sid = environ.get(ACCOUNT_SID_ENV, "").strip()
    auth_token = environ.get(AUTH_TOKEN_ENV, "").strip()
    if account_sid and not _ACCOUNT_SID.match(account_sid):
        raise ConfigError(
            "must be the account's SID: AC and 32 hex digits",
            path="environment",
            key=ACCOUNT_SID_ENV,
        )
    if account_sid and not auth_token:
        raise ConfigError(
            f"is required with {ACCOUNT_SID_ENV}: webhooks cannot be verified without it",
            path="environment",
            key=AUTH_TOKEN_ENV,
        )
    from_number = section.get_str("from_number", "")
    if from_number and not E164.match(from_number):
        raise section.error(
            "from_number", f"must be in E.164 form, e.g. +15017122661 (got {from_number!r})"
        )
    service = section.get_str("messaging_service_sid", "")
    if service and not _SERVICE_SID.match(service):
        raise section.error("messaging_service_sid", "must be MG and 32 hex digits")
    if account_sid and not (from_number or service):
        raise section.error(
            "from_number", f"or messaging_service_sid is required once {ACCOUNT_SID_ENV} is set"
        )
    public_url = section.get_str("public_url", "").rstrip("/")
    if public_url and not public_url.startswith(("https://", "http://")):
        raise section.error("public_url", f"must be an http(s) URL (got {public_url!r})")
    if account_sid and not public_url:
        raise section.error(
            "public_url", "is required once the credentials are set: Twilio signs that URL"
        )
    api_url = section.get_str("api_url", DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise section.error("api_url", f"must be an http(s) URL (got {api_url!r})")
    chat_link = section.get_str("chat_link", "")
    if chat_link and not chat_link.startswith(("https://", "http://")):
        raise section.error("chat_link", f"must be an http(s) URL (got {chat_link!r})")
    helps = section.section("help_text")
    help_text = {lang: helps.get_str(lang, DEFAULT_HELP[lang]).strip() for lang in ("en", "zh")}
    for lang, text in help_text.items():
        if not text or len(text) > 600:
            raise helps.error(lang, "must be 1-600 characters")
    helps.reject_unknown()
    settings = SmsSettings(
        account_sid=account_sid,
        auth_token=auth_token,
        from_number=from_number,
        messaging_service_sid=service,
        public_url=public_url,
        api_url=api_url,
        max_segments=section.get_int("max_segments", 4, minimum=1, maximum=10),
        chat_link=chat_link,
        help_text=help_text,
        max_body_bytes=section.get_int(
            "max_body_bytes", 64 * 1024, minimum=4096, maximum=1024 * 1024
        ),
        request_timeout=section.get_float("request_timeout", 10.0, minimum=0.1),
        rate_limit_pause=section.get_float("rate_limit_pause", 5.0, minimum=0.01),
    )
    section.reject_unknown()
    return settings


__all__ = ["ACCOUNT_SID_ENV", "AUTH_TOKEN_ENV", "E164", "SmsSettings", "read_settings"]
