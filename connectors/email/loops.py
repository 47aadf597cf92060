"""Loop and noise protection: auto-replies, bounces, and a per-address rate limit.

Mail that a machine sent (an out-of-office, a bounce, a list) is recorded in the
conversation but never answered: answering would start a mail loop. Two autoresponders
that do not mark their mail would still ping-pong, so each address also gets a budget of
answered messages per time window; past it, messages are recorded without a turn. The
budget is one shared token bucket per address (`hub.shared_limits`): with several hub
processes receiving mail, a looping address gets the budget once, not once per process.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from flufl.bounce import scan_message

from hub.shared_limits import LocalRateLimiter, RateLimiter
from hub.text import normalize

AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autoresponder")
NOISY_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
DAEMON_LOCALS = {"mailer-daemon", "postmaster"}
# Out-of-office mail that carries none of the machine headers above still says what it is
# in its subject ("Automatic reply: …", "自动回复: …") or in its first lines. The subject
# words must stand as a label (followed by a colon, a bracket or the end), so a customer
# asking about "out of office hours" is still answered.
_AUTO_SUBJECT = re.compile(
    r"^\s*[\[【(（]?\s*(?:automatic\s+reply|auto[\s-]?reply|auto[\s-]?response|"
    r"out\s+of\s+(?:the\s+)?office(?:\s+reply)?|autoreply|"
    r"自动回复|自動回覆|自动答复|休假(?:中|通知|自动回复)?|外出(?:通知)?|"
    r"abwesenheitsnotiz|automatische\s+antwort|réponse\s+automatique|absence\s+du\s+bureau)"
    r"\s*(?:[\]】)）:：]|$)",
    re.IGNORECASE,
)
# The body's own words: an auto-reply says so ("this is an automated response", "此邮件为系统
# 自动发送", "please do not reply", a "【自动回复】" label opening it), and an out-of-office
# says where its writer is, in the words such notices use ("I'm currently out of the
# office", "I will be away until …", "with limited access to email", "我目前正在休假",
# "本人出差中"). A person's "I'm out of office hours?" or "我出差了，下周回来再说退款的事" is
# not one: the notice's adverb ("目前", "正在") or its subject matter is missing.
_AUTO_BODY = re.compile(
    r"\bthis\s+is\s+an?\s+(?:automatic|automated|auto-generated)\s+(?:reply|response|message)"
    r"|\bI(?:'m|’m|\s+am)\s+(?:currently\s+|now\s+)?(?:out\s+of\s+(?:the\s+)?"
    r"office(?!\s+hours)|away\s+from\s+(?:the\s+|my\s+)?(?:office|desk)"
    r"|away\s+(?:until|till|from)\b|on\s+(?:annual\s+|parental\s+|maternity\s+|paternity\s+"
    r"|sick\s+)?(?:leave|vacation|holiday))"
    r"|\bI\s+will\s+be\s+(?:out\s+of\s+(?:the\s+)?office|away|on\s+(?:\w+\s+)?leave)"
    r"\s+(?:until|till|between|from\s+\d)\b"
    r"|\bwith\s+limited\s+access\s+to\s+(?:my\s+)?e-?mail"
    r"|\b(?:please\s+)?do\s+not\s+reply\s+to\s+this\s+(?:e-?mail|message)"
    r"|\bthis\s+mailbox\s+is\s+not\s+monitored"
    r"|我(?:目前|现在|正在|已经?)(?:在)?(?:休假|外出|出差)|我(?:目前|现在)?不在办公室"
    r"|本人(?:目前|正在)?(?:休假|外出|出差)"
    r"|^\s*[\[【(（]\s*自动(?:回复|答复)\s*[\]】)）]"
    r"|(?:此|本|该)(?:邮件|信件|消息)(?:为|是|由)(?:系统)?自动(?:发送|发出|生成)"
    r"|(?:这|此|本)(?:是|为)?一?(?:封|条)?(?:邮件|信件|消息)?(?:为|是)?自动(?:回复|答复)"
    r"|\bich\s+bin\s+(?:bis|vom|derzeit|zurzeit|momentan|ab)\b.{0,80}?"
    r"(?:nicht\s+im\s+büro|abwesend|im\s+urlaub|nicht\s+erreichbar)"
    r"|\bdies\s+ist\s+eine\s+automatische\s+(?:antwort|nachricht|benachrichtigung)",
    re.IGNORECASE | re.DOTALL,
)
_BODY_SCANNED = 1000


def noise_reason(message: EmailMessage, *, envelope_sender: str | None, sender: str) -> str:
    """Why this message must not be answered, or "" when it is a person's mail.

    `envelope_sender` is the SMTP ``MAIL FROM`` ("" for a bounce's null sender, None when
    unknown, as with IMAP where `Return-Path` says it instead).
    """
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "", header="content-type")).lower()
    if content_type == "multipart/report" and report_type in ("delivery-status", ""):
        return "bounce"
    if envelope_sender == "" or _header(message, "Return-Path").strip() == "<>":
        return "bounce"
    if sender.partition("@")[0].lower() in DAEMON_LOCALS:
        return "bounce"
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"auto-submitted:{auto.split(';')[0]}"
    for name in AUTO_HEADERS:
        if message.get(name) is not None:
            return "auto-reply"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in NOISY_PRECEDENCE:
        return f"precedence:{precedence}"
    if content_type == "multipart/report":
        return f"report:{report_type}"
    return ""


def auto_reply_text(subject: str, text: str) -> str:
    """Why a mail without machine headers is still an auto-reply (by its subject or the
    start of its new text), or "" when it reads like a person's mail. Both are read in
    their normal form (`hub.text.normalize`): a Traditional "這是一封自動回覆郵件" or a
    full-width "（自動回覆）" is the same auto-reply as its Simplified, half-width spelling."""
    if _AUTO_SUBJECT.match(normalize(subject)):
        return "auto-reply:subject"
    if _AUTO_BODY.search(normalize(text[:_BODY_SCANNED])):
        return "auto-reply:body"
    return ""


def failed_recipients(message: EmailMessage) -> list[str]:
    """The addresses a bounce says could not be reached (empty when it says nothing)."""
    try:
        found = scan_message(message)
    except Exception:  # a detector choking on a broken report must not lose the mail
        return []
    return sorted(address.decode("utf-8", "replace") for address in found)


class RateLimit:
    """At most `limit` answered messages per address at once, refilled at `limit` per
    `window` seconds: a token bucket per address on `limiter` (the hub's, shared by every
    process on a Redis store; in memory when none is given). A loop breaker, not an
    accounting system."""

    def __init__(
        self,
        *,
        limit: int,
        window: float,
        limiter: RateLimiter | None = None,
        prefix: str = "email",
    ) -> None:
        self.limit = limit
        self.window = window
        self.limiter: RateLimiter = limiter or LocalRateLimiter()
        self.prefix = prefix  # the connector's name, keying its shared buckets

    async def allow(self, address: str) -> bool:
        """Count one message from `address`; False once it is over its budget."""
        if self.limit <= 0:
            return True
        key = f"{self.prefix}:loop:{address.lower()}"
        wait = await self.limiter.take(key, rate=self.limit / self.window, burst=self.limit)
        return wait == 0


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a malformed header the policy cannot parse
        return ""
    return "" if value is None else str(value)


__all__ = ["RateLimit", "auto_reply_text", "failed_recipients", "noise_reason"]
