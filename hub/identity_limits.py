"""The key a one-time-code rate limit counts an address under (pure).

A limit keyed on the address as typed is a limit per spelling: `telegram:+555`,
`telegram:0555` and `telegram:5_55` are one chat, `+86 138 0013 8000` and `0086…` one phone,
`Ana+1@Example.com` and `ana@example.com` one mailbox. Each of them must draw on the same
budget, so the key is the most canonical form that still names the same destination.
"""

from __future__ import annotations

from hub.identity_proofs import normalize_identity


def rate_key(identity: str) -> str:
    """`identity` with every spelling that reaches the same destination made one.

    Beyond `normalize_identity` (lower-case email, E.164 phone, Telegram id as a number):
    an email's `+tag` sub-address is dropped (it is delivered to the same mailbox), and a
    phone written with the `00` international prefix loses it. Raises `IdentityError` for
    what is no identity at all.
    """
    kind, _, value = normalize_identity(identity).partition(":")
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return f"email:{local.partition('+')[0] or local}@{domain}"
    if kind == "phone":
        return f"phone:+{value.lstrip('+').removeprefix('00')}"
    return f"{kind}:{value}"


__all__ = ["rate_key"]
