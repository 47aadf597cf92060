"""Signed visitor tokens: who a browser is, without a server-side session table.

A token is ``wv1.<visitor>.<signature>`` where the signature is the URL-safe base64 of
HMAC-SHA256(secret, ``"wv1." + visitor``). The visitor id is random (128 bits), so a
token cannot be guessed, and it cannot be forged or altered without the secret. It does
not expire: a visitor's history follows the browser for as long as it keeps the token.
The secret comes from ``FRONTDESK_WEBCHAT_SECRET``, else the store keeps one for every
process (`hub.kv.shared_secret`, first offered the file `secret.py` keeps); rotating it
forgets every visitor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

PREFIX = "wv1"
_VISITOR = re.compile(r"^v_[A-Za-z0-9_-]{22}$")


class TokenError(ValueError):
    """The token is malformed or its signature does not match."""


def _sign(secret: bytes, visitor: str) -> str:
    mac = hmac.new(secret, f"{PREFIX}.{visitor}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def new_visitor() -> str:
    """A fresh random visitor id."""
    return "v_" + secrets.token_urlsafe(16)


def issue(secret: bytes, visitor: str) -> str:
    """The signed token for `visitor`."""
    return f"{PREFIX}.{visitor}.{_sign(secret, visitor)}"


def verify(secret: bytes, token: str) -> str:
    """The visitor id a token names, or `TokenError` if it was not issued with `secret`."""
    prefix, _, rest = token.partition(".")
    visitor, _, signature = rest.rpartition(".")
    if prefix != PREFIX or not _VISITOR.match(visitor):
        raise TokenError("the visitor token is malformed")
    if not hmac.compare_digest(signature.encode(), _sign(secret, visitor).encode()):
        raise TokenError("the visitor token's signature does not match")
    return visitor


__all__ = ["TokenError", "issue", "new_visitor", "verify"]
