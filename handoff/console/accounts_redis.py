"""Accounts in Redis, next to the hub's keys, so every hub process shares the logins.

Keys (prefix `fd:console:`): `account:{id}` (JSON), `accounts` (set of ids),
`session:{key}` (JSON, expiring with the session), `sessions:{account}` (set of keys),
`failures:{key}` (hash: count, last, forget_at; expiring once forgotten). On a Redis
Cluster (`redis+cluster://`) the prefix carries a hash tag (`fd:console:{console}:`) so
that each transaction's keys share a slot.
"""

from __future__ import annotations

import json
import math

from handoff.console.accounts import Account, AccountError, AccountStore, Failures, Session
from hub.store_redis_connect import RedisClient, connect, is_cluster_url


class RedisAccounts(AccountStore):
    """`redis://host:port/db` (or `rediss://`, `unix://`, `redis+cluster://`)."""

    def __init__(self, url: str, *, prefix: str = "fd:console:") -> None:
        self.url = url
        self.prefix = f"{prefix}{{console}}:" if is_cluster_url(url) else prefix
        self._redis: RedisClient | None = None

    async def open(self) -> None:
        self._redis = await connect(self.url)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def redis(self) -> RedisClient:
        if self._redis is None:
            raise RuntimeError("account store is not open")
        return self._redis

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # ------------------------------------------------------------------ accounts
    async def add(self, account: Account) -> None:
        created = await self.redis.set(
            self._k("account", account.id), json.dumps(account.to_json()), nx=True
        )
        if not created:
            raise AccountError(f"account {account.id!r} exists already")
        await self.redis.sadd(self._k("accounts"), account.id)

    async def get(self, account_id: str) -> Account | None:
        raw = await self.redis.get(self._k("account", account_id))
        return Account.from_json(json.loads(raw)) if raw else None

    async def all(self) -> list[Account]:
        ids = sorted(str(i) for i in await self.redis.smembers(self._k("accounts")))
        if not ids:
            return []
        raws = await self.redis.mget([self._k("account", i) for i in ids])
        return [Account.from_json(json.loads(raw)) for raw in raws if raw]

    async def replace(self, account: Account) -> None:
        written = await self.redis.set(
            self._k("account", account.id), json.dumps(account.to_json()), xx=True
        )
        if not written:
            raise AccountError(f"no account {account.id!r}")

    async def replace_if(self, account: Account, *, was: Account) -> bool:
        key = self._k("account", account.id)
        raw = await self.redis.get(key)
        # Compared as accounts, not as text (an older release may spell the same account
        # differently); the write then checks that the text read is still there.
        if not raw or Account.from_json(json.loads(raw)) != was:
            return False
        written = await self.redis.eval(_SET_IF, 1, key, raw, json.dumps(account.to_json()))
        return bool(written)

    # ------------------------------------------------------------------ sessions
    async def put_session(self, session: Session) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._k("session", session.key), json.dumps(session.to_json()))
            # Relative to when it was written (`last_seen`), so that an injected clock and
            # Redis agree; `get_session` checks the exact expiry against `now`.
            ttl = max(1, math.ceil(session.expires_at - session.last_seen) + 1)
            pipe.expire(self._k("session", session.key), ttl)
            pipe.sadd(self._k("sessions", session.account_id), session.key)
            await pipe.execute()

    async def get_session(self, key: str, *, now: float) -> Session | None:
        raw = await self.redis.get(self._k("session", key))
        if not raw:
            return None
        session = Session.from_json(json.loads(raw))
        if session.expires_at <= now:  # Redis expires in whole seconds; be exact here
            await self.drop_session(key)
            return None
        return session

    async def drop_session(self, key: str) -> None:
        raw = await self.redis.getdel(self._k("session", key))
        if raw:
            account_id = json.loads(raw)["account_id"]
            await self.redis.srem(self._k("sessions", account_id), key)

    async def drop_sessions(self, account_id: str, *, api_tokens: bool = False) -> int:
        dropped = 0
        for member in await self.redis.smembers(self._k("sessions", account_id)):
            key = str(member)
            raw = await self.redis.get(self._k("session", key))
            if raw is None:  # expired: only the index entry is left
                await self.redis.srem(self._k("sessions", account_id), key)
                continue
            if api_tokens or not json.loads(raw).get("api_token", False):
                await self.drop_session(key)
                dropped += 1
        return dropped

    # ------------------------------------------------------------------ failed logins
    async def failures(self, key: str, *, now: float) -> Failures:
        count, last, forget_at = await self.redis.hmget(
            self._k("failures", key), ["count", "last", "forget_at"]
        )
        if count is None or last is None or forget_at is None or float(forget_at) <= now:
            return Failures()
        return Failures(count=int(count), last=float(last))

    async def add_failure(self, key: str, *, now: float, forget_after: float) -> Failures:
        # One script: two processes counting the same streak must not lose a failure.
        count = await self.redis.eval(
            _ADD_FAILURE, 1, self._k("failures", key), repr(now), repr(forget_after)
        )
        return Failures(count=int(count), last=now)

    async def clear_failures(self, key: str) -> None:
        await self.redis.delete(self._k("failures", key))


# Compare and set: the new text only over the text the caller read.
_SET_IF = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

# The streak restarts once forgotten (by the caller's clock, which tests move); the key's
# own expiry only collects garbage.
_ADD_FAILURE = """
local now, forget = tonumber(ARGV[1]), tonumber(ARGV[2])
local old = redis.call('HMGET', KEYS[1], 'count', 'forget_at')
local count = 1
if old[1] and tonumber(old[2]) > now then count = tonumber(old[1]) + 1 end
redis.call('HSET', KEYS[1], 'count', count, 'last', ARGV[1], 'forget_at', now + forget)
redis.call('EXPIRE', KEYS[1], math.ceil(forget) + 1)
return count
"""
