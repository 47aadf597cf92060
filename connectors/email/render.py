"""`Outbound` → a threaded `EmailMessage`, multipart text + HTML (pure).

Quick-reply buttons degrade to a numbered list (a reply "2" picks the second; see
`choice_number`); stored attachments (handed in with their bytes) become MIME parts, and
any known only by URL becomes a link. Every
header value that came from outside is stripped of CR/LF first, so a crafted name or
subject can never inject a header into our reply.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

import jinja2

from connectors.email.threading import own_message_id, plus_address, reply_references
from hub.model import Attachment, Button, Delivery

CHOOSE_HINT = "Reply with the number of your choice."
CHOOSE_HINTS = {"en": CHOOSE_HINT, "zh": "请回复您选择的编号。"}
DEFAULT_HTML_TEMPLATE = """\
<!DOCTYPE html>
<html><body style="font-family: -apple-system, 'Segoe UI', Arial, sans-serif; font-size: 14px;">
{% for paragraph in paragraphs %}<p>{% for line in paragraph %}{{ line }}{% if not loop.last %}<br>
{% endif %}{% endfor %}</p>
{% endfor %}{% if buttons %}<ol>
{% for button in buttons %}<li>{{ button.title }}</li>
{% endfor %}</ol>
<p>{{ choose_hint }}</p>
{% endif %}{% if attachments %}<ul>
{% for attachment in attachments %}<li><a href="{{ attachment.url }}">{{ attachment.name or attachment.url }}</a></li>
{% endfor %}</ul>
{% endif %}{% if signature %}<p style="color: #666;">{% for line in signature %}{{ line }}{% if not loop.last %}<br>
{% endif %}{% endfor %}</p>
{% endif %}</body></html>
"""
# Message-IDs are single tokens often longer than 78 characters; with the default line
# length the email package would turn them into encoded-words, which breaks threading.
# RFC 5322 allows 998. This is the policy the message is *flattened* with; bodies are
# encoded under BODY_POLICY instead, whose 78 columns keep base64 and quoted-printable
# lines at 76 characters (RFC 2045) — with 998 they would be 996 long.
OUTBOUND_POLICY = policy.SMTP.clone(max_line_length=998)
BODY_POLICY = policy.SMTP
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SAFE_ID = re.compile(r"[!-;=?-~]{1,500}@[!-;=?-~]{1,255}")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|vs|回复|答复)\s*[:：]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_UNDECODED = re.compile(r"[\ufffd\ud800-\udfff]")
_CHOICE = re.compile(r"^\s*(?:#|no\.?\s*|option\s*)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender:
    """Who the hub's mail is from, and how it signs."""

    address: str  # support@example.com
    name: str = ""
    signature: str = ""
    default_subject: str = "Your request"
    html_template: jinja2.Template | None = None

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyContext:
    """What the reply answers, read from the conversation log: the customer's last mail."""

    subject: str = ""
    parent_id: str = ""  # the Message-ID being answered (no brackets)
    references: tuple[str, ...] = ()  # the parent's References
    automatic: bool = True  # the bot's (or the hub's) reply; False for a person's


def html_template(source: str = DEFAULT_HTML_TEMPLATE) -> jinja2.Template:
    """Compile an HTML reply template; autoescaping is always on."""
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(source)


_DEFAULT_TEMPLATE = html_template()


def reply_subject(subject: str, default: str) -> str:
    """``Re: <subject>``, without stacking prefixes, on one line. A subject we could not
    decode (replacement characters, stray surrogates) is not echoed: mojibake in the
    customer's inbox is worse than the default subject."""
    subject = one_line(subject)
    if not subject or _UNDECODED.search(subject):
        subject = default
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


def one_line(value: str, *, limit: int = 900) -> str:
    """A value fit for a header: controls (CR/LF included) become spaces."""
    return _CONTROL.sub(" ", value).strip()[:limit]


def recipient_address(address: str) -> Address:
    """One valid addr-spec, or ValueError: never a list, a display name or a header break."""
    cleaned = address.strip()
    if not cleaned or cleaned != one_line(cleaned) or any(c in cleaned for c in " ,;<>"):
        raise ValueError(f"not a single mail address: {address!r}")
    try:
        recipient = Address(addr_spec=cleaned)
    except Exception as error:  # the email package raises more than ValueError here
        raise ValueError(f"not a mail address: {address!r}") from error
    if not recipient.username or "." not in recipient.domain:
        raise ValueError(f"not a mail address: {address!r}")
    return recipient


