"""A fake of the WhatsApp Cloud API's Graph endpoints, on the shared provider rig.

It speaks Meta's shapes (``POST /{version}/{phone_number_id}/messages`` answering
``{"messaging_product", "contacts", "messages": [{"id": "wamid…"}]}``; media lookups and
downloads; errors as ``{"error": {"message", "type", "code", "error_data", "fbtrace_id"}}``)
and is strict where WhatsApp is strict, so tests fail for the reasons production would:
bodies over 4,096 characters, more than 3 reply buttons, titles over 20 characters, more
than 10 list rows, unknown templates, a wrong token (190), free text to a number whose
window is closed (131047).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.connectors.fake_provider import FakeProvider

TOKEN = "EAAG-test-access-token"
PHONE_NUMBER_ID = "106540352242922"
VERSION = "v21.0"


def graph_error(code: int, message: str, details: str = "") -> dict[str, Any]:
    return {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or message},
            "fbtrace_id": "AbCdEfGhIjK",
        }
    }


class FakeGraphApi(FakeProvider):
    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[str, list[dict[str, Any]]] = {}  # number → messages, in order
        self.templates = {"frontdesk_agent_reply", "frontdesk_csat"}
        self.closed: set[str] = set()  # numbers whose 24-hour window WhatsApp sees closed
        self.media: dict[str, tuple[str, bytes]] = {}  # media id → (mime type, bytes)
        self._ids = itertools.count(1)
        self.uploaded: dict[str, tuple[str, str, bytes]] = {}  # media id → (type, name, bytes)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"/{VERSION}/{{phone}}/messages", self._message),
            web.post(f"/{VERSION}/{{phone}}/media", self._upload),
            web.get("/download/{media_id}", self._download),
            web.get(f"/{VERSION}/{{media_id}}", self._media),
        ]

    # ------------------------------------------------------------------ what tests read
    def texts(self, number: str) -> list[str]:
        """What the customer sees, message by message (a template as ``[name] text``)."""
        return [visible(message) for message in self.sent.get(number, [])]

    def last(self, number: str) -> dict[str, Any]:
        return self.sent[number][-1]

    # ------------------------------------------------------------------ protocol
    async def _message(self, request: web.Request) -> web.Response:
        body = await request.json()
        scripted = await self.record("messages", body)
        if scripted is not None:
            return scripted
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response(graph_error(190, "Invalid OAuth access token"), status=401)
        if request.match_info["phone"] != PHONE_NUMBER_ID:
            return web.json_response(graph_error(100, "Unknown phone number id"), status=400)
        problem = check(body, self.templates, self.uploaded)
        if problem:
            return web.json_response(graph_error(100, "Invalid parameter", problem), status=400)
        number = body["to"]
        if number in self.closed and body["type"] != "template":
            return web.json_response(
                graph_error(131047, "Re-engagement message", "more than 24 hours"), status=400
            )
        self.sent.setdefault(number, []).append(body)
        wamid = f"wamid.HBgM{next(self._ids):08d}"
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": number, "wa_id": number}],
                "messages": [{"id": wamid}],
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        part = form.get("file")
        scripted = await self.record("upload", getattr(part, "filename", None))
        if scripted is not None:
            return scripted
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response(graph_error(190, "Invalid OAuth access token"), status=401)
        if form.get("messaging_product") != "whatsapp" or not isinstance(part, web.FileField):
            return web.json_response(graph_error(100, "Invalid parameter"), status=400)
        media_id = f"UPLOADED{len(self.uploaded) + 1}"
        self.uploaded[media_id] = (str(form.get("type", "")), part.filename, part.file.read())
        return web.json_response({"id": media_id})

    async def _media(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        scripted = await self.record("media", media_id)
        if scripted is not None:
            return scripted
        if media_id not in self.media:
            return web.json_response(graph_error(100, "Unknown media"), status=404)
        mime, data = self.media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/download/{media_id}",
                "mime_type": mime,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": str(len(data)),
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        await self.record("download", request.match_info["media_id"])
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401)
        mime, data = self.media[request.match_info["media_id"]]
        return web.Response(body=data, content_type=mime.split(";")[0])


def check(body: Any, templates: set[str], uploaded: Mapping[str, Any] | None = None) -> str:
    """What WhatsApp would refuse in a send body, or ""."""
    if body.get("messaging_product") != "whatsapp" or not str(body.get("to", "")).isdigit():
        return "messaging_product and to are required"
    kind = body.get("type")
    if kind == "text":
        text = body["text"]["body"]
        return "" if 0 < len(text) <= 4096 else f"text body of {len(text)} characters"
    if kind == "template":
        name = body["template"]["name"]
        return "" if name in templates else f"template {name} does not exist"
    if kind in ("image", "document", "audio", "video"):
        media = body[kind]
        if media.get("id") and media["id"] not in (uploaded or {}):
            return f"unknown media id {media['id']}"
        return "" if media.get("link") or media.get("id") else "media needs a link or an id"
    if kind != "interactive":
        return f"unsupported type {kind}"
    interactive = body["interactive"]
    text = interactive["body"]["text"]
    if interactive["type"] == "button":
        buttons = interactive["action"]["buttons"]
        if not 1 <= len(buttons) <= 3 or not 0 < len(text) <= 1024:
            return "1-3 buttons and a body of 1-1024 characters"
        if any(len(b["reply"]["title"]) > 20 or len(b["reply"]["id"]) > 256 for b in buttons):
            return "button titles are at most 20 characters"
        return ""
    if interactive["type"] == "list":
        action = interactive["action"]
        rows = [row for section in action["sections"] for row in section["rows"]]
        if not 1 <= len(rows) <= 10 or len(action["button"]) > 20 or len(text) > 4096:
            return "1-10 rows and a button label of at most 20 characters"
        if any(len(r["title"]) > 24 or len(r.get("description", "")) > 72 for r in rows):
            return "row titles are at most 24 characters, descriptions 72"
        return ""
    return f"unsupported interactive type {interactive['type']}"


def visible(message: dict[str, Any]) -> str:
    kind = message["type"]
    if kind == "text":
        return str(message["text"]["body"])
    if kind == "template":
        template = message["template"]
        params = [
            p["text"] for c in template.get("components", ()) for p in c.get("parameters", ())
        ]
        return f"[{template['name']}:{template['language']['code']}] {' '.join(params)}".strip()
    if kind == "interactive":
        return str(message["interactive"]["body"]["text"])
    return f"{kind}: {message[kind].get('link') or message[kind].get('id', '')}"


def choices_of(message: dict[str, Any]) -> list[dict[str, str]]:
    """The buttons or list rows of an interactive message: [{"id", "title"}]."""
    interactive = message["interactive"]
    if interactive["type"] == "button":
        return [b["reply"] for b in interactive["action"]["buttons"]]
    return [row for section in interactive["action"]["sections"] for row in section["rows"]]
