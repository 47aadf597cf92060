"""Loop and noise protection: auto-replies, bounces, and a per-address rate limit.

Mail that a machine sent (an out-of-office, a bounce, a list) is recorded in the
conversation but never answered: answering would start a mail loop. Two autoresponders
that do not mark their mail would still ping-pong, so each address also gets a budget of
answered messages per time window; past it, messages are recorded without a turn.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from email.message import EmailMessage

from flufl.bounce import scan_message

AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autoresponder")
NOISY_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
DAEMON_LOCALS = {"mailer-daemon", "postmaster"}


def noise_reason(message: EmailMessage, *, envelope_sender: str | None, sender: str) -> str:
    """Why this message must not be answered, or "" when it is a person's mail.

    `envelope_sender` is the SMTP ``MAIL FROM`` ("" for a bounce's null sender, None when
    unknown, as with IMAP where `Return-Path` says it instead).
    """
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "", header="content-type")).lower()
    if content_type == "multipart/report" and report_type in ("delivery-status", ""):
        return "bounce"
    if envelope_sender == "" or _header(message, "Return-Path").strip() == "<>":
        return "bounce"
    if sender.partition("@")[0].lower() in DAEMON_LOCALS:
        return "bounce"
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"auto-submitted:{auto.split(';')[0]}"
    for name in AUTO_HEADERS:
        if message.get(name) is not None:
            return "auto-reply"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in NOISY_PRECEDENCE:
        return f"precedence:{precedence}"
    if content_type == "multipart/report":
        return f"report:{report_type}"
    return ""


def failed_recipients(message: EmailMessage) -> list[str]:
    """The addresses a bounce says could not be reached (empty when it says nothing)."""
    try:
        found = scan_message(message)
    except Exception:  # a detector choking on a broken report must not lose the mail
        return []
    return sorted(address.decode("utf-8", "replace") for address in found)


class RateLimit:
    """At most `limit` answered messages per address per `window` seconds (in memory,
    per process: it is a loop breaker, not an accounting system)."""

    def __init__(
        self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, address: str) -> bool:
        """Count one message from `address`; False once it is over its budget."""
        if self.limit <= 0:
            return True
        now = self.clock()
        times = self._seen.setdefault(address.lower(), deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # forget idle addresses so memory stays bounded
            self._seen = {key: value for key, value in self._seen.items() if value}
        return True


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a malformed header the policy cannot parse
        return ""
    return "" if value is None else str(value)


__all__ = ["RateLimit", "failed_recipients", "noise_reason"]
