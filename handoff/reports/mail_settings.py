"""`reports.email` in frontdesk.yaml: who gets the scheduled report, how often, over which
SMTP server. The SMTP password comes from the environment (FRONTDESK_REPORT_SMTP_PASSWORD),
never from the file.

    reports:
      email:
        enabled: true
        to: [supervisors@example.com]
        from: frontdesk@example.com
        every: weekly            # or daily
        weekday: mon             # weekly only
        at: "08:00"              # local time of the hand-off calendar's time zone
        languages: [en, zh]      # each section of the email, in this order
        smtp: {host: 127.0.0.1, port: 25, username: "", starttls: false, tls: false}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from handoff.calendar import DAYS, parse_interval
from hub.config import Section

PASSWORD_ENV = "FRONTDESK_REPORT_SMTP_PASSWORD"
LANGUAGES = ("en", "zh")
# One address, nothing a header could be split on (no spaces, commas, angle brackets, CR/LF).
_ADDRESS = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportMailSettings:
    enabled: bool = False
    recipients: tuple[str, ...] = ()
    sender: str = "frontdesk@localhost"
    every: str = "weekly"
    weekday: int = 0  # Monday
    at_minutes: int = 8 * 60
    languages: tuple[str, ...] = LANGUAGES
    catch_up: float = 12 * 3600.0  # a report missed by this much (the hub was down) is skipped
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    starttls: bool = False
    tls: bool = False
    timeout: float = 30.0

    @property
    def days(self) -> int:
        """The range the report covers: the day or the week before its time."""
        return 1 if self.every == "daily" else 7


def report_mail_settings(
    reports: Section, environ: Mapping[str, str] | None = None
) -> ReportMailSettings:
    """Read and check `reports.email` (absent: no email); errors name file, line and key."""
    section = reports.section("email")
    reports.reject_unknown()
    if not section.data:
        return ReportMailSettings()
    recipients = tuple(str(a).strip() for a in section.get_list("to", []))
    for address in recipients:
        if not _ADDRESS.match(address):
            raise section.error("to", f"{address!r} is not an email address")
    sender = section.get_str("from", "frontdesk@localhost").strip()
    if not _ADDRESS.match(sender) and sender != "frontdesk@localhost":
        raise section.error("from", f"{sender!r} is not an email address")
    enabled = section.get_bool("enabled", False)
    if enabled and not recipients:
        raise section.error("to", "the report email is enabled but has no recipient")
    try:
        at_minutes, _ = parse_interval(f"{section.get_str('at', '08:00')}-24:00")
    except ValueError:
        raise section.error("at", "must be a time of day like 08:00") from None
    weekday = section.get_str("weekday", "mon", choices=DAYS)
    languages = tuple(str(x) for x in section.get_list("languages", list(LANGUAGES)))
    if not languages or not set(languages) <= set(LANGUAGES):
        raise section.error("languages", "must list en and/or zh")
    smtp = section.section("smtp")
    settings = ReportMailSettings(
        enabled=enabled,
        recipients=recipients,
        sender=sender,
        every=section.get_str("every", "weekly", choices=("daily", "weekly")),
        weekday=DAYS.index(weekday),
        at_minutes=at_minutes,
        languages=languages,
        catch_up=3600.0 * section.get_float("catch_up_hours", 12.0),
        smtp_host=smtp.get_str("host", "127.0.0.1"),
        smtp_port=smtp.get_int("port", 25, minimum=1, maximum=65535),
        smtp_username=smtp.get_str("username", ""),
        smtp_password=(environ or {}).get(PASSWORD_ENV, ""),
        starttls=smtp.get_bool("starttls", False),
        tls=smtp.get_bool("tls", False),
        timeout=smtp.get_float("timeout", 30.0, minimum=1.0),
    )
    if settings.starttls and settings.tls:
        raise smtp.error("tls", "choose one of tls (implicit) or starttls")
    smtp.reject_unknown()
    section.reject_unknown()
    return settings


__all__ = ["PASSWORD_ENV", "ReportMailSettings", "report_mail_settings"]
