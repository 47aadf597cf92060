"""A thin aiohttp client for the WeChat API calls the channel needs.

``GET /cgi-bin/token`` gives an ``access_token`` valid for ``expires_in`` seconds (7,200),
and every account has a daily quota of them: each new one also retires the last after a
five-minute overlap. So the token lives in the shared key-value store (`hub.kv`), not in a
process: one process refreshes under a lease (`put_new`), the others wait for its result.
``POST /cgi-bin/message/custom/send`` sends one customer-service message,
``GET /cgi-bin/media/get`` fetches a customer's file by its ``MediaId`` and
``POST /cgi-bin/media/upload`` puts an agent's image in temporary media and
``GET /cgi-bin/user/info`` gives a follower's UnionID; an ``errcode``
of 40001/40014/42001 (invalid or expired token) drops the cached token (only if it is still
the one that failed), fetches a new one and tries once more.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from connectors.http_session import LazySession
from hub.kv import KeyValue, MemoryKeyValue
from hub.logs import redact_secrets

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
_EARLY = 300.0  # refresh five minutes early: WeChat's overlap for the outgoing token
_POLL = 0.05
T = TypeVar("T")


class WeChatError(Exception):
    """WeChat said no (``errcode``), or HTTP failed (`status` set, `code` 0)."""

    def __init__(self, code: int, message: str, status: int = 200, *, token: bool = False) -> None:
        super().__init__(code, message, status)
        self.code, self.message, self.status = code, message, status
        self.token = token  # raised while fetching the access_token, not sending

    def __str__(self) -> str:
        if self.status != 200:
            return f"HTTP {self.status}: {self.message}"
        return f"errcode {self.code}: {self.message}"


class WeChatApi:
    def __init__(
        self,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        timeout: float,
        kv: KeyValue | None = None,
    ) -> None:
        self.base_url = base_url
        self.app_id = app_id
        self._secret = app_secret
        self._http = LazySession(timeout=timeout)
        self.kv: KeyValue = kv or MemoryKeyValue()
        self.token_key = f"wechat:token:{app_id}"
        self._lease_key = f"wechat:token-lease:{app_id}"

    async def close(self) -> None:
        await self._http.close()

    async def _authorised(self, call: Callable[[str], Awaitable[T]]) -> T:
        """`call` with the access token; once more with a fresh one when WeChat says the
        token is invalid or expired (another process, or the admin console's debugger,
        retired it). The cached token is dropped only if it is still the one that failed."""
        token = await self.access_token()
        try:
            return await call(token)
        except WeChatError as error:
            if error.code not in TOKEN_ERRORS:
                raise
            await self.kv.delete(self.token_key, only_if=token)
            return await call(await self.access_token())

    async def send(self, message: dict[str, Any]) -> None:
        """One customer-service message; WeChatError when WeChat refuses it."""
        await self._authorised(
            lambda token: self._post("/cgi-bin/message/custom/send", token, message)
        )

    async def user_info(self, openid: str) -> dict[str, Any]:
        """A follower's profile (``GET /cgi-bin/user/info``): ``subscribe``, ``openid`` and,
        when the account is bound to a WeChat Open Platform account, ``unionid``."""
        query = {"openid": openid, "lang": "zh_CN"}
        return await self._authorised(
            lambda token: self._call(
                "GET", "/cgi-bin/user/info", params={"access_token": token, **query}
            )
        )

    async def upload_image(self, data: bytes, *, name: str, mime_type: str) -> str:
        """Put an image in WeChat's temporary media (``POST /cgi-bin/media/upload?type=image``,
        kept three days) for an image message; its ``media_id``."""
        return await self._authorised(lambda token: self._upload(token, data, name, mime_type))

    async def _upload(self, token: str, data: bytes, name: str, mime_type: str) -> str:
        form = aiohttp.FormData()
        form.add_field("media", data, filename=name, content_type=mime_type)
        query = {"access_token": token, "type": "image"}
        answer = await self._call("POST", "/cgi-bin/media/upload", params=query, data=form)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeChatError(0, "the upload answer has no media_id", 502)
        return media_id

    async def media(self, media_id: str, *, max_bytes: int) -> tuple[bytes, str]:
        """A customer's file by its ``MediaId`` (``GET /cgi-bin/media/get``, kept by WeChat
        for three days): its bytes and declared type. WeChatError when WeChat refuses it
        (40007: unknown id), or with `status` 413 when it is over `max_bytes`."""
        return await self._authorised(lambda token: self._download(token, media_id, max_bytes))

    async def _download(self, token: str, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        query = {"access_token": token, "media_id": media_id}
        try:
            async with self._http.open().get(
                self.base_url + "/cgi-bin/media/get", params=query
            ) as response:
                if response.status != 200:
                    raise WeChatError(0, response.reason or "", response.status)
                declared = response.content_length
                if declared is not None and declared > max_bytes:
                    raise WeChatError(0, f"media of {declared} bytes is over {max_bytes}", 413)
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > max_bytes:
                        raise WeChatError(0, f"media is over {max_bytes} bytes", 413)
                kind = response.content_type
        except (aiohttp.ClientError, TimeoutError) as error:
            raise WeChatError(0, f"{type(error).__name__}: {error}", 599) from None
        if kind in ("application/json", "text/plain"):  # an error, not a file
            try:
                answer = json.loads(bytes(data))
            except ValueError:
                answer = {}
            code = answer.get("errcode") if isinstance(answer, dict) else None
            if isinstance(code, int) and code != 0:
                raise WeChatError(code, str(answer.get("errmsg", "")))
        return bytes(data), kind

    async def access_token(self) -> str:
        """The cached token, or a new one fetched by exactly one process at a time."""
        owner = secrets.token_hex(8)
        lease = self._http.timeout.total or 10.0
        waited = 0.0
        while True:
            token = await self.kv.get(self.token_key)
            if token:
                return token
            if await self.kv.put_new(self._lease_key, owner, ttl=lease):
                try:
                    # Someone may have stored a token between our read and our lease.
                    token = await self.kv.get(self.token_key)
                    if token:
                        return token
                    token, lifetime = await self._fetch_token()
                    await self.kv.put(self.token_key, token, ttl=max(60.0, lifetime - _EARLY))
                    return token
                finally:
                    await self.kv.delete(self._lease_key, only_if=owner)
            if waited > lease * 2:
                raise WeChatError(0, "another process is still fetching the access token", 503)
            await asyncio.sleep(_POLL)
            waited += _POLL

    async def _fetch_token(self) -> tuple[str, float]:
        query = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        try:
            data = await self._call("GET", "/cgi-bin/token", params=query)
        except WeChatError as error:
            raise WeChatError(error.code, error.message, error.status, token=True) from None
        token, lifetime = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
            raise WeChatError(0, "the token answer has no access_token", 502)
        redact_secrets(token)  # it rides in every API URL's query
        return token, float(lifetime)

    async def _post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", path, params={"access_token": token}, json=body)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        json: Any = None,
        data: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        try:
            async with self._http.open().request(
                method, self.base_url + path, params=params, json=json, data=data
            ) as response:
                if response.status != 200:
                    raise WeChatError(0, response.reason or "", response.status)
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise WeChatError(0, f"{type(error).__name__}: {error}", 599) from None
        if not isinstance(data, dict):
            raise WeChatError(0, "the answer is not a JSON object", 502)
        code = data.get("errcode", 0)
        if isinstance(code, int) and code != 0:
            raise WeChatError(code, str(data.get("errmsg", "")))
        return data


__all__ = ["TOKEN_ERRORS", "WeChatApi", "WeChatError"]
