"""What `frontdesk agents …` does (`cli.py` declares the verbs and their arguments; this module
is imported only when one runs, with the account stores and argon2 it needs)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from handoff.console import passwords
from handoff.console.accounts import (
    Account,
    AccountError,
    AccountStore,
    AgentProfile,
    Role,
    Session,
    accounts_from_url,
    check_account_id,
    new_secret,
    token_key,
    update,
)
from handoff.console.settings import load_console_settings
from hub.config import load_config
from hub.errors import Contention


def _profile(args: argparse.Namespace, current: AgentProfile | None) -> AgentProfile | None:
    """The profile with the options given applied; None when none was given and there was
    none (then handoff.yaml seeds it on the next start)."""
    given = {
        key: getattr(args, key)
        for key in ("skills", "languages", "capacity", "team")
        if getattr(args, key) is not None
    }
    if not given:
        return current
    if "capacity" in given and not 1 <= given["capacity"] <= 100:
        raise AccountError("--capacity must be between 1 and 100")
    return replace(current or AgentProfile(), **given)


def run(args: argparse.Namespace) -> int:
    """Run `frontdesk agents VERB` (`args.verb`) against the hub's account store."""
    verb = VERBS[args.verb]
    config = load_config(args.config)
    settings = load_console_settings(config)
    store = accounts_from_url(settings.accounts_url or config.store_url)

    async def go() -> int:
        await store.open()
        try:
            return await verb(store, args)
        except (AccountError, Contention) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        finally:
            await store.close()

    return asyncio.run(go())


def _new_password(args: argparse.Namespace) -> str:
    if args.generate:
        password = secrets.token_urlsafe(15)
        print(f"password: {password}")
        return password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise AccountError("the passwords differ")
    problem = passwords.check_password(password)
    if problem:
        raise AccountError(f"the password {problem}")
    return password


async def _add(store: AccountStore, args: argparse.Namespace) -> int:
    account_id = check_account_id(args.id)
    existing = await store.get(account_id)
    # An agent seeded from handoff.yaml has an account without a password: adding it
    # completes that account (and keeps its routing profile unless options change it).
    if existing is not None and existing.password_hash:
        raise AccountError(f"account {account_id!r} exists already")
    password = _new_password(args)
    hashed = passwords.hash_password(password)
    now = time.time()
    if existing is None:
        await store.add(
            Account(
                id=account_id,
                name=(args.name or account_id)[:80],
                role=Role(args.role),
                password_hash=hashed,
                language=args.language,
                created_at=now,
                updated_at=now,
                agent=_profile(args, None),
            )
        )
    else:

        def complete(seeded: Account) -> Account:
            if seeded.password_hash:  # someone else completed it meanwhile
                raise AccountError(f"account {account_id!r} exists already")
            return replace(
                seeded,
                name=(args.name or seeded.name)[:80],
                role=Role(args.role),
                password_hash=hashed,
                language=args.language,
                updated_at=now,
                agent=_profile(args, seeded.agent),
            )

        await _update(store, account_id, complete)
    print(f"added {args.role} {account_id}")
    return 0


async def _set(store: AccountStore, args: argparse.Namespace) -> int:
    def change(account: Account) -> Account:
        return replace(
            account,
            name=(args.name or account.name)[:80],
            role=Role(args.role) if args.role else account.role,
            agent=_profile(args, account.agent),
            updated_at=time.time(),
        )

    changed = await _update(store, args.id, change)
    print(f"{changed.id}: {_describe(changed)}")
    return 0


async def _update(
    store: AccountStore, account_id: str, change: Callable[[Account], Account]
) -> Account:
    """`change` applied over the account as stored, keeping what a running hub writes
    meanwhile (the agent's presence …)."""
    changed = await update(store, account_id, change)
    if changed is None:
        raise AccountError(f"no account {account_id!r}")
    return changed


def _describe(account: Account) -> str:
    profile = account.agent
    if profile is None:
        return f"{account.role.value}, no routing profile yet"
    skills = ",".join(profile.skills) or "-"
    return (
        f"{account.role.value}, skills {skills}, languages {','.join(profile.languages)}, "
        f"capacity {profile.capacity}" + (f", team {profile.team}" if profile.team else "")
    )


async def _list(store: AccountStore, args: argparse.Namespace) -> int:
    accounts = await store.all()
    if not accounts:
        print("no accounts yet: frontdesk agents add ID --role agent")
        return 0
    print(f"{'id':<20} {'role':<11} {'lang':<5} {'state':<9} {'name':<16} routing")
    for account in accounts:
        state = "disabled" if account.disabled else "active"
        if not account.password_hash:
            state = "no-login"  # seeded from handoff.yaml: `agents add ID` sets a password
        profile = account.agent
        routing = (
            f"skills={','.join(profile.skills) or '-'} languages={','.join(profile.languages)}"
            f" capacity={profile.capacity}" + (f" team={profile.team}" if profile.team else "")
            if profile
            else "-"
        )
        print(
            f"{account.id:<20} {account.role.value:<11} {account.language:<5} {state:<9} "
            f"{account.name:<16} {routing}"
        )
    return 0


async def _get(store: AccountStore, account_id: str) -> Account:
    account = await store.get(account_id)
    if account is None:
        raise AccountError(f"no account {account_id!r}")
    return account


async def _disable(store: AccountStore, args: argparse.Namespace) -> int:
    account = await _update(
        store, args.id, lambda account: replace(account, disabled=True, updated_at=time.time())
    )
    dropped = await store.drop_sessions(account.id, api_tokens=True)
    print(f"disabled {account.id} ({dropped} session(s) and token(s) ended)")
    return 0


async def _enable(store: AccountStore, args: argparse.Namespace) -> int:
    account = await _update(
        store, args.id, lambda account: replace(account, disabled=False, updated_at=time.time())
    )
    print(f"enabled {account.id}")
    return 0


async def _reset(store: AccountStore, args: argparse.Namespace) -> int:
    await _get(store, args.id)  # before asking for a password
    password = _new_password(args)
    hashed = passwords.hash_password(password)
    account = await _update(
        store,
        args.id,
        lambda account: replace(account, password_hash=hashed, updated_at=time.time()),
    )
    dropped = await store.drop_sessions(account.id)
    print(f"password of {account.id} reset ({dropped} session(s) ended)")
    return 0


async def _token(store: AccountStore, args: argparse.Namespace) -> int:
    account = await _get(store, args.id)
    if account.disabled:
        raise AccountError(f"account {account.id!r} is disabled")
    if not 1 <= args.days <= 3650:
        raise AccountError("--days must be between 1 and 3650")
    secret = new_secret()
    now = time.time()
    await store.put_session(
        Session(
            key=token_key(secret),
            account_id=account.id,
            csrf="",
            created_at=now,
            expires_at=now + args.days * 86400,
            last_seen=now,
            api_token=True,
            label=args.label[:80],
        )
    )
    print(f"API token for {account.id} (shown once; send it as 'Authorization: Bearer …'):")
    print(secret)
    return 0


# The verbs `cli.py` declares, by name.
VERBS: dict[str, Callable[[AccountStore, argparse.Namespace], Awaitable[int]]] = {
    "add": _add,
    "set": _set,
    "list": _list,
    "disable": _disable,
    "enable": _enable,
    "reset-password": _reset,
    "token": _token,
}
