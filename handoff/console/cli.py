"""`frontdesk agents add|set|list|disable|enable|reset-password|token`: the people who
answer and steer conversations — their console accounts and routing profiles.

Passwords are read from the terminal without echo, or from standard input with
`--password-stdin` (for scripts), or generated and printed once with `--generate`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import replace

from handoff.console import passwords
from handoff.console.accounts import (
    LANGUAGES,
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
from hub.errors import Contention

DEFAULT_CONFIG = "config/frontdesk.yaml"
TOKEN_LIFETIME_DAYS = 365


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `agents` command to the `frontdesk` command line."""
    agents = commands.add_parser("agents", help="manage console accounts")
    agents.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"config file (default {DEFAULT_CONFIG})"
    )
    verbs = agents.add_subparsers(dest="verb", required=True)

    add = verbs.add_parser("add", help="create an account")
    add.add_argument("id", help="account id; also the agent id in config/handoff.yaml")
    add.add_argument("--name", default="", help="display name (default: the id)")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.AGENT.value)
    add.add_argument("--language", choices=LANGUAGES, default="en", help="console language")
    _profile_options(add)
    _password_options(add)
    add.set_defaults(run=lambda args: _run(args, _add))

    edit = verbs.add_parser("set", help="change who an agent is (name, role, routing profile)")
    edit.add_argument("id")
    edit.add_argument("--name", default="", help="display name")
    edit.add_argument("--role", choices=[r.value for r in Role], default="")
    _profile_options(edit)
    edit.set_defaults(run=lambda args: _run(args, _set))

    listing = verbs.add_parser("list", help="show every account")
    listing.set_defaults(run=lambda args: _run(args, _list))

    disable = verbs.add_parser("disable", help="stop an account (and log it out everywhere)")
    disable.add_argument("id")
    disable.set_defaults(run=lambda args: _run(args, _disable))

    enable = verbs.add_parser("enable", help="let a disabled account log in again")
    enable.add_argument("id")
    enable.set_defaults(run=lambda args: _run(args, _enable))

    reset = verbs.add_parser("reset-password", help="set a new password (logs out everywhere)")
    reset.add_argument("id")
    _password_options(reset)
    reset.set_defaults(run=lambda args: _run(args, _reset))

    token = verbs.add_parser("token", help="issue an API token for an integration")
    token.add_argument("id", help="the account the token acts as")
    token.add_argument("--label", default="", help="what the token is for")
    token.add_argument("--days", type=int, default=TOKEN_LIFETIME_DAYS, help="lifetime")
    token.set_defaults(run=lambda args: _run(args, _token))


def _profile_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("routing (default: handoff.yaml's entry for this id)")
    group.add_argument("--skills", type=_words, help="comma-separated, e.g. billing,hardware")
    group.add_argument("--languages", type=_languages, help="comma-separated: en, zh")
    group.add_argument("--capacity", type=int, help="conversations at once (1-100)")
    group.add_argument("--team", help="team name")


def _words(text: str) -> tuple[str, ...]:
    return tuple(sorted({w.strip() for w in text.split(",") if w.strip()}))


def _languages(text: str) -> tuple[str, ...]:
    languages = _words(text)
    if not languages or not set(languages) <= set(LANGUAGES):
        raise argparse.ArgumentTypeError(
            f"must be a comma-separated list of {', '.join(LANGUAGES)}"
        )
    return languages


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


def _password_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    group.add_argument("--generate", action="store_true", help="generate one and print it")


def _run(args: argparse.Namespace, verb: object) -> int:
    from hub.config import load_config

    config = load_config(args.config)
    settings = load_console_settings(config)
    store = accounts_from_url(settings.accounts_url or config.store_url)

    async def go() -> int:
        await store.open()
        try:
            return await verb(store, args)  # type: ignore[operator, no-any-return]
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
