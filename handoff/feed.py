"""The live feed: queue and conversation changes pushed to every console socket.

Publishing never blocks the hub: each subscriber has a bounded queue, and one that falls
too far behind is dropped (its socket closes; the console reconnects and reloads). A
subscriber may say which messages it wants: the others never reach its queue (typing hints
are many, and each is for a few consoles only). When the server begins to shut down,
`hang_up` ends every socket's stream (close code 1001, "going away": the console
reconnects), so the server need not wait for sockets that would stay open for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from hub import jsonio

log = logging.getLogger("frontdesk.handoff.feed")

BACKLOG = 1000
CLOSED: dict[str, Any] = {"type": "closed"}
GOING_AWAY: dict[str, Any] = {"type": "closed", "code": WSCloseCode.GOING_AWAY}


Wants = Callable[[dict[str, Any]], bool]


class Feed:
    def __init__(self) -> None:
        self._subscribers: dict[asyncio.Queue[dict[str, Any]], Wants | None] = {}
        self._sockets: set[asyncio.Queue[dict[str, Any]]] = set()  # `stream`s' queues

    def subscribe(
        self, wants: Wants | None = None, *, socket: bool = False
    ) -> asyncio.Queue[dict[str, Any]]:
        """A queue of every message published from now on (only those `wants` accepts);
        `socket` marks one a client's socket reads, which `hang_up` ends."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=BACKLOG)
        self._subscribers[queue] = wants
        if socket:
            self._sockets.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.pop(queue, None)
        self._sockets.discard(queue)

    def publish(self, message: dict[str, Any]) -> None:
        for queue, wants in list(self._subscribers.items()):
            if wants is not None and not wants(message):
                continue
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("dropping a feed subscriber that fell %d messages behind", BACKLOG)
                self.unsubscribe(queue)
                _replace_last(queue, CLOSED)

    def hang_up(self) -> None:
        """End every client socket's stream (the server is shutting down): aiohttp waits
        for open handlers before it stops, and a live feed never ends by itself. The
        engine's own subscribers (presence kept in the accounts) go on until `close`."""
        for queue in list(self._sockets):
            self.unsubscribe(queue)
            _replace_last(queue, GOING_AWAY)

    def close(self) -> None:
        for queue in list(self._subscribers):
            _replace_last(queue, GOING_AWAY if queue in self._sockets else CLOSED)
        self._subscribers.clear()
        self._sockets.clear()

    def __len__(self) -> int:
        return len(self._subscribers)


def _replace_last(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    # Make room for the closing message, so the reader learns it was dropped.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)


async def stream(
    ws: web.WebSocketResponse,
    feed: Feed,
    *,
    hello: Mapping[str, Any],
    shape: Callable[[dict[str, Any]], Mapping[str, Any]] = lambda message: message,
    wants: Wants | None = None,
    still_allowed: Callable[[], Awaitable[bool]] | None = None,
    recheck: float = 15.0,
) -> None:
    """Serve `feed` on a prepared WebSocket until either side closes it: `hello` first,
    then every published message (that `wants` accepts) as `shape` makes it. With
    `still_allowed`, it is asked
    every `recheck` seconds and the socket closes once it says no (a session that ended)."""
    loop = asyncio.get_running_loop()
    queue = feed.subscribe(wants, socket=True)
    closing = WSCloseCode.OK
    reader = asyncio.create_task(_read_until_closed(ws))
    getter = asyncio.create_task(queue.get())
    checked = loop.time()
    try:
        await ws.send_json(dict(hello), dumps=jsonio.dumps)
        while not ws.closed:
            done, _ = await asyncio.wait(
                {getter, reader}, timeout=recheck, return_when=asyncio.FIRST_COMPLETED
            )
            if reader in done:
                break
            if still_allowed is not None and loop.time() - checked >= recheck:
                if not await still_allowed():
                    break
                checked = loop.time()
            if getter not in done:
                continue
            message = getter.result()
            getter = asyncio.create_task(queue.get())
            if message.get("type") == "closed":
                closing = message.get("code", WSCloseCode.OK)
                break
            await ws.send_json(dict(shape(message)), dumps=jsonio.dumps)
    finally:
        feed.unsubscribe(queue)
        getter.cancel()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await ws.close(code=closing)


async def _read_until_closed(ws: web.WebSocketResponse) -> None:
    # The feed is one-way; reading keeps pings answered and notices the client leaving.
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            return
