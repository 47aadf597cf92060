"""The proofs that may join two customer records, as pure functions (no store, no clock).

- **One-time codes**: 6 random digits, kept only as a salted digest, compared in constant
  time; the service adds expiry, attempts and rate limits.
- **Signed widget identity tokens**: the company's website vouches for its logged-in user.
  A token is ``<payload>.<signature>``, both unpadded URL-safe base64: the payload is the
  JSON ``{"user_id": …, "email": …, "exp": <unix seconds>}`` and the signature is
  HMAC-SHA256(secret, payload as sent). Any server can make one in five lines
  (`docs/identity.md`).
- **Identities** are ``kind:value`` strings normalized so that one address is one key
  (``email:Ana@Example.COM`` → ``email:ana@example.com``, phones in E.164).
- **Unverified claims** ("my email is x@y") are recognised so they can be *noted*; they never
  prove anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

from hub import jsonio
from hub.errors import InputError

CODE_DIGITS = 6

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]{6,24}$")
_TELEGRAM_ID = re.compile(r"^[+-]?\d+(?:_\d+)*$")
# ``wechat-union``: a WeChat UnionID, one person across the apps of one WeChat developer.
_KINDS = ("email", "phone", "telegram", "webchat", "wechat", "wechat-union", "user", "crm", "api")
_CODE_AT_START = re.compile(rf"^\s*(\d{{{CODE_DIGITS}}})(?!\d)")
_CLAIM = re.compile(
    r"(?:my\s+(?P<kind>e-?mail|phone|mobile|number)(?:\s+address|\s+number)?\s*(?:is|:|=)"
    r"|我的(?P<zh>邮箱|電郵|电邮|手机号?|电话)(?:是|:|：)?)\s*"
    r"(?P<value>\+?\d[\d\s().-]{5,22}\d|[^\s,;，。]+)",
    re.IGNORECASE,
)
_LINK_COMMAND = re.compile(r"^\s*/link\s+(?P<value>\S+)\s*$", re.IGNORECASE)


class IdentityError(ValueError):
    """An identity, a token or a claim that cannot be used, with the reason."""


# ------------------------------------------------------------------ identities


def normalize_identity(identity: str) -> str:
    """``kind:value`` in its one canonical spelling; `IdentityError` says what is wrong."""
    kind, sep, value = identity.strip().partition(":")
    kind = kind.lower()
    if not sep or not value.strip():
        raise IdentityError(f"identity {identity!r} must look like kind:value")
    value = value.strip()
    if kind == "email":
        if not _EMAIL.match(value):
            raise IdentityError(f"{value!r} is not an email address")
        return f"email:{value.lower()}"
    if kind == "phone":
        return f"phone:{normalize_phone(value)}"
    if kind == "telegram":
        return f"telegram:{normalize_telegram(value)}"
    if kind not in _KINDS:
        raise IdentityError(f"unknown identity kind {kind!r} (expected one of {', '.join(_KINDS)})")
    if len(value) > 256 or any(c.isspace() for c in value):
        raise IdentityError(f"identity value {value[:40]!r} is too long or contains spaces")
    return f"{kind}:{value}"


def normalize_phone(number: str) -> str:
    """E.164 (``+`` and 8–15 digits); a number without ``+`` must already carry its
    country code."""
    if not _PHONE_CHARS.match(number):
        raise IdentityError(f"{number!r} is not a phone number")
    digits = re.sub(r"\D", "", number)
    if not 8 <= len(digits) <= 15:
        raise IdentityError(f"{number!r} is not a phone number in international format")
    return f"+{digits}"


def normalize_telegram(chat_id: str) -> str:
    """A Telegram chat id as the Bot API spells it. The connector sends to `int(address)`,
    so `0555`, `+555` and `5_55` all reach chat 555: they must be one identity too."""
    if not _TELEGRAM_ID.match(chat_id):
        raise IdentityError(f"{chat_id!r} is not a Telegram chat id (a whole number)")
    return str(int(chat_id))


def guess_identity(text: str) -> str:
    """What a customer typed as an address (``ana@example.com``, ``+44 20 …``,
    ``telegram:123``) as an identity."""
    value = text.strip()
    if ":" in value and not value.startswith("+"):
        return normalize_identity(value)
    if "@" in value:
        return normalize_identity(f"email:{value}")
    return normalize_identity(f"phone:{value}")


def find_claims(text: str) -> list[str]:
    """Identities the customer *says* are theirs ("my email is x@y", "我的邮箱是 x@y")."""
    found = []
    for match in _CLAIM.finditer(text):
        try:
            found.append(guess_identity(match.group("value").rstrip(".!")))
        except IdentityError:
            continue
    return found


def link_command(text: str) -> str | None:
    """The target of ``/link <address>``, as typed (not yet normalized)."""
    match = _LINK_COMMAND.match(text)
    return match.group("value") if match else None


# ------------------------------------------------------------------ one-time codes


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_salt() -> str:
    return secrets.token_hex(16)


def code_digest(code: str, salt: str) -> str:
    """Only this is stored: a leaked store does not hand out live codes."""
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def code_matches(code: str, salt: str, digest: str) -> bool:
    return hmac.compare_digest(code_digest(code, salt), digest)


def code_at_start(text: str) -> str | None:
    """The 6-digit code a message starts with (``123456``, ``123456 thanks``)."""
    match = _CODE_AT_START.match(text)
    return match.group(1) if match else None


# ------------------------------------------------------------------ widget tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class WidgetIdentity:
    """Who the company's website says its logged-in visitor is."""

    user_id: str
    email: str
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_widget_token(secret: bytes, *, user_id: str, email: str = "", expires_at: int) -> str:
    """What the company's server does (any language can; see `docs/identity.md`)."""
    payload = _b64(json.dumps({"user_id": user_id, "email": email, "exp": expires_at}).encode())
    signature = _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def verify_widget_token(secret: bytes, token: str, *, now: float) -> WidgetIdentity:
    """The identity a token vouches for; `IdentityError` when it is malformed, forged,
    altered or expired."""
    if not secret:
        raise IdentityError("identity tokens are not enabled (no secret is configured)")
    payload, sep, signature = token.strip().partition(".")
    if not sep or not payload or not signature or len(token) > 4096:
        raise IdentityError("the identity token is malformed")
    expected = _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise IdentityError("the identity token's signature does not match")
    try:
        decoded = _unb64(payload)
    except (binascii.Error, ValueError):
        raise IdentityError("the identity token's payload is not base64url") from None
    try:
        # The shared reader: a NaN `exp` would otherwise compare as never expired.
        data = jsonio.loads(decoded, what="payload")
    except InputError as error:
        raise IdentityError(f"the identity token's {error.message}") from None
    if not isinstance(data, dict):
        raise IdentityError("the identity token's payload is not an object")
    user_id, email, expires = data.get("user_id"), data.get("email", ""), data.get("exp")
    if not isinstance(user_id, str | int) or isinstance(user_id, bool) or not str(user_id):
        raise IdentityError("the identity token has no user_id")
    if not isinstance(email, str):
        raise IdentityError("the identity token's email is not a string")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise IdentityError("the identity token has no expiry (exp)")
    if expires <= now:
        raise IdentityError("the identity token has expired")
    return WidgetIdentity(user_id=str(user_id), email=email, expires_at=float(expires))


__all__ = [
    "CODE_DIGITS",
    "IdentityError",
    "WidgetIdentity",
    "code_at_start",
    "code_digest",
    "code_matches",
    "find_claims",
    "guess_identity",
    "link_command",
    "new_code",
    "new_salt",
    "normalize_identity",
    "normalize_phone",
    "sign_widget_token",
    "verify_widget_token",
]
