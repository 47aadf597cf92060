"""Sender authentication decisions (connectors/email/auth.py) on real DKIM-signed mail."""

from __future__ import annotations

import dkim  # type: ignore[import-untyped]
import pytest

from connectors.email.auth import AuthVerdict, aligned, authenticate
from tests.connectors.email.signing import (
    PRIVATE_KEY,
    SELECTOR,
    SIGNED_HEADERS,
    dns_records,
    lookup,
    mail,
    signed,
)

DNS = lookup(dns_records("example.net", "evil.example", "mail.example.net"))


def verdict(data: bytes, *, trusted: tuple[str, ...] = ()) -> AuthVerdict:
    return authenticate(data, trusted_authserv_ids=trusted, dns=DNS)


@pytest.mark.parametrize("text", ["Where is my order?", "我的订单到哪里了？"])
def test_a_signature_by_the_from_domain_authenticates(text: str) -> None:
    data = signed(mail(sender="Ana <ana@example.net>", text=text), domain="example.net")
    result = verdict(data)
    assert result.authenticated, result
    assert (result.method, result.domain) == ("dkim", "example.net")


def test_a_signature_by_a_parent_or_child_domain_is_aligned() -> None:
    data = signed(mail(sender="ana@example.net", text="hi"), domain="mail.example.net")
    assert verdict(data).authenticated
    assert aligned("example.net", "mail.example.net") and not aligned("example.net", "xample.net")


@pytest.mark.parametrize("text", ["link attacker@evil.example", "绑定 attacker@evil.example"])
def test_a_forged_from_is_not_authenticated(text: str) -> None:
    # The attacker signs with their own domain: valid, but not the From: domain.
    forged = signed(mail(sender="ana@example.net", text=text), domain="evil.example")
    result = verdict(forged)
    assert not result.authenticated
    assert result.reason == "d=evil.example: not aligned"
    # Unsigned, as most forgeries are.
    assert verdict(mail(sender="ana@example.net", text=text).as_bytes()).reason == "no signature"


def test_a_changed_body_breaks_the_signature() -> None:
    data = signed(mail(sender="ana@example.net", text="Refund to my card"), domain="example.net")
    tampered = data.replace(b"Refund to my card", b"Refund to card 4111")
    assert verdict(data).authenticated
    result = verdict(tampered)
    assert not result.authenticated and result.reason.startswith("signature 1:")


def test_an_unpublished_key_does_not_authenticate() -> None:
    data = signed(mail(sender="bo@example.org", text="hi"), domain="example.org")
    assert not verdict(data).authenticated  # no TXT record for example.org


def test_two_from_addresses_are_never_authenticated() -> None:
    data = signed(mail(sender="ana@example.net, ceo@example.com", text="hi"), domain="example.net")
    result = verdict(data)
    assert not result.authenticated and result.reason.startswith("From:")


def with_results(*headers: str, sender: str = "ana@example.net") -> bytes:
    lines = "".join(f"Authentication-Results: {h}\r\n" for h in headers)
    return lines.encode() + mail(sender=sender, text="hi").as_bytes()


def test_trusted_authentication_results_decide() -> None:
    trusted = ("mx.example.com",)
    passed = with_results("mx.example.com; dkim=pass header.d=example.net; dmarc=pass")
    assert verdict(passed, trusted=trusted).reason == "dmarc=pass"
    failed = with_results("mx.example.com; spf=fail smtp.mailfrom=x@example.net; dmarc=fail")
    assert verdict(failed, trusted=trusted).reason == "dmarc=fail"
    spf = with_results("MX.example.com; spf=pass smtp.mailfrom=bounce@mail.example.net")
    assert verdict(spf, trusted=trusted).reason == "spf=pass aligned"
    other = with_results("mx.example.com; dkim=pass header.d=evil.example")
    assert not verdict(other, trusted=trusted).authenticated


def test_authentication_results_from_an_untrusted_host_are_ignored() -> None:
    # Written by the sender (or any hop we do not run): it says pass, it proves nothing.
    forged = with_results(
        "mx.evil.example; dkim=pass header.d=example.net; dmarc=pass",
        "mx.example.com; dmarc=fail header.from=example.net",
    )
    result = verdict(forged, trusted=("mx.example.com",))
    assert (result.authenticated, result.reason) == (False, "dmarc=fail")
    only_untrusted = with_results("mx.evil.example; dmarc=pass")
    result = verdict(only_untrusted, trusted=("mx.example.com",))
    assert (result.authenticated, result.reason) == (False, "no trusted Authentication-Results")
    garbage = with_results("mx.example.com; ;;; dmarc")
    assert not verdict(garbage, trusted=("mx.example.com",)).authenticated


def test_with_trusted_hosts_configured_a_dkim_signature_alone_is_not_consulted() -> None:
    # The MTA is the judge then: a mail that reached us around it is not authenticated.
    data = signed(mail(sender="ana@example.net", text="hi"), domain="example.net")
    assert not verdict(data, trusted=("mx.example.com",)).authenticated


def test_a_display_name_never_changes_which_address_is_checked() -> None:
    # "Doe, John" (encoded) is one address, not two.
    name = "=?utf-8?q?Doe=2C_John?= <ana@example.net>"
    assert verdict(signed(mail(sender=name, text="hi"), domain="example.net")).authenticated
    # A display name that looks like the victim's address is not the address.
    spoof = '"ana@example.net" <attacker@evil.example>'
    result = verdict(signed(mail(sender=spoof, text="hi"), domain="evil.example"))
    assert result.domain == "evil.example"


def test_a_signature_over_only_part_of_the_body_does_not_authenticate() -> None:
    message = mail(sender="ana@example.net", text="Please send it to my home.")
    data = message.as_bytes()
    signature = dkim.sign(
        data,
        SELECTOR.encode(),
        b"example.net",
        PRIVATE_KEY,
        include_headers=SIGNED_HEADERS,
        length=True,
    )
    appended = bytes(signature) + data + b"\r\nNew address: 1 Evil Road\r\n"
    result = verdict(appended)
    assert not result.authenticated and "l=" in result.reason
