"""``channels.wechat``: the account's settings; its three secrets come from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from connectors.wechat.envelope import aes_key
from hub.config import Section
from hub.errors import ConfigError

APP_SECRET_ENV = "FRONTDESK_WECHAT_APP_SECRET"
TOKEN_ENV = "FRONTDESK_WECHAT_TOKEN"
AES_KEY_ENV = "FRONTDESK_WECHAT_AES_KEY"
DEFAULT_API_URL = "https://api.weixin.qq.com"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9]{3,32}$")  # the admin console's rule for Token
_APP_ID_SHAPE = re.compile(r"^wx[0-9a-f]{16}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class WeChatSettings:
    app_id: str = ""
    app_secret: str = ""
    token: str = ""  # the server configuration's Token (signs every push)
    aes_key: bytes = b""  # from EncodingAESKey; set = safe mode
    api_url: str = DEFAULT_API_URL
    request_timeout: float = 10.0
    max_body_bytes: int = 64 * 1024  # WeChat's pushes are a few hundred bytes
    rate_limit_pause: float = 60.0  # 45009 and friends: try again after this long
    # The account is bound to a WeChat Open Platform account: look each follower's UnionID
    # up (once a month) and link it, so one person is one customer across its apps.
    unionid: bool = False

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.app_secret and self.token)

    @property
    def safe_mode(self) -> bool:
        return bool(self.aes_key)


def read_settings(section: Section, environ: Mapping[str, str]) -> WeChatSettings:
    """Validated settings; ConfigError names the key or variable that is wrong."""
    secret = environ.get(APP_SECRET_ENV, "").strip()
    token = environ.get(TOKEN_ENV, "").strip()
    encoded_key = environ.get(AES_KEY_ENV, "").strip()
    if token and not _TOKEN_SHAPE.match(token):
        raise ConfigError(
            "must be 3-32 letters or digits (the admin console's rule for Token)",
            path="environment",
            key=TOKEN_ENV,
        )
    key = b""
    if encoded_key:
        try:
            key = aes_key(encoded_key)
        except ValueError as error:
            raise ConfigError(str(error), path="environment", key=AES_KEY_ENV) from None
    app_id = section.get_str("app_id", "")
    if app_id and not _APP_ID_SHAPE.match(app_id):
        raise section.error(
            "app_id", f"must look like wx followed by 16 hex digits (got {app_id!r})"
        )
    if (secret or token) and not app_id:
        raise section.error("app_id", "is required once the WeChat secrets are set")
    api_url = section.get_str("api_url", DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise section.error("api_url", f"must be an http(s) URL (got {api_url!r})")
    settings = WeChatSettings(
        app_id=app_id,
        app_secret=secret,
        token=token,
        aes_key=key,
        api_url=api_url,
        request_timeout=section.get_float("request_timeout", 10.0, minimum=0.1),
        max_body_bytes=section.get_int("max_body_bytes", 64 * 1024, minimum=1024, maximum=1 << 20),
        rate_limit_pause=section.get_float("rate_limit_pause", 60.0, minimum=0.0),
        unionid=section.get_bool("unionid", False),
    )
    section.reject_unknown()
    return settings


__all__ = ["AES_KEY_ENV", "APP_SECRET_ENV", "TOKEN_ENV", "WeChatSettings", "read_settings"]
