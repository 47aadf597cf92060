"""A thin client for the parts of Meta's Graph API the WhatsApp channel uses.

Four calls: send a message (``POST /{version}/{phone_number_id}/messages``), upload an
agent's file (``POST /{version}/{phone_number_id}/media``), look a media id up
(``GET /{version}/{media_id}``) and download the media's bytes from the URL that answers
(same bearer token). The base URL is configurable so tests speak to a fake server
on loopback. One `aiohttp.ClientSession` for the connector's life, never one per send.

Every refusal becomes a `GraphError` carrying the Graph error `code` (131047, 130429 …),
the HTTP status and Meta's message; `connectors.whatsapp.errors` decides what each means
for the outbox. The access token is never part of an error or a log line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from connectors.http_session import LazySession


class GraphError(Exception):
    """The Graph API said no (or could not be reached: `code` 0, `status` 0)."""

    def __init__(self, message: str, *, code: int = 0, status: int = 0, details: str = "") -> None:
        self.code = code
        self.status = status
        self.details = details
        super().__init__(message)

    def describe(self) -> str:
        head = f"graph error {self.code}" if self.code else f"HTTP {self.status or 'failure'}"
        tail = f" ({self.details})" if self.details else ""
        return f"{head}: {self}{tail}"[:500]


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """A downloaded inbound file: its bytes and what WhatsApp says it is."""

    media_id: str
    mime_type: str
    sha256: str
    data: bytes


class GraphClient:
    """Send messages and fetch media for one business phone number."""

    def __init__(
        self,
        *,
        base_url: str,
        api_version: str,
        phone_number_id: str,
        token: str,
        timeout: float,
    ) -> None:
        self.base = f"{base_url.rstrip('/')}/{api_version}"
        self.phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = LazySession(timeout=timeout)

    async def close(self) -> None:
        await self._http.close()

    async def send(self, message: Mapping[str, Any]) -> str:
        """Send one message object (without the envelope); the new message's ``wamid``."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
        answer = await self._json(
            "POST", f"{self.base}/{self.phone_number_id}/messages", json_body=body
        )
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str) or not wamid:
            raise GraphError("the answer to a send names no message id", status=200)
        return wamid

    async def upload(self, data: bytes, *, mime_type: str, name: str) -> str:
        """Put a file in the number's media (kept 30 days) to send by id; its media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=name, content_type=mime_type)
        answer = await self._json("POST", f"{self.base}/{self.phone_number_id}/media", form=form)
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise GraphError("the answer to an upload names no media id", status=200)
        return media_id

    async def media(self, media_id: str, *, max_bytes: int) -> Media:
        """Look `media_id` up and download it; `GraphError` (413) when it is larger than
        `max_bytes`, judged by the declared size first and by the bytes as they arrive."""
        info = await self._json("GET", f"{self.base}/{media_id}")
        url = info.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise GraphError("the media lookup answered without a download URL", status=200)
        declared = _size(info.get("file_size"))
        if declared is not None and declared > max_bytes:
            raise GraphError(f"media of {declared} bytes is over {max_bytes}", status=413)
        session = self._http.open()
        try:
            async with session.get(url, headers=self._headers) as response:
                if response.status >= 400:
                    raise GraphError("media download refused", status=response.status)
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > max_bytes:
                        raise GraphError(f"media is over {max_bytes} bytes", status=413)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise GraphError(f"media download failed: {type(error).__name__}") from None
        return Media(
            media_id=media_id,
            mime_type=str(info.get("mime_type") or ""),
            sha256=str(info.get("sha256") or ""),
            data=bytes(data),
        )

    async def _json(
        self,
        method: str,
        url: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        form: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        session = self._http.open()
        try:
            async with session.request(
                method, url, json=json_body, data=form, headers=self._headers
            ) as response:
                text = await response.text(errors="replace")
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise GraphError(f"Graph API unreachable: {type(error).__name__}") from None
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        problem = answer.get("error")
        if status >= 400 or isinstance(problem, dict):
            raise _graph_error(problem if isinstance(problem, dict) else {}, status)
        return answer


def _graph_error(error: Mapping[str, Any], status: int) -> GraphError:
    """Meta's error object → `GraphError` (``{"error": {"message", "code", "error_data":
    {"details"}}}``)."""
    code = error.get("code")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else ""
    return GraphError(
        str(error.get("message") or f"HTTP {status}")[:300],
        code=code if isinstance(code, int) and not isinstance(code, bool) else 0,
        status=status,
        details=str(details or "")[:300],
    )


def _size(value: Any) -> int | None:
    """WhatsApp sends ``file_size`` as a number or as a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


__all__ = ["GraphClient", "GraphError", "Media"]
