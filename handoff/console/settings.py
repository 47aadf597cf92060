"""The console's settings: the `console:` section of frontdesk.yaml, checked key by key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from handoff.console.accounts import LANGUAGES
from handoff.console.throttle import ThrottlePolicy
from hub.config import Config


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSettings:
    enabled: bool = True
    accounts_url: str = ""  # "" = next to the hub's store (same SQLite file or Redis)
    session_idle: float = 8 * 3600.0  # a shift without activity logs out
    session_max: float = 12 * 3600.0  # and no login outlives this
    secure_cookies: str = "auto"  # auto: Secure when the request came over TLS
    trust_forwarded_proto: bool = False  # believe X-Forwarded-Proto from a reverse proxy
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)  # failed logins only
    canned_path: str = "config/canned"
    qa_path: str = "config/qa.yaml"  # quality inspection rules; "" turns inspection off
    default_language: str = "en"
    socket_recheck: float = 15.0  # seconds: an open live socket closes once its session ends


def load_console_settings(config: Config) -> ConsoleSettings:
    section = config.console
    settings = ConsoleSettings(
        enabled=section.get_bool("enabled", True),
        accounts_url=section.get_str("accounts_url", ""),
        session_idle=section.get_float("session_idle_minutes", 480.0, minimum=1.0) * 60,
        session_max=section.get_float("session_max_hours", 12.0, minimum=0.1) * 3600,
        secure_cookies=section.get_str(
            "secure_cookies", "auto", choices=("auto", "always", "never")
        ),
        trust_forwarded_proto=section.get_bool("trust_forwarded_proto", False),
        throttle=ThrottlePolicy(
            free_per_account=section.get_int(
                "login_free_failures_per_account", 5, minimum=1, maximum=10_000
            ),
            free_per_address=section.get_int(
                "login_free_failures_per_address", 20, minimum=1, maximum=100_000
            ),
            delay=section.get_float("login_delay_seconds", 1.0, minimum=0.01),
            max_delay=section.get_float("login_max_delay_seconds", 300.0, minimum=0.01),
            forget_after=section.get_float("login_window_seconds", 900.0, minimum=1.0),
        ),
        canned_path=section.get_str("canned_path", str(_beside(config, "canned"))),
        qa_path=section.get_str("qa_path", _qa_default(config)),
        default_language=section.get_str("default_language", "en", choices=LANGUAGES),
        socket_recheck=section.get_float("socket_recheck_seconds", 15.0, minimum=0.05),
    )
    section.reject_unknown()
    return settings


def _qa_default(config: Config) -> str:
    """config/qa.yaml beside the config file, when it exists (else inspection is off)."""
    path = _beside(config, "qa.yaml")
    return str(path) if path.exists() else ""


def _beside(config: Config, name: str) -> Path:
    """A path next to the config file (config/canned for config/frontdesk.yaml)."""
    return Path(config.path).parent / name if config.path else Path("config") / name
