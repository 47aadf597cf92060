"""The server's edge, before any handler runs: who the client is, slow bodies, and what the
server says about itself.

- **Client address.** Behind a reverse proxy every request comes from the proxy, so limits
  keyed on `request.remote` would put every visitor in one bucket. When the peer is one of
  the configured `server.trusted_proxies`, the address is read from `X-Forwarded-For`:
  the rightmost entry that is not itself a trusted proxy (entries further left were
  written by the client and prove nothing). Without trusted proxies the header is ignored.
- **Slow bodies.** A request body must arrive within `server.body_timeout` seconds, or the
  request answers 408 and the connection closes (aiohttp first reads and drops what is left
  of the body, no longer than `body_timeout` again): a client trickling one byte a second
  cannot hold a handler (and its memory) forever. Slow *headers* are bounded by aiohttp's
  keep-alive timer (`server.keepalive_timeout`), which runs from the moment a connection
  opens until a whole request has arrived.
- **`Server:`** says "Frontdesk", never a version an attacker could match against advisories.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from hub.errors import InputError

log = logging.getLogger("frontdesk.edge")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SERVER_NAME = "Frontdesk"
CLIENT_ADDRESS = web.RequestKey("client_address", str)


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """`127.0.0.1`, `10.0.0.0/8`, `::1` …; ValueError names the entry that is not one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def forwarded_client(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The client's address given the peer and its `X-Forwarded-For` (pure).

    Walks from the right: each hop that is a trusted proxy vouches for the entry before it;
    the first untrusted entry is the client. A malformed entry ends the walk there.
    """
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        client = hop
        if not _trusted(hop, proxies):
            break
    return client


def client_address(request: web.Request) -> str:
    """The address limits are keyed on (see the module docstring); "-" when unknown."""
    known = request.get(CLIENT_ADDRESS)
    if isinstance(known, str):
        return known
    return request.remote or "-"


def edge_middleware(*, trusted_proxies: tuple[Network, ...], body_timeout: float) -> Middleware:
    """Resolve the client address, then read any body under `body_timeout`."""

    @web.middleware
    async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.remote or "-"
        request[CLIENT_ADDRESS] = (
            forwarded_client(peer, request.headers.get("X-Forwarded-For", ""), trusted_proxies)
            if trusted_proxies
            else peer  # no proxy to vouch for the header: skip reading it
        )
        if request.body_exists and request.content_type != "multipart/form-data":
            # Read (and keep: request.read/json/post reuse it) while the clock runs.
            # Multipart is read as a stream by its handler; no route here accepts it.
            # Handlers ask `body_exists`: `can_read_body` is False once the body is read.
            if request.content.is_eof():
                # The whole body came with the headers (a small POST nearly always does):
                # reading it cannot wait, so no clock is started (a timer per request).
                await request.read()
            else:
                await _read_within(request, body_timeout)
        return await handler(request)

    return edge


LINGER_AT_MOST = 10.0  # s: aiohttp's default lingering time


async def _read_within(request: web.Request, body_timeout: float) -> None:
    """Read the body, or a 408 when it has not all arrived within `body_timeout` seconds."""
    try:
        async with asyncio.timeout(body_timeout):
            await request.read()
    except TimeoutError:
        log.warning(
            "request body too slow", extra={"path": request.path, "remote": client_address(request)}
        )
        raise InputError(
            f"the request body did not arrive within {body_timeout:g} seconds", status=408
        ) from None


def handler_options(*, keepalive_timeout: float, body_timeout: float) -> dict[str, Any]:
    """Keyword arguments for `web.run_app` / `web.AppRunner`: the slow-header bound, and how
    long a body left unread by the answer (a 408's) is read and dropped before the connection
    closes: no longer than a body may take (aiohttp's own 10 s let a client too slow for
    `body_timeout` keep its connection that much longer)."""
    return {
        "keepalive_timeout": keepalive_timeout,
        "lingering_time": min(LINGER_AT_MOST, body_timeout),
    }


async def hide_versions(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: name the product, not the versions of Python and aiohttp."""
    response.headers["Server"] = SERVER_NAME


__all__ = [
    "CLIENT_ADDRESS",
    "SERVER_NAME",
    "client_address",
    "edge_middleware",
    "forwarded_client",
    "handler_options",
    "hide_versions",
    "parse_networks",
]
