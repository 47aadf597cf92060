"""The scheduled report email: daily or weekly, at a local time, to the configured
addresses — sent once per slot however many hub processes run and whatever restarts.

The hand-off engine calls `run(now)` on its leader only (`HandoffEngine.leader_jobs`). Each
slot (``weekly`` at Monday 08:00 …) is claimed in the store's shared key-value port before
anything is sent (`put_new`: one process wins), and marked sent afterwards; a failed send
gives the claim back so the next attempt (a few minutes later, on whichever process leads
then) tries again. A slot missed by more than `catch_up_hours` (the hub was down) is not
sent late.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Callable
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import aiosmtplib

from handoff.reports.digest import compose, gather
from handoff.reports.mail_settings import ReportMailSettings
from handoff.reports.service import Reports
from hub.kv import KeyValue

log = logging.getLogger("frontdesk.reports.mail")

CLAIM_TTL = 600.0  # a process that dies while sending: another may try after this
KEEP_SENT = 40 * 86400.0  # longer than any catch-up window
RETRY_AFTER = 300.0


def last_slot(now: float, settings: ReportMailSettings, zone: str) -> float:
    """The latest scheduled time at or before `now` (local time of `zone`)."""
    tz = ZoneInfo(zone)
    local = dt.datetime.fromtimestamp(now, tz)
    time_of_day = dt.time(settings.at_minutes // 60, settings.at_minutes % 60)
    slot = dt.datetime.combine(local.date(), time_of_day, tz)
    step = 1
    if settings.every == "weekly":
        slot -= dt.timedelta(days=(local.weekday() - settings.weekday) % 7)
        step = 7
    if slot > local:
        slot -= dt.timedelta(days=step)
    return slot.timestamp()


class ReportMailer:
    """Sends each slot's report once; `run` is cheap when nothing is due."""

    def __init__(
        self,
        settings: ReportMailSettings,
        *,
        reports: Callable[[float], Reports],
        kv: KeyValue,
        zone: str,
    ) -> None:
        self.settings = settings
        self.reports = reports  # the report service as of a moment (the slot's time)
        self.kv = kv
        self.zone = zone
        self._done: float | None = None  # the last slot known sent (or given up)
        self._retry_at = 0.0
        self._task: asyncio.Task[bool] | None = None
        self.sent = 0

    async def run(self, now: float) -> None:
        """Start sending the current slot's report if it is due and nobody sent it."""
        if not self.settings.enabled or (self._task is not None and not self._task.done()):
            return
        slot = last_slot(now, self.settings, self.zone)
        if slot == self._done or now < self._retry_at:
            return
        if now - slot > self.settings.catch_up:
            self._done = slot  # missed while the hub was down: the next slot is the one
            return
        # In the background: gathering reads the log and must not hold up the SLA clocks.
        self._task = asyncio.create_task(self._send_slot(slot, now))

    async def wait(self) -> bool:
        """Whether the send `run` started last (if any, and not asked about yet) went out."""
        task = self._task
        if task is None:
            return False
        result = await task
        if self._task is task:  # kept until done: `run` must not start another meanwhile
            self._task = None
        return result

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.kv.close()

    async def _send_slot(self, slot: float, now: float) -> bool:
        key = f"report-mail:{self.settings.every}:{int(slot)}"
        if await self.kv.get(key) == "sent":
            self._done = slot
            return False
        claim = os.urandom(8).hex()
        if not await self.kv.put_new(key, claim, ttl=CLAIM_TTL):
            return False  # another process is sending it right now
        try:
            figures = await gather(self.reports(slot), days=self.settings.days)
            message = compose(
                figures,
                every=self.settings.every,
                slot=slot,
                zone=self.zone,
                languages=self.settings.languages,
                sender=self.settings.sender,
                recipients=self.settings.recipients,
            )
            await self._deliver(message)
        except Exception as error:
            # Never the password: aiosmtplib's errors carry the server's reply only.
            log.warning("report email failed", extra={"slot": int(slot), "error": repr(error)})
            self._retry_at = now + RETRY_AFTER  # before the claim is given back
            await self.kv.delete(key, only_if=claim)
            return False
        await self.kv.put(key, "sent", ttl=KEEP_SENT)
        self._done = slot
        self.sent += 1
        log.info(
            "report email sent", extra={"slot": int(slot), "to": len(message["To"].split(","))}
        )
        return True

    async def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            use_tls=s.tls,
            start_tls=s.starttls,
            timeout=s.timeout,
        )


__all__ = ["ReportMailer", "last_slot"]
