"""Structured logs: one JSON object per line (or plain text for humans at a terminal),
with every configured secret redacted, whichever library logged it.

Secrets reach logs through libraries we do not control: httpx logs every request URL at
INFO, and a Telegram Bot API URL carries the bot token (``…/bot<TOKEN>/sendMessage``).
So redaction is a filter on the root logger's handlers, which every record of every
library passes through, rather than care taken at each call site.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

# LogRecord attributes that are not user-supplied `extra` fields.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_text:  # already formatted (and redacted)
            entry["exc"] = record.exc_text
        elif record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STANDARD and not k.startswith("_")
        )
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()}"
        if extras:
            line += f" [{extras}]"
        if record.exc_text:
            line += "\n" + record.exc_text
        elif record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


# Environment variables whose values are secrets: every FRONTDESK_* token, secret,
# password or key.
_SECRET_VARIABLE = re.compile(r"^FRONTDESK_\w*(TOKEN|SECRET|PASSWORD|KEY)$")
_MIN_SECRET = 6  # shorter values would redact ordinary words; no real secret is that short
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*):(?P<password>[^@/\s]+)@")
REDACTED = "[redacted]"


class Redactor(logging.Filter):
    """Replaces each registered secret (and any password in a URL) in a record's message,
    arguments, `extra` fields and traceback with ``[redacted]``. Installed on the root
    logger's handlers, so it sees what every library logs."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *secrets: str) -> None:
        """Redact these values from now on (with their URL-encoded forms)."""
        found = set(self._secrets)
        for secret in secrets:
            secret = secret.strip()
            if len(secret) >= _MIN_SECRET:
                found.update({secret, quote(secret, safe=""), quote(secret)})
        with self._lock:
            # Longest first, so a secret containing another is redacted whole.
            self._secrets = tuple(sorted(found, key=len, reverse=True))
            self._pattern = (
                re.compile("|".join(re.escape(s) for s in self._secrets)) if found else None
            )

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return _URL_PASSWORD.sub(rf"\g<scheme>:{REDACTED}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and not key.startswith("_"):
                record.__dict__[key] = self._value(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            # The exception object is kept only as its redacted text: its str() may hold
            # the secret (an httpx error quotes the URL).
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _value(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, int | float) or value is None:
            return value
        if depth < 5 and isinstance(value, Mapping):
            return {str(k): self._value(v, depth + 1) for k, v in value.items()}
        if depth < 5 and isinstance(value, list | tuple | set | frozenset):
            return [self._value(v, depth + 1) for v in value]
        return self.redact(str(value))  # logged as its str() anyway


REDACTOR = Redactor()


def redact_secrets(*secrets: str) -> None:
    """Keep these values out of every log record from now on, and make sure the root
    logger's current handlers all redact (a handler added later by `configure_logging`
    gets the filter too)."""
    REDACTOR.add(*secrets)
    for handler in logging.getLogger().handlers:
        if REDACTOR not in handler.filters:
            handler.addFilter(REDACTOR)


def secrets_in(environ: Mapping[str, str]) -> Iterable[str]:
    """The values of the environment's secret variables (`FRONTDESK_*TOKEN` …)."""
    return (value for name, value in environ.items() if _SECRET_VARIABLE.match(name) and value)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
