"""A thin client for Twilio's Messages API, and what each refusal means for the outbox.

One call: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded ``To``,
``From`` or ``MessagingServiceSid``, ``Body``, ``StatusCallback``) with HTTP basic auth
(Account SID, auth token), answered ``201`` with the message resource (``sid``, ``status``,
``num_segments`` …). The base URL is configurable so tests speak to a fake server on
loopback; one `aiohttp.ClientSession` for the connector's life. Why not the `twilio`
library's client: its async client is another HTTP stack beside the session the hub
already runs on; only its `RequestValidator` is used (webhook signatures).

Twilio's errors (``{"code", "message", "more_info", "status"}``), by `code`:

| code | meaning | here |
|---|---|---|
| HTTP 429, 20429 | too many requests | `RetryLater` after `Retry-After` (or a pause) |
| 21610 | the recipient replied STOP | `OptedOut`: recorded on the customer, parked |
| 20003, HTTP 401 | wrong Account SID or auth token | `RetryLater` (an operator fixes it; parked once the retry horizon passes) |
| HTTP 5xx, network | trouble at Twilio | `RetryLater` with backoff |
| 21211, 21614, 21612, 21408, 21617 … | invalid or unreachable number, region not enabled, body too long | `DeliveryError`: parked |

The auth token is never part of an error or a log line.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from connectors.http_session import LazySession
from hub.errors import DeliveryError, RetryLater

THROTTLED = 20429
UNSUBSCRIBED = 21610
AUTHENTICATION = 20003


class TwilioError(Exception):
    """Twilio said no (or could not be reached: `status` 0)."""

    def __init__(
        self, message: str, *, code: int = 0, status: int = 0, retry_after: float | None = None
    ) -> None:
        self.code = code
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)

    def describe(self) -> str:
        head = f"twilio error {self.code}" if self.code else f"HTTP {self.status or 'failure'}"
        return f"{head}: {self}"[:500]


class OptedOut(DeliveryError):
    """The number replied STOP: nothing may be sent to it until it replies START."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    sid: str
    segments: int


def classify(error: TwilioError, *, pause: float) -> Exception:
    """The exception the connector raises for `error` (see the table above)."""
    reason = error.describe()
    if error.status == 429 or error.code == THROTTLED:
        return RetryLater(f"twilio rate limit: {reason}", retry_after=error.retry_after or pause)
    if error.code == UNSUBSCRIBED:
        return OptedOut(f"sms: the number has opted out (STOP): {reason}")
    if error.code == AUTHENTICATION or error.status == 401:
        return RetryLater(f"twilio rejected the credentials: {reason}")
    if error.status == 0 or error.status >= 500:
        return RetryLater(f"twilio unavailable: {reason}")
    return DeliveryError(f"twilio refused the message: {reason}")


class TwilioClient:
    """Send messages from one account."""

    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, timeout: float):
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {credentials}"}
        self._http = LazySession(timeout=timeout)

    async def close(self) -> None:
        await self._http.close()

    async def send(self, form: dict[str, str]) -> Sent:
        """Create one message; its ``sid`` and the segments Twilio counted."""
        try:
            async with self._http.open().post(
                self.url, data=form, headers=self._headers
            ) as response:
                text = await response.text(errors="replace")
                status = response.status
                retry_after = _seconds(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TwilioError(f"Twilio unreachable: {type(error).__name__}") from None
        try:
            answer: Any = json.loads(text) if text else {}
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        if status >= 400:
            code = answer.get("code")
            raise TwilioError(
                str(answer.get("message") or f"HTTP {status}")[:300],
                code=code if isinstance(code, int) and not isinstance(code, bool) else 0,
                status=status,
                retry_after=retry_after,
            )
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            raise TwilioError("the answer to a send names no message sid", status=status)
        segments = str(answer.get("num_segments") or "1")
        return Sent(sid=sid, segments=int(segments) if segments.isdigit() else 1)


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 < seconds <= 3600 else None


__all__ = ["OptedOut", "Sent", "TwilioClient", "TwilioError", "classify"]