def choose_hint(text: str, buttons: tuple[Button, ...] = ()) -> str:
    """The numbered-list hint in the reply's own language (Chinese when it has any)."""
    written = " ".join([text, *(button.title for button in buttons)])
    return CHOOSE_HINTS["zh" if _CJK.search(written) else "en"]


def render_text(
    text: str, buttons: tuple[Button, ...], signature: str, links: tuple[str, ...] = ()
) -> str:
    """The text/plain part."""
    parts = [text.strip()]
    if buttons:
        parts.append("\n".join(f"{i}. {b.title}" for i, b in enumerate(buttons, 1)))
        parts.append(choose_hint(text, buttons))
    if links:
        parts.append("\n".join(f"- {link}" for link in links))
    body = "\n\n".join(part for part in parts if part)
    if signature.strip():
        body += "\n\n-- \n" + signature.strip()
    return body + "\n"


def render_reply(
    delivery: Delivery,
    *,
    sender: Sender,
    context: ReplyContext,
    now: float,
    files: Sequence[tuple[Attachment, bytes]] = (),
) -> EmailMessage:
    """Build the reply for `delivery`; raises ValueError when the recipient address is
    not a single valid address (the connector parks such a delivery). `files` are the
    reply's stored attachments with their bytes, attached as MIME parts."""
    recipient = recipient_address(delivery.address)
    outbound = delivery.outbound
    root = delivery.thread_hint or context.parent_id
    message = EmailMessage(policy=BODY_POLICY)
    message["From"] = Address(display_name=one_line(sender.name), addr_spec=sender.address)
    message["To"] = recipient
    message["Reply-To"] = (
        Address(display_name=one_line(sender.name), addr_spec=plus_address(sender.address, root))
        if root
        else Address(display_name=one_line(sender.name), addr_spec=sender.address)
    )
    message["Subject"] = reply_subject(context.subject, sender.default_subject)
    message["Date"] = formatdate(now, usegmt=True)
    message["Message-ID"] = own_message_id(delivery_id=delivery.id, root=root, domain=sender.domain)
    parent = context.parent_id if _SAFE_ID.fullmatch(context.parent_id) else ""
    if parent:
        message["In-Reply-To"] = f"<{parent}>"
    chain = [ref for ref in context.references if _SAFE_ID.fullmatch(ref)]
    if root and _SAFE_ID.fullmatch(root) and root not in chain:
        chain.insert(0, root)
    chain = reply_references(chain, parent)
    if chain:
        message["References"] = " ".join(f"<{ref}>" for ref in chain)
    # Tell autoresponders (RFC 3834) and Exchange not to answer us: no mail loops. A
    # person's reply is not auto-submitted (RFC 3834 5.1): only the bot's says so.
    if context.automatic:
        message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Frontdesk-Delivery"] = one_line(delivery.id)

    text = outbound.text
    attachments = [a for a in outbound.attachments if a.url]
    links = tuple(f"{one_line(a.name) or 'attachment'}: {a.url}" for a in attachments)
    message.set_content(render_text(text, outbound.buttons, sender.signature, links))
    template = sender.html_template or _DEFAULT_TEMPLATE
    html = template.render(
        paragraphs=[p.split("\n") for p in re.split(r"\n\s*\n", text.strip()) if p.strip()],
        buttons=outbound.buttons,
        choose_hint=choose_hint(text, outbound.buttons),
        attachments=attachments,
        signature=[line for line in sender.signature.strip().split("\n") if sender.signature],
    )
    message.add_alternative(html, subtype="html")
    for attachment, data in files:
        # The sniffed type (never HTML), and a name without CR/LF (header injection).
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=one_line(attachment.name) or "attachment",
        )
    message.policy = OUTBOUND_POLICY  # headers are folded when flattened: keep ids whole
    return message


def choice_number(text: str) -> int | None:
    """The option a reply picks from a numbered list ("2", "2.", "#2", "２"), or None."""
    match = _CHOICE.match(unicodedata.normalize("NFKC", text))
    return int(match.group(1)) if match else None


__all__ = [
    "CHOOSE_HINT",
    "CHOOSE_HINTS",
    "DEFAULT_HTML_TEMPLATE",
    "OUTBOUND_POLICY",
    "ReplyContext",
    "Sender",
    "choice_number",
    "choose_hint",
    "html_template",
    "render_reply",
    "render_text",
    "reply_subject",
]
