"""One-time-code limits count an address once, however it is spelled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.identity import CapturingCodeSender, IdentityService
from hub.identity_limits import rate_key
from hub.identity_proofs import IdentityError, normalize_identity
from hub.store_sqlite import SQLiteStore


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (
            ["telegram:5550123", "telegram:05550123", "telegram:+5550123", "telegram:5_550_123"],
            "telegram:5550123",
        ),
        (["telegram:-1001234", "telegram:-001_001_234"], "telegram:-1001234"),
        (
            ["phone:+8613800138000", "phone:+86 138 0013 8000", "phone:86-138-0013-8000"],
            "phone:+8613800138000",
        ),
        (["phone:+447700900123", "phone:00447700900123"], "phone:+447700900123"),
        (
            ["email:ana@example.com", "email:Ana@Example.COM", "email:ana+again@example.com"],
            "email:ana@example.com",
        ),
        (["email:王芳@example.cn", "email:王芳+1@Example.CN"], "email:王芳@example.cn"),
        (["webchat:v_abc"], "webchat:v_abc"),
    ],
)
def test_every_spelling_of_an_address_has_one_key(spellings: list[str], key: str) -> None:
    assert {rate_key(spelling) for spelling in spellings} == {key}


def test_different_addresses_keep_different_keys() -> None:
    assert rate_key("telegram:555") != rate_key("telegram:-555")
    assert rate_key("email:ana@example.com") != rate_key("email:ana@example.org")
    assert rate_key("phone:+447700900123") != rate_key("phone:+447700900124")


def test_telegram_ids_are_normalised_as_identities_too() -> None:
    # The connector sends to int(address): every spelling reaches one chat, so it is one id.
    assert normalize_identity("telegram:+0555") == "telegram:555"
    for bad in ("telegram:5 55", "telegram:abc", "telegram:5__5", "telegram:_5"):
        with pytest.raises(IdentityError):
            normalize_identity(bad)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[IdentityService]:
    store = SQLiteStore(tmp_path / "codes.db")
    await store.open()
    yield IdentityService(store, sender=CapturingCodeSender())
    await store.close()


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize(
    "spellings",
    [
        ["telegram:5550123", "telegram:05550123", "telegram:+5550123", "telegram:5_550_123"],
        ["email:ana@example.com", "email:ANA@example.com", "email:ana+1@example.com", "email:ana+2@example.com"],
        ["phone:+8613800138000", "phone:+86 138 0013 8000", "phone:86 138 0013 8000", "phone:(86) 13800138000"],
    ],
)  # fmt: skip
async def test_respelling_the_target_gets_no_fresh_limit(
    service: IdentityService, spellings: list[str], language: str
) -> None:
    outcomes = []
    for n, target in enumerate(spellings):  # a new customer each time: only the target limits
        customer, _ = await service.store.ensure_customer(f"webchat:v_{n}", now=1.0)
        outcomes.append(await service.request_code(customer.id, target, language=language))
    limit = service.settings.codes_per_target_per_hour
    assert outcomes == ["sent"] * limit + ["rate_limited"] * (len(spellings) - limit)
    sender = service.sender
    assert isinstance(sender, CapturingCodeSender)
    assert len(sender.sent) == limit
    assert {language} == {sent_language for _, _, sent_language in sender.sent}
