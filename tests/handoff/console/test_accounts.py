"""The account store contract, run against SQLite and a real private Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from handoff.console import passwords
from handoff.console.accounts import (
    ACCOUNT_STORES,
    UPDATE_ATTEMPTS,
    Account,
    AccountError,
    AccountStore,
    AgentProfile,
    Failures,
    Role,
    Session,
    accounts_from_url,
    check_account_id,
    token_key,
    update,
)
from handoff.console.accounts_redis import RedisAccounts
from handoff.console.accounts_sqlite import SQLiteAccounts
from hub.errors import ConfigError, Contention
from hub.stores import BACKENDS, is_outage


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AccountStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/accounts.db"
    elif request.param == "redis":
        url = request.getfixturevalue("redis_url")
    else:
        url = request.getfixturevalue("redis_cluster_url")
    accounts = accounts_from_url(url)
    await accounts.open()
    yield accounts
    await accounts.close()


def _account(account_id: str = "mei", role: Role = Role.AGENT) -> Account:
    return Account(id=account_id, name="Mei", role=role, password_hash="$argon2id$x", language="zh")


def _session(key: str, account_id: str = "mei", *, expires_at: float = 2000.0, api: bool = False):
    return Session(
        key=key,
        account_id=account_id,
        csrf="c",
        created_at=1000.0,
        expires_at=expires_at,
        last_seen=1000.0,
        api_token=api,
    )


async def test_accounts_are_added_read_listed_and_replaced(store: AccountStore) -> None:
    await store.add(_account("tom", Role.SUPERVISOR))
    await store.add(_account("mei"))
    with pytest.raises(AccountError, match="exists already"):
        await store.add(_account("mei"))
    assert await store.get("mei") == _account("mei")
    assert await store.get("nobody") is None
    assert [a.id for a in await store.all()] == ["mei", "tom"]

    disabled = Account(**{**_account().to_json(), "role": Role.AGENT, "disabled": True})
    await store.replace(disabled)
    stored = await store.get("mei")
    assert stored is not None and stored.disabled
    with pytest.raises(AccountError, match="no account"):
        await store.replace(_account("ghost"))


async def test_the_routing_profile_and_presence_are_kept(store: AccountStore) -> None:
    profile = AgentProfile(skills=("billing", "vip"), languages=("en", "zh"), capacity=2, team="n")
    await store.add(replace(_account(), agent=profile, presence="online"))
    stored = await store.get("mei")
    assert stored is not None and stored.agent == profile and stored.presence == "online"
    assert "password_hash" not in stored.public() and stored.public()["agent"]["team"] == "n"


@pytest.mark.parametrize("name", ["Mei", "梅"])
async def test_a_write_over_an_account_read_before_another_change_is_refused(
    store: AccountStore, name: str
) -> None:
    read = replace(_account(), name=name)
    await store.add(read)
    assert await store.replace_if(replace(read, presence="online"), was=read)
    # Still the account as first read: what was written meanwhile must not be overwritten.
    assert not await store.replace_if(replace(read, disabled=True), was=read)
    stored = await store.get("mei")
    assert stored is not None and stored.presence == "online" and not stored.disabled
    assert not await store.replace_if(_account("ghost"), was=_account("ghost"))
    assert await store.get("ghost") is None


@pytest.mark.parametrize("name", ["Mei", "梅"])
async def test_an_update_keeps_what_another_writer_changed_meanwhile(
    store: AccountStore, name: str
) -> None:
    """A process records the agent's presence while a supervisor disables the account
    (between the process's read and its write): both changes stand."""
    await store.add(replace(_account(), name=name))
    reads = 0

    def go_online(account: Account) -> Account:
        nonlocal reads
        reads += 1
        return replace(account, presence="online")

    async def disable_meanwhile() -> None:
        current = await store.get("mei")
        assert current is not None
        await store.replace(replace(current, disabled=True))

    class Meanwhile:
        """The store, with the supervisor's write landing right after the first read."""

        def __init__(self) -> None:
            self.first = True

        async def get(self, account_id: str) -> Account | None:
            account = await store.get(account_id)
            if self.first:
                self.first = False
                await disable_meanwhile()
            return account

        async def replace_if(self, account: Account, *, was: Account) -> bool:
            return await store.replace_if(account, was=was)

    updated = await update(Meanwhile(), "mei", go_online)  # type: ignore[arg-type]
    stored = await store.get("mei")
    assert stored == updated
    assert stored is not None and stored.disabled and stored.presence == "online"
    assert stored.name == name and reads == 2
    assert await update(store, "ghost", go_online) is None


@pytest.mark.parametrize("name", ["Mei", "梅"])
async def test_an_update_that_never_gets_a_quiet_moment_says_try_again(
    store: AccountStore, name: str
) -> None:
    """Another writer changes the account between every read and write: after its attempts
    the update gives up with `Contention` (a surface answers 503, try again; the CLI says
    so), writing nothing of its own."""
    await store.add(replace(_account(), name=name))
    edits = 0

    class Busy:
        async def get(self, account_id: str) -> Account | None:
            nonlocal edits
            account = await store.get(account_id)
            assert account is not None
            edits += 1
            await store.replace(replace(account, updated_at=float(edits)))
            return account

        async def replace_if(self, account: Account, *, was: Account) -> bool:
            return await store.replace_if(account, was=was)

    with pytest.raises(Contention) as raised:
        await update(Busy(), "mei", lambda a: replace(a, presence="online"))  # type: ignore[arg-type]
    assert is_outage(raised.value)  # the HTTP middleware's 503 with Retry-After
    assert edits == UPDATE_ATTEMPTS
    stored = await store.get("mei")
    assert stored is not None and stored.presence != "online" and stored.name == name


async def test_sessions_expire_and_are_dropped_per_account(store: AccountStore) -> None:
    await store.put_session(_session("k1"))
    await store.put_session(_session("k2"))
    await store.put_session(_session("t1", api=True, expires_at=9000.0))
    await store.put_session(_session("other", account_id="tom"))

    assert await store.get_session("k1", now=1500.0) == _session("k1")
    assert await store.get_session("k1", now=2000.0) is None  # expired exactly at expires_at
    assert await store.get_session("k1", now=1500.0) is None  # and it is gone for good

    assert await store.drop_sessions("mei") == 1  # k2; the API token stays
    assert await store.get_session("k2", now=1500.0) is None
    assert await store.get_session("t1", now=1500.0) is not None
    assert await store.drop_sessions("mei", api_tokens=True) == 1
    assert await store.get_session("t1", now=1500.0) is None
    assert await store.get_session("other", now=1500.0) is not None

    await store.drop_session("other")
    assert await store.get_session("other", now=1500.0) is None


async def test_failures_form_streaks_that_are_forgotten(store: AccountStore) -> None:
    assert await store.failures("login:a", now=100.0) == Failures()
    counts = [
        (await store.add_failure("login:a", now=100.0 + i, forget_after=60)).count for i in range(3)
    ]
    assert counts == [1, 2, 3]
    assert await store.failures("login:a", now=130.0) == Failures(count=3, last=102.0)
    assert await store.failures("login:b", now=130.0) == Failures()
    assert await store.failures("login:a", now=162.0) == Failures()  # forgotten
    restarted = await store.add_failure("login:a", now=170.0, forget_after=60)
    assert restarted == Failures(count=1, last=170.0)
    await store.add_failure("login:b", now=170.0, forget_after=60)
    await store.clear_failures("login:a")
    assert await store.failures("login:a", now=171.0) == Failures()
    assert (await store.failures("login:b", now=171.0)).count == 1


def test_passwords_hash_with_argon2id_and_verify() -> None:
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "correct horse battery")
    assert not passwords.verify_password(hashed, "correct horse battery!")
    assert not passwords.verify_password(None, "correct horse battery")
    assert not passwords.verify_password("", "frontdesk-no-such-account")  # seeded, no password
    assert not passwords.verify_password("not a hash", "x")
    assert not passwords.needs_rehash(hashed)
    assert passwords.check_password("short") == "must be at least 10 characters long"
    assert passwords.check_password(" " * 12) == "must not be only spaces"
    assert passwords.check_password("long enough pass") is None


def test_account_ids_and_token_keys() -> None:
    assert check_account_id("mei_2-x") == "mei_2-x"
    for bad in ("", "a b", "x" * 65, "<script>", "../etc", "mei\n", "陈美"):
        with pytest.raises(AccountError):
            check_account_id(bad)
    assert token_key("secret") != "secret" and len(token_key("secret")) == 64
    assert Role.OPERATOR.allows(Role.SUPERVISOR) and Role.SUPERVISOR.allows(Role.AGENT)
    assert not Role.AGENT.allows(Role.SUPERVISOR)


def test_every_backend_family_has_its_account_store(tmp_path: Path) -> None:
    """The console's accounts live beside the hub's store, whatever family its URL names."""
    assert {kind.name for kind in BACKENDS.values()} == set(ACCOUNT_STORES)
    assert isinstance(accounts_from_url(f"sqlite:///{tmp_path}/a.db"), SQLiteAccounts)
    assert isinstance(accounts_from_url("redis+cluster://127.0.0.1:1"), RedisAccounts)
    for url in ("postgres://db/frontdesk", "sqlite:///"):
        with pytest.raises(ConfigError) as caught:
            accounts_from_url(url)
        assert caught.value.key == "console.accounts_url"
