"""A fake of Twilio's Messages API, on the shared provider rig.

It speaks Twilio's shapes (``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``,
form-encoded, HTTP basic auth; ``201`` with the message resource; errors as ``{"code",
"message", "more_info", "status"}``) and is strict where Twilio is: a wrong Account SID or
auth token (20003), a ``To`` that is not E.164 (21211), no ``From`` nor
``MessagingServiceSid`` (21603), a body over 1,600 characters (21617), a number that
replied STOP (21610).
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

from aiohttp import web

from tests.connectors.fake_provider import FakeProvider

ACCOUNT_SID = "AC5ef8732a3c49700934481addd5ce1659"
AUTH_TOKEN = "twilio-auth-token-for-tests"
FROM_NUMBER = "+15017122661"


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def gsm_like(text: str) -> bool:
    """Near enough to GSM-7 for the fake's own segment count (Latin text without symbols
    outside the basic set)."""
    return all(ch.isascii() and ch not in "`" for ch in text)


class FakeTwilio(FakeProvider):
    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[str, list[dict[str, str]]] = {}  # number → message forms, in order
        self.unsubscribed: set[str] = set()  # numbers that replied STOP, as Twilio knows
        self._ids = itertools.count(1)

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/2010-04-01/Accounts/{account}/Messages.json", self._message)]

    def texts(self, number: str) -> list[str]:
        return [form["Body"] for form in self.sent.get(number, [])]

    async def _message(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        body = {k: str(v) for k, v in form.items()}
        scripted = await self.record("messages", body)
        if scripted is not None:
            return scripted
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if (
            request.headers.get("Authorization") != f"Basic {expected}"
            or request.match_info["account"] != ACCOUNT_SID
        ):
            return web.json_response(twilio_error(20003, "Authenticate", 401), status=401)
        to, text = body.get("To", ""), body.get("Body", "")
        if not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) <= 16):
            message = f"The 'To' number {to} is not a valid phone number."
            return web.json_response(twilio_error(21211, message), status=400)
        if not (body.get("From") or body.get("MessagingServiceSid")):
            return web.json_response(
                twilio_error(21603, "A 'From' phone number is required."), status=400
            )
        if not text or len(text) > 1600:
            message = "The concatenated message body exceeds the 1600 character limit."
            return web.json_response(twilio_error(21617, message), status=400)
        if to in self.unsubscribed:
            message = "Attempt to send to unsubscribed recipient"
            return web.json_response(twilio_error(21610, message), status=400)
        self.sent.setdefault(to, []).append(body)
        sid = f"SM{next(self._ids):032x}"
        single, per_part = (160, 153) if gsm_like(text) else (70, 67)
        parts = 1 if len(text) <= single else -(-len(text) // per_part)
        uri = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}"
        return web.json_response(
            {
                "account_sid": ACCOUNT_SID,
                "api_version": "2010-04-01",
                "body": text,
                "date_created": "Sun, 29 Nov 2026 10:00:00 +0000",
                "date_sent": None,
                "date_updated": "Sun, 29 Nov 2026 10:00:00 +0000",
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": body.get("From", FROM_NUMBER),
                "messaging_service_sid": body.get("MessagingServiceSid"),
                "num_media": "0",
                "num_segments": str(parts),
                "price": None,
                "price_unit": None,
                "sid": sid,
                "status": "queued",
                "subresource_uris": {"media": f"{uri}/Media.json"},
                "to": to,
                "uri": f"{uri}.json",
            },
            status=201,
        )
