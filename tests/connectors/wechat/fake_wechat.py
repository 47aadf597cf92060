"""A fake of WeChat's API (``api.weixin.qq.com``) on 127.0.0.1, built on the shared
`FakeProvider` rig, speaking the documented shapes:

- ``GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`` →
  ``{"access_token": …, "expires_in": 7200}`` or ``{"errcode": 40125, …}``;
- ``POST /cgi-bin/message/custom/send?access_token=…`` with ``{"touser", "msgtype", …}`` →
  ``{"errcode": 0, "errmsg": "ok"}``; a token that is not the newest issued gets 40001
  (as WeChat does once a new token has replaced it), text over 2,048 bytes gets 45002, an
  unknown ``msgtype`` 40008;
- ``GET /cgi-bin/media/get?access_token=…&media_id=…`` → the file's bytes, or
  ``{"errcode": 40007, "errmsg": "invalid media_id"}`` as text/plain;
- ``POST /cgi-bin/media/upload?access_token=…&type=image`` (multipart ``media``) →
  ``{"type": "image", "media_id", "created_at"}``; an image message must name such a
  ``media_id`` (40007 otherwise).
- ``GET /cgi-bin/user/info?access_token=…&openid=…&lang=zh_CN`` → the follower's profile,
  with ``unionid`` when `unionids` holds one for the openid (an account bound to the Open
  Platform); 40003 for an openid that does not follow.

Each new token retires the previous ones (`issued` counts them), so a test sees at once
if two processes both refreshed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from tests.connectors.fake_provider import FakeProvider

APP_ID = "wx1234567890abcdef"
APP_SECRET = "wechat-app-secret-for-tests"


class FakeWeChatApi(FakeProvider):
    def __init__(self) -> None:
        super().__init__()
        self.issued = 0
        self.valid: set[str] = set()
        self.sent: dict[str, list[dict[str, Any]]] = {}
        self.media: dict[str, tuple[str, bytes]] = {}  # MediaId → (content type, bytes)
        self.media_delay = 0.0  # seconds before a download answers (a slow CDN)
        self.uploaded: dict[str, tuple[str, bytes]] = {}  # media_id → (file name, bytes)
        self.followers: set[str] = set()
        self.unionids: dict[str, str] = {}  # openid → UnionID

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/cgi-bin/token", self.token),
            web.post("/cgi-bin/message/custom/send", self.send),
            web.get("/cgi-bin/media/get", self.get_media),
            web.post("/cgi-bin/media/upload", self.upload),
            web.get("/cgi-bin/user/info", self.user_info),
        ]

    def revoke(self) -> None:
        """Every issued token stops working (as after a refresh elsewhere)."""
        self.valid.clear()

    async def token(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        scripted = await self.record("token", query)
        if scripted is not None:
            return scripted
        if query.get("appid") != APP_ID or query.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if query.get("secret") != APP_SECRET:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.issued += 1
        token = f"ACCESS_TOKEN_{self.issued}"
        self.valid = {token}
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        scripted = await self.record("send", body)
        if scripted is not None:
            return scripted
        if request.query.get("access_token") not in self.valid:
            return web.json_response(
                {
                    "errcode": 40001,
                    "errmsg": "invalid credential, access_token is invalid or not latest",
                }
            )
        kind = body.get("msgtype")
        if kind == "text" and len(body["text"]["content"].encode("utf-8")) > 2048:
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit"})
        if kind not in ("text", "image", "msgmenu"):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if kind == "image" and body["image"]["media_id"] not in self.uploaded:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        self.sent.setdefault(body["touser"], []).append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        part = form.get("media")
        scripted = await self.record("upload", getattr(part, "filename", None))
        if scripted is not None:
            return scripted
        if request.query.get("access_token") not in self.valid:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if request.query.get("type") != "image" or not isinstance(part, web.FileField):
            return web.json_response({"errcode": 40004, "errmsg": "invalid media type"})
        data = part.file.read()
        if not data or len(data) > 10 * 1024 * 1024:
            return web.json_response({"errcode": 40009, "errmsg": "invalid image size"})
        media_id = f"TEMP_MEDIA_{len(self.uploaded) + 1}"
        self.uploaded[media_id] = (part.filename, data)
        return web.json_response({"type": "image", "media_id": media_id, "created_at": 1795000000})

    async def get_media(self, request: web.Request) -> web.Response:
        media_id = request.query.get("media_id", "")
        scripted = await self.record("media", media_id)
        if scripted is not None:
            return scripted
        if request.query.get("access_token") not in self.valid:
            return web.json_response(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            )
        if media_id not in self.media:
            # WeChat answers errors with a JSON body labelled text/plain.
            return web.Response(
                text=json.dumps({"errcode": 40007, "errmsg": "invalid media_id"}),
                content_type="text/plain",
            )
        kind, data = self.media[media_id]
        await asyncio.sleep(self.media_delay)
        return web.Response(
            body=data,
            content_type=kind,
            headers={"Content-Disposition": f'attachment; filename="{media_id}.jpg"'},
        )

    async def user_info(self, request: web.Request) -> web.Response:
        openid = request.query.get("openid", "")
        scripted = await self.record("user_info", openid)
        if scripted is not None:
            return scripted
        if request.query.get("access_token") not in self.valid:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if openid not in self.followers:
            return web.json_response({"errcode": 40003, "errmsg": "invalid openid"})
        profile: dict[str, Any] = {
            "subscribe": 1,
            "openid": openid,
            "language": "zh_CN",
            "subscribe_time": 1382694957,
            "remark": "",
            "groupid": 0,
            "tagid_list": [],
            "subscribe_scene": "ADD_SCENE_QR_CODE",
            "qr_scene": 98765,
            "qr_scene_str": "",
        }
        if openid in self.unionids:
            profile["unionid"] = self.unionids[openid]
        return web.json_response(profile)

    def texts(self, openid: str) -> list[str]:
        """What the customer sees of each message: the text, or a menu's head and lines."""
        return [visible(message) for message in self.sent.get(openid, [])]


def visible(message: dict[str, Any]) -> str:
    if message["msgtype"] == "text":
        return str(message["text"]["content"])
    if message["msgtype"] == "msgmenu":
        menu = message["msgmenu"]
        return "\n".join([menu["head_content"], *(item["content"] for item in menu["list"])])
    return f"[{message['msgtype']}]"


__all__ = ["APP_ID", "APP_SECRET", "FakeWeChatApi", "visible"]
