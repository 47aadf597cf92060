"""What a Graph API refusal means for the outbox: retry, throttle, window closed, or park.

Meta recommends deciding on the error `code`, not on titles or HTTP statuses alone:

| code | meaning | here |
|---|---|---|
| 4, 80007, 130429 | app / account / throughput rate limit | `RetryLater` after a pause |
| 131056 | pair rate limit (too many messages to this customer) | `RetryLater` after a pause |
| 131047 | re-engagement: the 24-hour window is closed | `WindowClosed` (template or park) |
| 190 | access token expired or invalid | `RetryLater` (an operator rotates it; parked once the retry horizon passes) |
| 1, 2, 131000, 131016, 133004, HTTP 5xx, network | temporary trouble at Meta | `RetryLater` with backoff |
| 131026 | message undeliverable (not on WhatsApp, old app, blocked us) | `DeliveryError`: parked |
| 100, 131008, 131009, 131051, 132000–132016, 368, 131031 … | the message or account is refused as it is | `DeliveryError`: parked |
"""

from __future__ import annotations

from connectors.whatsapp.graph import GraphError
from hub.errors import DeliveryError, RetryLater

THROTTLED = frozenset({4, 80007, 130429, 131056})
WINDOW_CLOSED = 131047
TOKEN = 190
TRANSIENT = frozenset({1, 2, 131000, 131016, 133004})


class WindowClosed(Exception):
    """WhatsApp refused free text: the customer last wrote more than 24 hours ago."""


def classify(error: GraphError, *, pause: float) -> Exception:
    """The exception the connector raises (or handles, for `WindowClosed`) for `error`;
    a rate limit asks to come back after `pause` seconds."""
    reason = error.describe()
    if error.code in THROTTLED or error.status == 429:
        return RetryLater(f"whatsapp rate limit: {reason}", retry_after=pause)
    if error.code == WINDOW_CLOSED:
        return WindowClosed(reason)
    if error.code == TOKEN or error.status == 401:
        return RetryLater(f"whatsapp rejected the access token: {reason}")
    if error.code in TRANSIENT or error.status == 0 or error.status >= 500:
        return RetryLater(f"whatsapp unavailable: {reason}")
    return DeliveryError(f"whatsapp refused the message: {reason}")


__all__ = ["WINDOW_CLOSED", "WindowClosed", "classify"]
