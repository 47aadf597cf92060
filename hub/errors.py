"""Frontdesk's error tree, drawn in one place.

FrontdeskError
├── ConfigError        a config or flow file is wrong; names file, line and key
├── InputError         a request or payload from outside is malformed (→ 4xx)
├── DeliveryError      a reply can never be delivered as it is (→ parked at once)
├── RetryLater         a delivery failed for now; try again (with `retry_after`: throttled,
│                      wait exactly that long; not counted as a failed attempt)
├── Contention         a checked store write kept meeting other processes' changes past
│                      its limit of attempts: nothing written (→ 503, retry)
└── LeaseLost          a commit came from a conversation lease that has expired and been
                       handed to someone else since: refused, nothing written
"""

from __future__ import annotations


class FrontdeskError(Exception):
    """Base of every error Frontdesk raises on purpose."""


class ConfigError(FrontdeskError):
    """A configuration problem, located as precisely as the source allows."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None, key: str = ""):
        self.message = message
        self.path = path
        self.line = line
        self.key = key
        super().__init__(self.located())

    def located(self) -> str:
        where = self.path
        if self.line is not None:
            where = f"{where}:{self.line}"
        prefix = f"{where}: " if where else ""
        key = f"{self.key}: " if self.key else ""
        return f"{prefix}{key}{self.message}"


class InputError(FrontdeskError):
    """Bad input from outside; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400):
        self.message = message
        self.status = status
        super().__init__(message)


class DeliveryError(FrontdeskError):
    """Permanent delivery failure (blocked by the user, invalid address …): do not retry."""


class RetryLater(FrontdeskError):
    """Transient delivery failure; `retry_after` seconds, when the upstream said so."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message)


class Contention(FrontdeskError):
    """A checked write kept meeting other processes' changes past its retries: nothing
    written. Transient (the same request succeeds once the burst of changes is over), so
    callers answer "try again" (HTTP 503 with Retry-After), never an internal error."""


class LeaseLost(FrontdeskError):
    """A commit under a lease whose fencing token is no longer current: nothing written.

    The turn stays pending, and whoever holds the conversation now answers it."""
