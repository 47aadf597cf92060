"""The people who use the console: accounts with a role, their sessions, and login counters.

`AccountStore` is small on purpose: accounts are few (a floor of agents, not customers), so
they are read and written whole. Two implementations share one contract test suite:
SQLite (`accounts_sqlite.py`, its own tables in the hub's SQLite file) and Redis
(`accounts_redis.py`, its own keys in the hub's Redis), chosen from the hub's store URL so
that several hub processes behind a load balancer share logins.

Session tokens and API tokens never reach a store in clear: only their SHA-256 is kept, so
a copy of the database lets nobody log in.
"""

from __future__ import annotations

import abc
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Re-exported: the console imports them from here; they live in `roles.py` so that the
# command line can declare its choices without the stores.
from handoff.console.roles import LANGUAGES as LANGUAGES
from handoff.console.roles import Role as Role
from handoff.settings import AGENT_ID
from hub.errors import ConfigError, Contention, FrontdeskError
from hub.stores import backend_kind, sqlite_path

ACCOUNT_ID = AGENT_ID  # one rule: an account id is an agent id


class AccountError(FrontdeskError):
    """An account operation that cannot be done as asked (exists already, unknown id …)."""


def check_account_id(account_id: str) -> str:
    """The id itself, or AccountError saying what is wrong with it. Ids double as the
    handoff engine's agent ids, so they follow the same rule."""
    if not ACCOUNT_ID.fullmatch(account_id):
        raise AccountError(
            f"account id {account_id!r} must be 1-64 ASCII letters, digits, '-' or '_'"
        )
    return account_id


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentProfile:
    """What routing needs to know about a person who answers conversations."""

    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    capacity: int = 3
    team: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "skills": list(self.skills),
            "languages": list(self.languages),
            "capacity": self.capacity,
            "team": self.team,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentProfile:
        return cls(
            skills=tuple(str(s) for s in data.get("skills", ())),
            languages=tuple(str(s) for s in data.get("languages", ("en",))),
            capacity=int(data.get("capacity", 3)),
            team=str(data.get("team", "")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """One person: the one source of truth for who an agent is. `password_hash` is an
    argon2id PHC string (see `passwords.py`), empty for an account seeded from
    `handoff.yaml` that nobody has set a password for yet (it cannot log in). `agent` is
    the routing profile (None: not set yet, so `handoff.yaml` may seed it); `presence` is
    the last one the person chose, kept across restarts."""

    id: str
    name: str
    role: Role
    password_hash: str
    language: str = "en"
    disabled: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    agent: AgentProfile | None = None
    presence: str = "offline"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "password_hash": self.password_hash,
            "language": self.language,
            "disabled": self.disabled,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "agent": self.agent.to_json() if self.agent else None,
            "presence": self.presence,
        }

    def public(self) -> dict[str, Any]:
        """What the console and the CLI may show: everything but the hash."""
        data = self.to_json()
        del data["password_hash"]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Account:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", data["id"])),
            role=Role(data["role"]),
            password_hash=str(data["password_hash"]),
            language=str(data.get("language", "en")),
            disabled=bool(data.get("disabled", False)),
            created_at=float(data.get("created_at", 0.0)),
            updated_at=float(data.get("updated_at", 0.0)),
            agent=AgentProfile.from_json(data["agent"]) if data.get("agent") else None,
            presence=str(data.get("presence", "offline")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A login (browser cookie) or an API token (integrations), stored under `key`,
    the SHA-256 of the secret the client holds. `csrf` guards a browser session's
    state-changing requests; API tokens are not cookies and need none."""

    key: str
    account_id: str
    csrf: str
    created_at: float
    expires_at: float
    last_seen: float
    api_token: bool = False
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "account_id": self.account_id,
            "csrf": self.csrf,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "last_seen": self.last_seen,
            "api_token": self.api_token,
            "label": self.label,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        return cls(
            key=str(data["key"]),
            account_id=str(data["account_id"]),
            csrf=str(data["csrf"]),
            created_at=float(data["created_at"]),
            expires_at=float(data["expires_at"]),
            last_seen=float(data["last_seen"]),
            api_token=bool(data.get("api_token", False)),
            label=str(data.get("label", "")),
        )


def token_key(secret: str) -> str:
    """The stored key of a session or API token secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# How often `update` reads again after another writer got in first. Writers are people
# and presence changes, a few a second at most: more than a couple is a writer gone wild.
UPDATE_ATTEMPTS = 16


async def update(
    store: AccountStore, account_id: str, change: Callable[[Account], Account]
) -> Account | None:
    """The account as `change` makes it, written only over what `change` was given: a
    change made meanwhile by someone else (a supervisor disabling the account while a
    process records the agent's presence) is read again and kept, never overwritten.
    Returns what is stored then; None when there is no such account."""
    for _ in range(UPDATE_ATTEMPTS):
        account = await store.get(account_id)
        if account is None:
            return None
        changed = change(account)
        if changed == account or await store.replace_if(changed, was=account):
            return changed
    # Transient, not the caller's mistake: a surface answers "try again" (HTTP 503).
    raise Contention(f"account {account_id!r} kept changing while it was updated; try again")


class AccountStore(abc.ABC):
    """Accounts, sessions and hit counters. Every method is atomic."""

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    # -- accounts
    @abc.abstractmethod
    async def add(self, account: Account) -> None:
        """Create the account; AccountError when the id is taken."""

    @abc.abstractmethod
    async def get(self, account_id: str) -> Account | None: ...

    @abc.abstractmethod
    async def all(self) -> list[Account]:
        """Every account, by id."""

    @abc.abstractmethod
    async def replace(self, account: Account) -> None:
        """Write the account whole; AccountError when it does not exist."""

    @abc.abstractmethod
    async def replace_if(self, account: Account, *, was: Account) -> bool:
        """Write the account whole if the stored one is still `was`; False, and nothing
        written, when someone changed (or removed) it since it was read."""

    # -- sessions and API tokens
    @abc.abstractmethod
    async def put_session(self, session: Session) -> None: ...

    @abc.abstractmethod
    async def get_session(self, key: str, *, now: float) -> Session | None:
        """The session, or None when unknown or expired (expired ones are dropped)."""

    @abc.abstractmethod
    async def drop_session(self, key: str) -> None: ...

    @abc.abstractmethod
    async def drop_sessions(self, account_id: str, *, api_tokens: bool = False) -> int:
        """Log the account out everywhere (and revoke its API tokens when asked)."""

    # -- failed logins (throttle.py decides what they cost)
    @abc.abstractmethod
    async def failures(self, key: str, *, now: float) -> Failures:
        """The failures recorded on `key`: none once their streak was forgotten."""

    @abc.abstractmethod
    async def add_failure(self, key: str, *, now: float, forget_after: float) -> Failures:
        """Record one failure on `key` at `now`. A streak is forgotten `forget_after`
        seconds after its last failure; the next one then starts a new streak at 1."""

    @abc.abstractmethod
    async def clear_failures(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Failures:
    """A streak of failed logins on one key: how many, and when the last one was."""

    count: int = 0
    last: float = 0.0


def _sqlite_accounts(url: str) -> AccountStore:
    from handoff.console.accounts_sqlite import SQLiteAccounts

    return SQLiteAccounts(sqlite_path(url, key=ACCOUNTS_KEY))


def _redis_accounts(url: str) -> AccountStore:
    from handoff.console.accounts_redis import RedisAccounts

    return RedisAccounts(url)


# The account store of each backend family (`hub.stores.BACKENDS` names the family of a URL).
ACCOUNT_STORES: dict[str, Callable[[str], AccountStore]] = {
    "sqlite": _sqlite_accounts,
    "redis": _redis_accounts,
}
ACCOUNTS_KEY = "console.accounts_url"


def accounts_from_url(url: str) -> AccountStore:
    """The account store living next to the hub's store (`store.url`)."""
    kind = backend_kind(url, key=ACCOUNTS_KEY)
    build = ACCOUNT_STORES.get(kind.name)
    if build is None:
        raise ConfigError(f"no account store beside {kind.name} stores", key=ACCOUNTS_KEY)
    return build(url)
