"""The built-in channels, by config name, plus third-party ones from an entry-point group."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from hub.abc import Connector
from hub.errors import ConfigError

BUILTIN: dict[str, str] = {
    "api": "connectors.api:ApiConnector",
    "email": "connectors.email.connector:EmailConnector",
    "sms": "connectors.sms.connector:SmsConnector",
    "telegram": "connectors.telegram.connector:TelegramConnector",
    "wechat": "connectors.wechat.connector:WeChatConnector",
    "whatsapp": "connectors.whatsapp.connector:WhatsAppConnector",
    "webchat": "connectors.webchat.connector:WebchatConnector",
}

ENTRY_POINT_GROUP = "frontdesk.connectors"


def connector_class(name: str) -> type[Connector]:
    target = BUILTIN.get(name)
    if target is None:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if entry.name == name:
                target = entry.value
                break
    if target is None:
        known = ", ".join(sorted(BUILTIN))
        raise ConfigError(
            f"unknown channel {name!r} (built-in channels: {known})", key=f"channels.{name}"
        )
    module_name, _, attribute = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attribute)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigError(f"{target} is not a Connector", key=f"channels.{name}")
    return cls
