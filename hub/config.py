"""Configuration: `config/frontdesk.yaml` plus `FRONTDESK_*` environment overrides.

Every problem is a `ConfigError` that names the file, the line and the key (or the
environment variable that set it). Secrets are read from the environment only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import MarkedYAMLError

from hub import yaml_load
from hub.delivery import RetryPolicy
from hub.errors import ConfigError
from hub.stores import STORE_SCHEMES

# Environment variable → dotted key in the YAML file.
ENV_OVERRIDES: dict[str, str] = {
    "FRONTDESK_HOST": "server.host",
    "FRONTDESK_PORT": "server.port",
    "FRONTDESK_MAX_BODY_BYTES": "server.max_body_bytes",
    "FRONTDESK_METRICS_PUBLIC": "server.metrics_public",
    "FRONTDESK_STORE_URL": "store.url",
    "FRONTDESK_LOG_LEVEL": "logging.level",
    "FRONTDESK_LOG_FORMAT": "logging.format",
    "FRONTDESK_BOT": "bot.kind",
    "FRONTDESK_DIALOGS_PATH": "bot.dialogs_path",
    "FRONTDESK_ACTION_ENDPOINT": "bot.action_endpoint",
    "FRONTDESK_HANDOFF_PATH": "bot.handoff_path",
    "FRONTDESK_KNOWLEDGE_PATH": "bot.knowledge_path",
    "FRONTDESK_PUBLIC_URL": "bot.public_url",
    "FRONTDESK_API_CHANNEL_CALLBACK_URL": "channels.api.callback_url",
}

_MISSING = object()


class Section:
    """A mapping from the config file that knows where each of its keys was written."""

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        path: str,
        key: str = "",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.data = data
        self.path = path
        self.key = key
        self.env = env or {}  # dotted key → environment variable that set it
        self._seen: set[str] = set()

    def _dotted(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error(self, name: str, message: str) -> ConfigError:
        dotted = self._dotted(name)
        if dotted in self.env:
            return ConfigError(message, path="environment", key=self.env[dotted])
        line = None
        lc = getattr(self.data, "lc", None)
        if lc is not None:
            try:
                line = lc.key(name)[0] + 1
            except (KeyError, TypeError):
                line = lc.line + 1 if self.key else None
        return ConfigError(message, path=self.path, line=line, key=dotted)

    def _get(self, name: str, default: Any) -> Any:
        self._seen.add(name)
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                raise self.error(name, "is required")
            return default
        return value

    def get_str(self, name: str, default: Any = _MISSING, *, choices: tuple[str, ...] = ()) -> str:
        value = self._get(name, default)
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, not {type(value).__name__}")
        if choices and value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def get_int(
        self, name: str, default: Any = _MISSING, *, minimum: int = 0, maximum: int = 2**31
    ) -> int:
        value = self._get(name, default)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be a whole number, not {value!r}")
        if not minimum <= value <= maximum:
            raise self.error(name, f"must be between {minimum} and {maximum} (got {value})")
        return value

    def get_float(self, name: str, default: Any = _MISSING, *, minimum: float = 0.0) -> float:
        value = self._get(name, default)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(name, f"must be a number, not {value!r}") from None
        if isinstance(value, bool) or number < minimum:
            raise self.error(name, f"must be a number of at least {minimum:g} (got {value!r})")
        return number

    def get_bool(self, name: str, default: Any = _MISSING) -> bool:
        value = self._get(name, default)
        if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "yes", "no"}:
            return value.lower() in {"true", "1", "yes"}
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, not {value!r}")
        return value

    def get_list(self, name: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(name, default)
        if not isinstance(value, list):
            raise self.error(name, f"must be a list, not {type(value).__name__}")
        return value

    def section(self, name: str, *, required: bool = False) -> Section:
        value = self._get(name, _MISSING if required else {})
        if not isinstance(value, Mapping):
            raise self.error(name, f"must be a mapping of settings, not {type(value).__name__}")
        return Section(value, path=self.path, key=self._dotted(name), env=self.env)

    def names(self) -> list[str]:
        return [str(k) for k in self.data]

    def reject_unknown(self) -> None:
        """Fail on keys nobody read: a typo must not silently fall back to a default."""
        for name in self.data:
            if name not in self._seen:
                raise self.error(str(name), "is not a known setting (check the spelling)")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 64 * 1024
    # The edge (hub/edge.py): proxies whose X-Forwarded-For is believed, slow clients.
    trusted_proxies: tuple[str, ...] = ()
    keepalive_timeout: float = 15.0  # idle, or still sending its headers: then closed
    body_timeout: float = 30.0  # a request body must arrive within this
    metrics_public: bool = False  # /metrics without the API token


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    path: str
    server: ServerConfig
    store_url: str
    delivery: RetryPolicy
    log_level: str
    log_format: str
    bot_kind: str
    dialogs_path: str
    action_endpoint: str = ""
    handoff_path: str = ""  # config/handoff.yaml; "" runs without the human hand-off
    knowledge_path: str = ""  # config/knowledge; "" runs without a knowledge base
    public_url: str = ""  # how customers reach this hub (links to the help centre)
    reload_interval: float = 0.4  # seconds between looks at the dialog files and articles
    channels: Mapping[str, Section] = field(default_factory=dict)
    # The agent console's settings, checked by handoff.console (which knows its keys).
    console: Section = field(default_factory=lambda: Section({}, path=""))
    api_token: str = ""  # FRONTDESK_API_TOKEN: the read/operator API's bearer token
    # Identity linking settings, checked by hub.identity (which knows its keys).
    identity: Section = field(default_factory=lambda: Section({}, path=""))
    # Attachment limits and storage, checked by hub.attachments (which knows its keys).
    attachments: Section = field(default_factory=lambda: Section({}, path=""))
    # The scheduled report email, checked by handoff.reports.mail (which knows its keys).
    reports: Section = field(default_factory=lambda: Section({}, path=""))


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read: {error}", path=str(path)) from None
    try:
        return yaml_load.load(text)
    except MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise ConfigError(f"invalid YAML: {error.problem}", path=str(path), line=line) from None


def read_section(path: str | Path) -> Section:
    """A YAML settings file (handoff.yaml, qa.yaml) as its top-level `Section`; a missing
    file, bad YAML or a top level that is not a mapping is a `ConfigError` with file:line."""
    path = Path(path)
    data = _read_yaml(path)
    if not isinstance(data, Mapping):
        raise ConfigError("the top level must be a mapping of sections", path=str(path), line=1)
    return Section(data, path=str(path))


def _apply_env(data: Any, environ: Mapping[str, str]) -> dict[str, str]:
    applied: dict[str, str] = {}
    for variable, dotted in ENV_OVERRIDES.items():
        if variable not in environ:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        node[leaf] = environ[variable]
        applied[dotted] = variable
    return applied


def _networks(section: Section, name: str) -> tuple[str, ...]:
    """A list of IP addresses or networks, each checked now rather than at the first request."""
    from hub.edge import parse_networks

    entries = section.get_list(name, [])
    if not all(isinstance(entry, str) for entry in entries):
        raise section.error(name, "entries must be IP addresses or networks as strings")
    try:
        parse_networks(entries)
    except ValueError as problem:
        raise section.error(name, str(problem)) from None
    return tuple(entries)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, override from the environment, and validate the hub's configuration."""
    environ = os.environ if environ is None else environ
    path = Path(path)
    data = _read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of sections", path=str(path), line=1)
    env = _apply_env(data, environ)
    root = Section(data, path=str(path), env=env)

    server = root.section("server")
    server_config = ServerConfig(
        host=server.get_str("host", "127.0.0.1"),
        port=server.get_int("port", 8080, minimum=0, maximum=65535),
        max_body_bytes=server.get_int(
            "max_body_bytes", 64 * 1024, minimum=1024, maximum=64 * 1024 * 1024
        ),
        trusted_proxies=_networks(server, "trusted_proxies"),
        keepalive_timeout=server.get_float("keepalive_timeout", 15.0, minimum=1.0),
        body_timeout=server.get_float("body_timeout", 30.0, minimum=0.1),
        metrics_public=server.get_bool("metrics_public", False),
    )
    server.reject_unknown()

    store = root.section("store")
    store_url = store.get_str("url", "sqlite:///data/frontdesk.db")
    if not store_url.startswith(STORE_SCHEMES):
        raise store.error(
            "url",
            f"must start with sqlite:/// or redis:// (redis+cluster:// for a Redis Cluster; "
            f"got {store_url!r})",
        )
    store.reject_unknown()

    delivery = root.section("delivery")
    policy = RetryPolicy(
        max_attempts=delivery.get_int("max_attempts", 0, minimum=0, maximum=1000),
        retry_for=delivery.get_float("retry_for", 3600.0, minimum=0.0),
        base_delay=delivery.get_float("base_delay", 0.5, minimum=0.001),
        max_delay=delivery.get_float("max_delay", 300.0, minimum=0.001),
        send_timeout=delivery.get_float("send_timeout", 15.0, minimum=0.1),
        poll_interval=delivery.get_float("poll_interval", 1.0, minimum=0.01),
        lease=delivery.get_float("lease", 30.0, minimum=0.1),
        shutdown_grace=delivery.get_float("shutdown_grace", 10.0, minimum=0.0),
    )
    delivery.reject_unknown()

    logging_section = root.section("logging")
    log_level = logging_section.get_str(
        "level", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    log_format = logging_section.get_str("format", "json", choices=("json", "text"))
    logging_section.reject_unknown()

    bot = root.section("bot")
    bot_kind = bot.get_str("kind", "dialogs", choices=("dialogs", "echo"))
    dialogs_path = bot.get_str("dialogs_path", "config/dialogs")
    action_endpoint = bot.get_str("action_endpoint", "")
    if action_endpoint and not action_endpoint.startswith(("http://", "https://")):
        raise bot.error("action_endpoint", f"must be an http(s) URL (got {action_endpoint!r})")
    handoff_path = bot.get_str("handoff_path", "")
    knowledge_path = bot.get_str("knowledge_path", "")
    public_url = bot.get_str("public_url", "").rstrip("/")
    if public_url and not public_url.startswith(("http://", "https://")):
        raise bot.error("public_url", f"must be an http(s) URL (got {public_url!r})")
    reload_interval = bot.get_float("reload_interval", 0.4, minimum=0.05)
    bot.reject_unknown()

    channels = root.section("channels")
    channel_sections = {name: channels.section(name) for name in channels.names()}
    console = root.section("console")

    identity = root.section("identity")
    attachments = root.section("attachments")
    reports = root.section("reports")
    root.reject_unknown()
    return Config(
        path=str(path),
        server=server_config,
        store_url=store_url,
        delivery=policy,
        log_level=log_level,
        log_format=log_format,
        bot_kind=bot_kind,
        dialogs_path=dialogs_path,
        action_endpoint=action_endpoint,
        handoff_path=handoff_path,
        knowledge_path=knowledge_path,
        public_url=public_url,
        reload_interval=reload_interval,
        channels=channel_sections,
        console=console,
        api_token=environ.get("FRONTDESK_API_TOKEN", ""),
        identity=identity,
        attachments=attachments,
        reports=reports,
    )
