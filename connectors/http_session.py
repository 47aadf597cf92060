"""One lazily opened `aiohttp.ClientSession` per provider client, for the connector's life.

The SMS (Twilio), WhatsApp (Graph) and WeChat clients each keep one session rather than
one per send: it is opened on first use (inside the running event loop, which a
constructor may not have), reopened if something closed it, and closed by the
connector's ``stop``. Authentication stays with each client (its headers or query).
"""

from __future__ import annotations

import aiohttp


class LazySession:
    """An `aiohttp.ClientSession` with a total timeout, opened when first asked for."""

    def __init__(self, *, timeout: float) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def open(self) -> aiohttp.ClientSession:
        """The open session; a new one when there is none yet or it was closed."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        """Close the session if one is open; a later `open` starts a new one."""
        if self._session is not None:
            await self._session.close()
            self._session = None


__all__ = ["LazySession"]
