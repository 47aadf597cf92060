"""The ``channels.whatsapp`` config section; secrets come from the environment only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.config import Section
from hub.errors import ConfigError

TOKEN_ENV = "FRONTDESK_WHATSAPP_TOKEN"  # a system user's access token (whatsapp_business_messaging)
APP_SECRET_ENV = "FRONTDESK_WHATSAPP_APP_SECRET"  # signs every webhook POST (X-Hub-Signature-256)
VERIFY_TOKEN_ENV = "FRONTDESK_WHATSAPP_VERIFY_TOKEN"  # echoed by the GET handshake
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
PURPOSES = ("agent_reply", "csat", "other")
_VERSION = re.compile(r"^v\d+\.\d+$")
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")  # Meta's rule for template names
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")  # en, en_US, zh_CN …


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateSpec:
    """An approved template that may carry one kind of reply after the 24-hour window."""

    name: str
    languages: Mapping[str, str]  # our language ("en", "zh") → the template's language code
    with_text: bool  # the template's body has one parameter, {{1}}, for the reply's text


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppSettings:
    token: str = ""
    app_secret: str = ""
    verify_token: str = ""
    phone_number_id: str = ""
    graph_url: str = DEFAULT_GRAPH_URL
    api_version: str = DEFAULT_API_VERSION
    templates: Mapping[str, TemplateSpec] = field(default_factory=dict)
    max_media_bytes: int = 16 * 1024 * 1024
    messages_per_second: float = 20.0
    per_customer_interval: float = 0.5
    max_queue_wait: float = 5.0
    request_timeout: float = 10.0
    # Meta's rate-limit errors say no "retry after"; its pair limit is about one message
    # per 6 seconds to one customer, so a throttled customer waits this long.
    rate_limit_pause: float = 6.0

    @property
    def configured(self) -> bool:
        return bool(self.token and self.phone_number_id)


def read_settings(section: Section, environ: Mapping[str, str]) -> WhatsAppSettings:
    token = environ.get(TOKEN_ENV, "").strip()
    app_secret = environ.get(APP_SECRET_ENV, "").strip()
    verify_token = environ.get(VERIFY_TOKEN_ENV, "").strip()
    phone_number_id = section.get_str("phone_number_id", "")
    if phone_number_id and not phone_number_id.isdigit():
        raise section.error("phone_number_id", "must be the number's id (digits) from Meta")
    if token and not phone_number_id:
        raise section.error("phone_number_id", f"is required once {TOKEN_ENV} is set")
    if token and not app_secret:
        raise ConfigError(
            f"is required with {TOKEN_ENV}: webhooks cannot be verified without it",
            path="environment",
            key=APP_SECRET_ENV,
        )
    graph_url = section.get_str("graph_url", DEFAULT_GRAPH_URL)
    if not graph_url.startswith(("https://", "http://")):
        raise section.error("graph_url", f"must be an http(s) URL (got {graph_url!r})")
    api_version = section.get_str("api_version", DEFAULT_API_VERSION)
    if not _VERSION.match(api_version):
        raise section.error("api_version", f"must look like v21.0 (got {api_version!r})")
    settings = WhatsAppSettings(
        token=token,
        app_secret=app_secret,
        verify_token=verify_token,
        phone_number_id=phone_number_id,
        graph_url=graph_url,
        api_version=api_version,
        templates=_templates(section.section("templates")),
        max_media_bytes=section.get_int(
            "max_media_bytes", 16 * 1024 * 1024, minimum=1024, maximum=100 * 1024 * 1024
        ),
        messages_per_second=section.get_float("messages_per_second", 20.0, minimum=0.1),
        per_customer_interval=section.get_float("per_customer_interval", 0.5),
        max_queue_wait=section.get_float("max_queue_wait", 5.0),
        request_timeout=section.get_float("request_timeout", 10.0, minimum=0.1),
        rate_limit_pause=section.get_float("rate_limit_pause", 6.0, minimum=0.01),
    )
    section.reject_unknown()
    return settings


def _templates(section: Section) -> dict[str, TemplateSpec]:
    """``templates: {agent_reply: {name, en, zh, text}, csat: {...}, other: {...}}``."""
    found = {}
    for purpose in section.names():
        if purpose not in PURPOSES:
            raise section.error(purpose, f"must be one of {', '.join(PURPOSES)}")
        spec = section.section(purpose)
        name = spec.get_str("name")
        if not _NAME.match(name):
            raise spec.error("name", "must be the template's name: a-z, 0-9 and _")
        languages = {}
        for language in ("en", "zh"):
            code = spec.get_str(language, "")
            if code and not _LANGUAGE.match(code):
                raise spec.error(
                    language,
                    f"must be a WhatsApp language code such as en_US, zh_CN (got {code!r})",
                )
            if code:
                languages[language] = code
        if not languages:
            raise spec.error("en", "give the template's language code for en, zh or both")
        found[purpose] = TemplateSpec(
            name=name, languages=languages, with_text=spec.get_bool("text", False)
        )
        spec.reject_unknown()
    return found


__all__ = [
    "APP_SECRET_ENV",
    "TOKEN_ENV",
    "VERIFY_TOKEN_ENV",
    "TemplateSpec",
    "WhatsAppSettings",
    "read_settings",
]
