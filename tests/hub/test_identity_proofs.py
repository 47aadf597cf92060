"""The pure parts of identity: normalization, claims, codes, widget tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from hub import identity_proofs as proofs


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("email:Ana@Example.COM", "email:ana@example.com"),
        ("phone:+44 20 7946 0958", "phone:+442079460958"),
        ("phone:(86) 138-0013-8000", "phone:+8613800138000"),
        ("telegram:123", "telegram:123"),
        ("WeChat:oABC", "wechat:oABC"),
    ],
)
def test_identities_have_one_spelling(given: str, expected: str) -> None:
    assert proofs.normalize_identity(given) == expected


@pytest.mark.parametrize(
    "given", ["email:not-an-email", "phone:12", "fax:123", "nokind", "telegram:a b"]
)
def test_bad_identities_say_why(given: str) -> None:
    with pytest.raises(proofs.IdentityError):
        proofs.normalize_identity(given)


def test_claims_are_recognised_in_english_and_chinese() -> None:
    assert proofs.find_claims("Hi, my email is Ana@Example.com.") == ["email:ana@example.com"]
    assert proofs.find_claims("my phone number: +44 7700 900123") == ["phone:+447700900123"]
    assert proofs.find_claims("我的邮箱是 li@example.cn，谢谢") == ["email:li@example.cn"]
    assert proofs.find_claims("my email is broken") == []
    assert proofs.link_command("/link ana@example.com") == "ana@example.com"
    assert proofs.link_command("please /link me") is None


def test_codes_are_six_digits_and_compared_by_digest() -> None:
    code, salt = proofs.new_code(), proofs.new_salt()
    assert len(code) == 6 and code.isdigit()
    digest = proofs.code_digest(code, salt)
    assert code not in digest
    assert proofs.code_matches(code, salt, digest)
    assert not proofs.code_matches(f"{(int(code) + 1) % 10**6:06d}", salt, digest)
    assert proofs.code_at_start(" 123456 thanks") == "123456"
    assert proofs.code_at_start("1234567") is None
    assert proofs.code_at_start("code 123456") is None


def test_a_token_made_by_the_documented_five_lines_verifies() -> None:
    secret, exp = b"s3cret", 2_000_000_000
    # The server example from docs/identity.md, verbatim in spirit.
    payload = base64.urlsafe_b64encode(
        json.dumps({"user_id": "u-1", "email": "ana@example.com", "exp": exp}).encode()
    ).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(secret, payload, hashlib.sha256).digest())
    token = (payload + b"." + signature.rstrip(b"=")).decode()
    vouched = proofs.verify_widget_token(secret, token, now=exp - 10)
    assert (vouched.user_id, vouched.email) == ("u-1", "ana@example.com")
    with pytest.raises(proofs.IdentityError, match="expired"):
        proofs.verify_widget_token(secret, token, now=exp)
    with pytest.raises(proofs.IdentityError, match="not enabled"):
        proofs.verify_widget_token(b"", token, now=0)


def test_a_token_without_expiry_or_user_is_refused() -> None:
    secret = b"k"
    for claims in ({"user_id": "u"}, {"exp": 10**10}, {"user_id": True, "exp": 10**10}):
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
        token = f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        with pytest.raises(proofs.IdentityError):
            proofs.verify_widget_token(secret, token, now=0)


@pytest.mark.parametrize("exp", ["NaN", "Infinity", "1e400"])
def test_a_token_whose_expiry_is_not_a_finite_number_is_refused(exp: str) -> None:
    """Signed, but `NaN <= now` is False: read leniently it would never expire."""
    secret = b"k"
    claims = f'{{"user_id": "u-1", "email": "ana@example.com", "exp": {exp}}}'.encode()
    payload = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    token = f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(proofs.IdentityError, match=r"the identity token's payload has"):
        proofs.verify_widget_token(secret, token, now=0)
