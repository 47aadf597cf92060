"""What WeChat's servers POST, checked and opened: signatures, safe mode, XML. Pure.

- ``signature`` is the SHA-1 of WeChat's token, the timestamp and the nonce, sorted and
  joined; in safe mode ``msg_signature`` signs the ``Encrypt`` field as well. Both are
  compared in constant time, before anything is parsed beyond the outer envelope.
- Safe mode (``encrypt_type=aes``): the message is AES-256-CBC under the account's
  EncodingAESKey, with the app id appended (checked); wechatpy's `PrpCrypto` does that.
- XML comes from outside, so it is parsed with defusedxml: a DTD, an entity declaration
  (billion laughs) or an external entity (XXE) is refused as a 400, never expanded.
  WeChat's messages are one flat ``<xml>`` element of text fields.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import PrpCrypto

from hub.errors import InputError


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the parts sorted and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signed(given: str, *parts: str) -> bool:
    return hmac.compare_digest(given.lower().encode(), sign(*parts).encode())


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key from the 43-character EncodingAESKey; ValueError when it is not one."""
    if len(encoding_aes_key) != 43:
        raise ValueError("must be the 43 characters the admin console generates")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64 (A-Z, a-z, 0-9, + and /)") from None
    if len(key) != 32:
        raise ValueError("does not decode to a 32-byte key")
    return key


def parse_xml(body: bytes | str, *, what: str = "message") -> dict[str, str]:
    """A flat ``<xml>`` element → its fields (text of each child). InputError (400) for
    anything else, including DTDs and entities."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise InputError(f"the {what} XML is refused: {type(error).__name__}") from None
    except (ParseError, ValueError) as error:
        raise InputError(f"the {what} is not well-formed XML: {error}"[:300]) from None
    if root.tag != "xml":
        raise InputError(f"the {what} XML must be an <xml> element, not <{root.tag}>")
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str):
            fields[child.tag] = (child.text or "").strip() if len(child) == 0 else ""
    return fields


def decrypt(encrypted: str, *, key: bytes, app_id: str) -> str:
    """The plaintext XML of a safe-mode message; InputError when it does not open under
    this account's key and app id."""
    try:
        text: str = PrpCrypto(key).decrypt(encrypted, app_id)
    except Exception:
        # Any failure (padding, base64, another app id) means the same thing to the sender.
        raise InputError("the encrypted message does not open with this account's key") from None
    return text


def encrypt(plaintext: str, *, key: bytes, app_id: str) -> str:
    """Safe mode's ciphertext, as WeChat sends it (the tests' fake server uses this)."""
    return bytes(PrpCrypto(key).encrypt(plaintext, app_id)).decode("ascii")


__all__ = ["aes_key", "decrypt", "encrypt", "parse_xml", "sign", "signed"]
