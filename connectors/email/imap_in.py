"""Inbound mail by polling an IMAP mailbox (IDLE when the server supports it).

The standard library's `imaplib` does the protocol, in a worker thread per call, so the
hub's loop never blocks on the network. A message is fetched with ``BODY.PEEK[]`` (which
leaves it unseen), handed to the hub, and only once stored is it flagged ``\\Seen`` (or
moved to the processed folder): a crash in between re-fetches it on the next poll, and
the hub's dedupe by Message-ID drops the second copy. Nothing is lost.

Connection failures reconnect with exponential backoff and jitter; they are logged, and
never stop the hub.

With several hub processes, one polls a mailbox at a time: the poller runs only while
`leading()` says so (the connector's leader lease for that mailbox), checked before each
session and each poll. A process that stops leading ends its session after the message in
hand; another takes over within the lease's ttl. If two ever overlap, the hub's dedupe
keeps each mail once.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import random
import re
import select
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from connectors.email.parse import MailRejected

log = logging.getLogger("frontdesk.connectors.email")

OnMessage = Callable[[bytes], Awaitable[None]]
FOLLOWER_CHECK = 1.0  # seconds between a non-leading poller's looks at its lease
_UID = re.compile(rb"UID (\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapSettings:
    host: str
    port: int = 993
    security: str = "tls"  # tls (IMAPS), starttls, or none (loopback and tests only)
    username: str = ""
    password: str = ""  # from the environment
    mailbox: str = "INBOX"
    processed_folder: str = ""  # move stored mail here; empty = flag it \Seen in place
    poll_interval: float = 60.0  # without IDLE; with IDLE, the longest wait between checks
    idle: bool = True
    batch: int = 50
    timeout: float = 30.0


class ImapPoller:
    """Fetches unseen mail from one mailbox and hands each message to `on_message`."""

    def __init__(
        self,
        settings: ImapSettings,
        on_message: OnMessage,
        *,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self.settings = settings
        self.on_message = on_message
        self.leading = leading
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake_read, self._wake_write = socket.socketpair()
        self.connected = asyncio.Event()  # set while a session is open (tests, health)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")  # ends an IDLE wait in the worker thread
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.settings.timeout)
            except TimeoutError:
                self._task.cancel()
            self._task = None
        self._wake_read.close()
        self._wake_write.close()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            if not self.leading():
                # Another process polls this mailbox; look again soon in case it stops.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), FOLLOWER_CHECK)
                continue
            try:
                await self._session()
                failures = 0
            except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
                failures += 1
                log.warning(
                    "imap: connection failed; retrying",
                    extra={"host": self.settings.host, "error": repr(error), "attempt": failures},
                )
            except Exception:
                failures += 1
                log.exception("imap: session failed; retrying", extra={"attempt": failures})
            finally:
                self.connected.clear()
            if not self._stopping.is_set():
                delay = random.uniform(0.5, 1.0) * min(60.0, 2.0 ** min(failures, 6))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    async def _session(self) -> None:
        client = await asyncio.to_thread(self._connect)
        try:
            self.connected.set()
            can_idle = self.settings.idle and "IDLE" in client.capabilities
            while not self._stopping.is_set() and self.leading():
                fetched = await self._poll_once(client)
                if fetched >= self.settings.batch:
                    continue  # more waiting: no need to sleep
                if can_idle:
                    await asyncio.to_thread(self._idle, client, self.settings.poll_interval)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.settings.poll_interval)
        finally:
            await asyncio.to_thread(_logout, client)

    async def _poll_once(self, client: imaplib.IMAP4) -> int:
        uids = await asyncio.to_thread(_unseen, client)
        for uid in uids[: self.settings.batch]:
            if not self.leading():
                break  # another process leads now: it fetches the rest
            data = await asyncio.to_thread(_fetch, client, uid)
            if data is None:
                continue  # deleted meanwhile
            try:
                await self.on_message(data)
            except MailRejected as error:
                # Recorded in the log by the connector; keeping it unseen would refetch forever.
                log.warning("imap: message refused", extra={"uid": uid, "reason": str(error)})
            # Any other error propagates: the message stays unseen and is fetched again.
            await asyncio.to_thread(self._done, client, uid)
        return len(uids)

    # ---------------------------------------------------------------- worker-thread side
    def _connect(self) -> imaplib.IMAP4:
        s = self.settings
        client: imaplib.IMAP4
        if s.security == "tls":
            client = imaplib.IMAP4_SSL(s.host, s.port, timeout=s.timeout)
        else:
            client = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
            if s.security == "starttls":
                client.starttls(ssl.create_default_context())
        client.login(s.username, s.password)
        # Servers announce more after login (IDLE, MOVE); imaplib keeps the greeting's list.
        typ, data = client.capability()
        if typ == "OK" and data and isinstance(data[-1], bytes):
            client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
        typ, _ = client.select(_quote(s.mailbox))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot select mailbox {s.mailbox!r}")
        log.info("imap: connected", extra={"host": s.host, "mailbox": s.mailbox})
        return client

    def _done(self, client: imaplib.IMAP4, uid: str) -> None:
        folder = self.settings.processed_folder
        if not folder:
            _check(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)"))
        elif "MOVE" in client.capabilities:
            _check(client.uid("MOVE", uid, _quote(folder)))
        else:
            _check(client.uid("COPY", uid, _quote(folder)))
            _check(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen \Deleted)"))
            _check(client.expunge())

    def _idle(self, client: imaplib.IMAP4, timeout: float) -> None:
        """RFC 2177 IDLE until the server reports something, `timeout`, or stop()."""
        tag = b"FDIDLE"
        client.send(tag + b" IDLE\r\n")
        line = client.readline()
        if not line.startswith(b"+"):
            raise imaplib.IMAP4.error(f"IDLE refused: {line!r}")
        readers: list[socket.socket] = [client.socket(), self._wake_read]
        select.select(readers, [], [], timeout)
        client.send(b"DONE\r\n")
        while True:  # skip untagged updates up to IDLE's own completion
            line = client.readline()
            if not line:
                raise imaplib.IMAP4.abort("connection closed during IDLE")
            if line.startswith(tag):
                return


def _unseen(client: imaplib.IMAP4) -> list[str]:
    typ, data = client.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
    _check((typ, data))
    found = data[0] if data and isinstance(data[0], bytes) else b""
    return [uid.decode() for uid in found.split()]


def _fetch(client: imaplib.IMAP4, uid: str) -> bytes | None:
    typ, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    _check((typ, data))
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _logout(client: imaplib.IMAP4) -> None:
    with contextlib.suppress(Exception):
        client.logout()


def _check(result: tuple[str, list[object]]) -> None:
    typ, data = result
    if typ != "OK":
        raise imaplib.IMAP4.error(f"IMAP command failed: {typ} {data!r}")


def _quote(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


__all__ = ["ImapPoller", "ImapSettings"]
