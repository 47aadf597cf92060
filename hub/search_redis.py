"""Conversation search on the Redis store: an inverted index of tokens in sorted sets.

RediSearch is not assumed. Every indexed thing (a message, a ticket, a customer) is a
document with a member id (`000000000042`); each token (`hub.search_text.tokens`) has a
sorted set of the documents holding it, scored by the message's time, so a query is an
intersection (unions first for prefixes) walked newest first from the shortest set, and
stopped as soon as a page is found. Keys, all under one hash tag of their own
(`keyspace`: `fd:{fd:search:4}:` for the prefix `fd:`, so one Redis Cluster slot and the
multi-key steps are legal there; a slot across the slot space from the store's, so a new
cluster puts the index on another master, see `hub.store_redis_connect.far_tag`):

    S t:<token>   zset   message/ticket member → time  (one per token)
    S u:<token>   zset   customer member → created time (one per token)
    S dict|udict  zset   every token (score 0), for prefix ranges (ZRANGEBYLEX)
    S docs        hash   doc member → JSON {kind, c, s, u, b (tokens)}
    S ref         hash   m:<conv>:<seq> | c:<customer> → doc member
    S conv:<id>   set    the conversation's doc members (erasure, scopes)
    S seen        hash   conversation → highest seq indexed (the watermark)
    S next        string the last member id given out
    S tmp:<rand>  zset   a query's union of prefix tokens, deleted after the query

Up to schema version 2 they were under the store's own tag (`fd:{fd}:{search}:`: the first
braces decide the slot); `hub.migrations_redis` moves them.

Indexing reads the conversation log behind the watermark, so it is idempotent and can
run anywhere. The hub's event listener names the conversations that moved; a background
task, woken by them, waits `ROUND_WAIT` (0.5 s) for more, then indexes them all in one
round: one read of their watermarks, their logs behind them (16 at a time), and one script
call for all their documents (`_ADD`), not a watermark read and a script per conversation. The log, not the events handed over, is what is indexed: the
bus hands them over after its own queue, which runs behind under load, while the log is
up to date. On start every conversation whose log has moved past its watermark is
caught up (this is also the migration for existing data), and a search first runs a
round of the conversations named so far, so it finds what this process has seen stored.
A customer's record is re-indexed whenever one of their conversations is and the record
is not as this process last indexed it (all the round's records in one `MGET`), and each
customer hit is checked against the live record before it is shown.

**Who indexes what.** The process that appended events indexes them (`wrote`, called as it
publishes them). The bus also brings every other process's events (`on_events`); those are
only noted, with the highest seq seen, and left to their writer: after `REMOTE_GRACE` (5 s)
one batched read of their watermarks shows which are still behind (their writer died before
its round, or is far behind) and only those are indexed here. A search first does the same
for every conversation noted so far, whatever its age, so it still finds what any process
stored before it. Before, every process indexed every process's events: with N processes
each log was read N times and each customer checked N times (`docs/benchmarks.md`,
"Scale-out"), for documents the writer had already added.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from hub import jsonio
from hub.model import Customer, Event
from hub.periodic import stop_task
from hub.search import Hit, Hits, Kind, Scope
from hub.search_text import (
    INDEXED_TYPES,
    TICKET_TYPE,
    Query,
    QueryError,
    customer_body,
    event_body,
)
from hub.store_redis_connect import far_tag

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from hub.store_redis_core import RedisCore

log = logging.getLogger("frontdesk.search.redis")
T = TypeVar("T")

EXPANSION = 256  # tokens a prefix may stand for (the most recent words past that are not)
BATCH = 200  # documents read per round trip while filling a page
# An agent's scope up to this many conversations becomes a set of their documents in Redis
# (a union), checked in the walk; a larger one (an agent sees the whole queue) is checked
# here on each document read. Measured over 50k messages: 5,000 conversations took ~300 ms
# as a union and ~1 ms read here; 400, 45 ms against 13 ms; 50, 23 ms against 26 ms.
SCOPE_IN_REDIS = 100
EVENTS_BATCH = 500
CATCH_UP_PARALLEL = 16  # conversations indexed at once while catching up
ROUND_DOCS = 256  # documents per script call of a round (Redis does nothing else meanwhile)
# Seconds a round waits after the event that woke it. A round costs two reads per
# conversation (its record, its log) and a few calls, whatever the conversation's events
# since the last one; a busy conversation has several turns in half a second, and with
# several processes its turns are spread over them, each indexing its own share. A
# search runs a round first, so the wait never hides a stored message from one
# (`docs/benchmarks.md`, "Crossed notices wait for the stream; index rounds every half
# second": 0.1 s cost 0.50 reads per turn at one process and 1.4–1.9 at four).
ROUND_WAIT = 0.5

# Adds documents unless their reference is known; moves each conversation's watermark
# forward only. KEYS: next, docs, ref, dict, seen, conversation sets (one per conversation),
# token keys… ARGV: conversation count, then per conversation: id, seq; token count,
# tokens…, doc count, then per doc: ref, json, score, its conversation (1-based among the
# conversations, 0: none, a customer), n, n token positions (1-based among the tokens).
_ADD = """
local nconv = tonumber(ARGV[1])
local t0 = 2 + 2 * nconv
local ntok = tonumber(ARGV[t0])
local tokens = 5 + nconv
for j = 1, ntok do redis.call('ZADD', KEYS[4], 0, ARGV[t0 + j]) end
local i = t0 + ntok + 1
local ndocs = tonumber(ARGV[i]); i = i + 1
for d = 1, ndocs do
  local ref, doc, score = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local conv, n = tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  i = i + 5
  if redis.call('HEXISTS', KEYS[3], ref) == 0 then
    local member = string.format('%012d', redis.call('INCR', KEYS[1]))
    redis.call('HSET', KEYS[2], member, doc)
    redis.call('HSET', KEYS[3], ref, member)
    if conv > 0 then redis.call('SADD', KEYS[5 + conv], member) end
    for t = 0, n - 1 do redis.call('ZADD', KEYS[tokens + tonumber(ARGV[i + t])], score, member) end
  end
  i = i + n
end
for c = 1, nconv do
  local old = tonumber(redis.call('HGET', KEYS[5], ARGV[2 * c]) or '0')
  if tonumber(ARGV[2 * c + 1]) > old then redis.call('HSET', KEYS[5], ARGV[2 * c], ARGV[2 * c + 1]) end
end
return 1
"""

# A customer's document as stored: {member, json} or {} (one round trip, not two).
# KEYS: ref, docs. ARGV: the customer's ref.
_CUSTOMER_DOC = """
local member = redis.call('HGET', KEYS[1], ARGV[1])
if not member then return {} end
local doc = redis.call('HGET', KEYS[2], member)
if not doc then return {} end
return {member, doc}
"""

# Removes documents (checked: each must still be as read), and tokens left with no
# document from the dictionary (an erased word must not linger there either).
# KEYS: docs, ref, conv set, dict, token keys…
# ARGV: token count, tokens…, doc count, then per doc: member, ref, json, n, n positions.
_REMOVE = """
local ntok = tonumber(ARGV[1])
local i = ntok + 2
for d = 1, tonumber(ARGV[i]) do
  i = i + 1
  local member, ref, doc, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  if redis.call('HGET', KEYS[1], member) == doc then
    for t = 0, n - 1 do redis.call('ZREM', KEYS[4 + tonumber(ARGV[i + t])], member) end
    redis.call('HDEL', KEYS[1], member)
    redis.call('HDEL', KEYS[2], ref)
    redis.call('SREM', KEYS[3], member)
  end
  i = i + n - 1
end
for j = 1, ntok do
  if redis.call('EXISTS', KEYS[4 + j]) == 0 then redis.call('ZREM', KEYS[4], ARGV[1 + j]) end
end
return 1
"""

# The newest documents every one of KEYS holds, walked from the shortest sorted set down
# (time order), each checked against the other keys (sorted sets, or a plain set of the
# documents a searcher may see): the work stops once ARGV[3] are found, so a page costs a
# page's worth of lookups, not the whole intersection (ZINTERSTORE would build all of it,
# and Redis does nothing else meanwhile). ARGV: top score, entries of the walk to skip,
# how many to find. Answers {entries walked (skipped ones included), 1 if the walk reached
# the end, member, score, member, score …}.
_NEWEST_COMMON = """
local driver, shortest, kinds = nil, nil, {}
for i = 1, #KEYS do
  kinds[i] = redis.call('TYPE', KEYS[i]).ok
  if kinds[i] == 'zset' then
    local n = redis.call('ZCARD', KEYS[i])
    if shortest == nil or n < shortest then driver, shortest = i, n end
  elseif kinds[i] ~= 'set' then
    return {0, 1}
  end
end
if driver == nil then return {0, 1} end
local top, walked, want = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out, found, chunk = {0, 0}, 0, 100
while true do
  local rows = redis.call('ZREVRANGEBYSCORE', KEYS[driver], top, '-inf', 'WITHSCORES',
    'LIMIT', walked, chunk)
  for r = 1, #rows, 2 do
    walked = walked + 1
    local member, everywhere = rows[r], true
    for i = 1, #KEYS do
      if i ~= driver then
        local held
        if kinds[i] == 'zset' then held = redis.call('ZSCORE', KEYS[i], member)
        else held = redis.call('SISMEMBER', KEYS[i], member) == 1 end
        if not held then everywhere = false; break end
      end
    end
    if everywhere then
      out[#out + 1] = member; out[#out + 1] = rows[r + 1]; found = found + 1
      if found >= want then out[1] = walked; return out end
    end
  end
  if #rows < chunk * 2 then out[1] = walked; out[2] = 1; return out end
  chunk = math.min(chunk * 2, 1000)
end
"""


@dataclass(slots=True)
class _Doc:
    ref: str
    doc: dict[str, Any]
    score: float

    @property
    def terms(self) -> list[str]:
        return sorted(set(str(self.doc["b"]).split()))


def keyspace(base: str) -> str:
    """The prefix of every key of the index beside a store configured with `base` (`fd:`)."""
    return f"{far_tag(base, 'search')}:"


@dataclass(slots=True)
class _Keys:
    prefix: str

    def of(self, name: str) -> str:
        return self.prefix + name

    def term(self, token: str, kind: Kind = "conversation") -> str:
        # Customers' tokens apart from messages': one kind is searched at a time.
        return f"{self.prefix}{'u' if kind == 'customer' else 't'}:{token}"

    def dictionary(self, kind: Kind = "conversation") -> str:
        return self.of("udict" if kind == "customer" else "dict")

    def conversation(self, conversation_id: str) -> str:
        return f"{self.prefix}conv:{conversation_id}"


REMOTE_GRACE = 5.0  # seconds another process has to index what it appended
WRITTEN_KEPT = 50_000  # conversations whose last locally appended seq is remembered
CUSTOMERS_KEPT = 50_000  # customers whose last indexed record is remembered


@dataclass(slots=True)
class _Work:
    pending: set[str] = field(default_factory=set)  # appended here: indexed next round
    # Appended by another process: conversation -> (highest seq seen, when first noted).
    remote: dict[str, tuple[int, float]] = field(default_factory=dict)
    # The highest seq this process appended per conversation, so that its own events,
    # when the bus brings them back, are not taken for another process's.
    written: OrderedDict[str, int] = field(default_factory=OrderedDict)
    # Each customer's record as this process last indexed it (its stored text).
    customers: OrderedDict[str, str] = field(default_factory=OrderedDict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    stopped: bool = False


class RedisSearch:
    """The `SearchIndex` of a Redis store (see the module docstring)."""

    def __init__(
        self,
        store: RedisCore,
        *,
        remote_grace: float = REMOTE_GRACE,
        round_wait: float = ROUND_WAIT,
    ) -> None:
        self.store = store
        # The grace must outlast a writer's round wait (and its round), or the others
        # would index what the writer is about to: harmless, but the work done twice.
        self.remote_grace = remote_grace
        self.round_wait = round_wait
        self.keys = _Keys(keyspace(store.base_prefix))
        self._work: _Work | None = None
        self._task: asyncio.Task[None] | None = None
        self._scripts: dict[str, AsyncScript] = {}

    def _script(self, source: str) -> AsyncScript:
        # Sent once, then called by its SHA (redis-py reloads it after a Redis restart).
        if source not in self._scripts:
            self._scripts[source] = self.store.redis.register_script(source)
        return self._scripts[source]

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._work = _Work()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is None or self._work is None:
            return
        # A flag as well as a cancel: on Python 3.11 a cancel that lands inside the Redis
        # client's own timeouts can be swallowed, and the task would wait for work forever.
        self._work.stopped = True
        self._work.wake.set()
        task, self._task = self._task, None
        await stop_task(task, "redis-search-indexer")

    def wrote(self, events: Sequence[Event]) -> None:
        work = self._work
        if work is None:
            return
        for event in events:
            written = work.written
            if event.seq > written.get(event.conversation_id, 0):
                written[event.conversation_id] = event.seq
                written.move_to_end(event.conversation_id)
                if len(written) > WRITTEN_KEPT:
                    written.popitem(last=False)  # at worst, one watermark read more
            if _moves_index(event):
                work.pending.add(event.conversation_id)
                work.wake.set()

    def on_events(self, events: Sequence[Event]) -> None:
        work = self._work
        if work is None:
            return
        for event in events:
            if not _moves_index(event):
                continue
            conversation_id = event.conversation_id
            if event.seq <= work.written.get(conversation_id, 0):
                continue  # this process appended it (`wrote`)
            seen = work.remote.get(conversation_id)
            if seen is None:
                work.remote[conversation_id] = (event.seq, time.monotonic())
                work.wake.set()  # the runner times the grace from now
            elif event.seq > seen[0]:
                work.remote[conversation_id] = (event.seq, seen[1])

    def _stopped(self) -> bool:
        return self._work is None or self._work.stopped

    async def _run(self) -> None:
        work = self._work
        assert work is not None
        try:
            await self.catch_up()
        except Exception:
            log.exception("search index catch-up failed; new messages are still indexed")
        while not self._stopped():
            if work.remote and not work.pending:
                # Only other processes' events are waiting: look again once the oldest
                # of them is past its grace, unless this process appends first.
                oldest = min(when for _, when in work.remote.values())
                wait = max(0.0, oldest + self.remote_grace - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(work.wake.wait(), wait)
            else:
                await work.wake.wait()
            # A moment for more to come: a round's cost is mostly per round and per
            # conversation (the watermarks, the script call, the customers), not per event.
            await asyncio.sleep(self.round_wait)
            work.wake.clear()
            await self._round()

    async def _round(self, *, searching: bool = False) -> None:
        """Index every conversation this process appended to since the last round, and
        those other processes appended to that are still behind: after their grace, or
        all of them before a search (`searching`)."""
        work = self._work
        if work is None:
            return
        batch, work.pending = work.pending, set()
        try:
            batch |= await self._remote_behind(work, searching=searching)
            if batch:
                await self._index_round(sorted(batch))
        except Exception:
            # Left behind their watermarks: the next event or start catches them up.
            log.exception("cannot index a round", extra={"conversations": len(batch)})

    async def _remote_behind(self, work: _Work, *, searching: bool) -> set[str]:
        """Of the conversations other processes appended to, those due a look (past their
        grace, or all before a search) whose watermark is still behind what the bus said
        was appended; each is looked at once (a later event notes it again)."""
        now = time.monotonic()
        due = {
            conversation_id: seq
            for conversation_id, (seq, when) in work.remote.items()
            if searching or now - when >= self.remote_grace
        }
        if not due:
            return set()
        for conversation_id in due:
            del work.remote[conversation_id]
        ids = sorted(due)
        marks = await self.store.redis.hmget(self.keys.of("seen"), ids)
        return {c for c, mark in zip(ids, marks, strict=True) if int(mark or 0) < due[c]}

    async def _index_round(self, ids: list[str]) -> None:
        """One round: the watermarks in one read, each log behind its watermark, every
        document in one script call per `ROUND_DOCS`, then the customers."""
        marks = await self.store.redis.hmget(self.keys.of("seen"), ids)
        after = {c: int(mark or 0) for c, mark in zip(ids, marks, strict=True)}
        conversations = await _few_at_once(self.store.get_conversation, ids)
        moved = [c for c in conversations if c is not None and c.last_seq > after[c.id]]
        logs = await _few_at_once(
            lambda c: self.store.events(c, after_seq=after[c], limit=EVENTS_BATCH),
            [c.id for c in moved],
            self._stopped,
        )
        groups: list[tuple[str, int, Sequence[_Doc]]] = []
        longer: list[str] = []  # more than a page behind: the rest page by page
        for conversation, events in zip(moved, logs, strict=False):
            if not events:
                continue
            docs = [doc for doc in map(_event_doc, events) if doc is not None]
            groups.append((conversation.id, events[-1].seq, docs))
            if events[-1].seq < conversation.last_seq:
                longer.append(conversation.id)
        size, start = 0, 0
        for end, (_, _, group) in enumerate(groups, start=1):
            size += len(group)
            if size >= ROUND_DOCS or end == len(groups):
                await self._add_many(groups[start:end])
                size, start = 0, end
        await _few_at_once(partial(self.index_conversation, customer=False), longer, self._stopped)
        await self._index_changed_customers(
            sorted({c.customer_id for c in conversations if c is not None})
        )

    async def _index_changed_customers(self, customer_ids: list[str]) -> None:
        """Re-index those of the customers whose record is not as this process last indexed
        it: their records in one read (every customer key is on the store's slot), then the
        document check and the write only for the changed ones. A record changed anywhere
        (a profile edit, a merge, an erasure) reads differently, so it is indexed again."""
        work = self._work
        if work is None or not customer_ids:
            return
        records = await self.store.customer_records(customer_ids)
        changed = [
            customer_id
            for customer_id, record in zip(customer_ids, records, strict=True)
            if record is None or work.customers.get(customer_id) != record
        ]
        await _few_at_once(self._index_customer, changed, self._stopped)

    async def catch_up(self) -> int:
        """Index every conversation whose log moved past its watermark, and every customer;
        returns how many conversations were behind."""
        behind = 0
        cursor: str | None = None
        while True:
            page = await self.store.list_conversations(limit=500, cursor=cursor)
            ids = [c.id for c in page.items]
            seen = await self.store.redis.hmget(self.keys.of("seen"), ids) if ids else []
            late = [
                c.id
                for c, mark in zip(page.items, seen, strict=True)
                if c.last_seq > int(mark or 0)
            ]
            behind += len(late)
            await _few_at_once(self.index_conversation, late)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        cursor = None
        while True:
            customers = await self.store.list_customers(limit=500, cursor=cursor)
            for customer in customers.items:
                await self._index_customer(customer.id)
            if customers.next_cursor is None:
                return behind
            cursor = customers.next_cursor

    # ------------------------------------------------------------------ writing
    async def index_conversation(self, conversation_id: str, *, customer: bool = True) -> None:
        """Index the conversation's events past its watermark (read from the log), and its
        customer."""
        redis = self.store.redis
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            return
        after = int(await redis.hget(self.keys.of("seen"), conversation_id) or 0)
        while after < conversation.last_seq:
            events = await self.store.events(conversation_id, after_seq=after, limit=EVENTS_BATCH)
            if not events:
                break
            docs = [doc for doc in map(_event_doc, events) if doc is not None]
            await self._add(docs, conversation_id=conversation_id, seq=events[-1].seq)
            after = events[-1].seq
        if customer:
            await self._index_customer(conversation.customer_id)

    async def _add(
        self, docs: Sequence[_Doc], *, conversation_id: str, seq: int, kind: Kind = "conversation"
    ) -> None:
        """Add one conversation's documents (its watermark moved to `seq`), or with no
        conversation, customers' documents."""
        if conversation_id:
            await self._add_many([(conversation_id, seq, docs)], kind)
        else:
            await self._add_many([], kind, docs)

    async def _add_many(
        self,
        groups: Sequence[tuple[str, int, Sequence[_Doc]]],
        kind: Kind = "conversation",
        loose: Sequence[_Doc] = (),
    ) -> None:
        """One script call: each (conversation, seq, documents) group's documents, and its
        watermark moved to seq; `loose` documents belong to no conversation (customers)."""
        docs = [(c, d) for c, (_, _, group) in enumerate(groups, start=1) for d in group]
        docs += [(0, d) for d in loose]
        terms = sorted({t for _, d in docs for t in d.terms})
        position = {t: j for j, t in enumerate(terms, start=1)}
        args: list[str | int | float] = [len(groups)]
        for conversation_id, seq, _ in groups:
            args += [conversation_id, seq]
        args += [len(terms), *terms, len(docs)]
        for conversation, d in docs:
            mine = d.terms
            args += [d.ref, jsonio.dumps(d.doc), repr(d.score), conversation]
            args += [len(mine), *(position[t] for t in mine)]
        keys = [
            *(self.keys.of(k) for k in ("next", "docs", "ref")),
            self.keys.dictionary(kind),
            self.keys.of("seen"),
            *(self.keys.conversation(conversation_id) for conversation_id, _, _ in groups),
            *(self.keys.term(t, kind) for t in terms),
        ]
        await self._script(_ADD)(keys=keys, args=args)

    async def _remove(
        self,
        members: Sequence[tuple[str, str, str]],
        conversation_id: str,
        kind: Kind = "conversation",
    ) -> None:
        """Remove (member, ref, json) documents, each only if unchanged since read."""
        if not members:
            return
        bodies = [str(jsonio.stored(doc)["b"]).split() for _, _, doc in members]
        terms = sorted({t for body in bodies for t in body})
        position = {t: j for j, t in enumerate(terms, start=1)}
        args: list[str | int] = [len(terms), *terms, len(members)]
        for (member, ref, doc), body in zip(members, bodies, strict=True):
            mine = sorted(set(body))
            args += [member, ref, doc, len(mine), *(position[t] for t in mine)]
        conversation_set = (
            self.keys.conversation(conversation_id) if conversation_id else self.keys.of("none")
        )
        keys = [
            self.keys.of("docs"),
            self.keys.of("ref"),
            conversation_set,
            self.keys.dictionary(kind),
            *(self.keys.term(t, kind) for t in terms),
        ]
        await self._script(_REMOVE)(keys=keys, args=args)

    async def _index_customer(self, customer_id: str) -> None:
        """The customer's document as their record is now (replaced when it changed)."""
        redis = self.store.redis
        ref = f"c:{customer_id}"
        for _ in range(5):
            found = await self._script(_CUSTOMER_DOC)(
                keys=[self.keys.of("ref"), self.keys.of("docs")], args=[ref]
            )
            member, stored = (found[0], found[1]) if found else (None, None)
            (record,) = await self.store.customer_records((customer_id,))
            customer = Customer.from_json(jsonio.stored(record)) if record else None
            body = customer_body(customer.to_json()) if customer is not None else ""
            if stored is not None and jsonio.stored(stored)["b"] == body:
                self._indexed_record(customer_id, record)
                return
            if member and stored is not None:
                await self._remove([(str(member), ref, str(stored))], "", "customer")
                if await redis.hexists(self.keys.of("docs"), member):
                    continue  # changed meanwhile: read again
            if not body:
                return
            doc = _Doc(ref, {"k": "customer", "c": "", "s": 0, "u": customer_id, "b": body}, 0.0)
            doc.score = customer.created_at if customer is not None else 0.0
            await self._add([doc], conversation_id="", seq=0, kind="customer")
            self._indexed_record(customer_id, record)
            return

    def _indexed_record(self, customer_id: str, record: str | None) -> None:
        """Remember the record text the customer's document now stands for."""
        work = self._work
        if work is None or record is None:
            return
        work.customers[customer_id] = record
        work.customers.move_to_end(customer_id)
        if len(work.customers) > CUSTOMERS_KEPT:
            work.customers.popitem(last=False)  # at worst, its document checked again

    async def forget_customer(self, customer_id: str, conversation_ids: Sequence[str]) -> None:
        redis = self.store.redis
        for conversation_id in conversation_ids:
            members = sorted(await redis.smembers(self.keys.conversation(conversation_id)))
            for start in range(0, len(members), BATCH):
                chunk = [str(m) for m in members[start : start + BATCH]]
                docs = await redis.hmget(self.keys.of("docs"), chunk)
                found = []
                for member, doc in zip(chunk, docs, strict=True):
                    if doc is not None:
                        data = jsonio.stored(doc)
                        found.append((member, _ref(data), str(doc)))
                await self._remove(found, conversation_id)
        await self._index_customer(customer_id)  # the erased record has nothing left

    # ------------------------------------------------------------------ reading
    async def search(
        self,
        query: Query,
        *,
        kind: Kind,
        scope: Scope | None,
        limit: int,
        cursor: str | None = None,
    ) -> Hits:
        top, skip = _cursor(cursor)
        await self._round(searching=True)  # what this process has seen stored is found
        redis = self.store.redis
        temporary: list[str] = []

        def scratch() -> str:
            key = self.keys.of(f"tmp:{os.urandom(8).hex()}")
            temporary.append(key)
            return key

        try:
            sources = await self._sources(query, kind, scope, scratch)
            if sources is None:
                return Hits(items=())
            here = None  # a large scope is checked on each document read (SCOPE_IN_REDIS)
            if (
                scope is not None
                and kind != "customer"
                and len(scope.conversations) > SCOPE_IN_REDIS
            ):
                here = scope.conversations
            hits: list[tuple[Hit, float, str]] = []
            walked = 0
            more = False
            # A page and one more first (most hits hold); wider rounds when checks drop some.
            batch = limit + 1 + (1 if skip else 0)
            while len(hits) <= limit:
                reply = await self._script(_NEWEST_COMMON)(
                    keys=sources, args=["+inf" if top == float("inf") else repr(top), walked, batch]
                )
                walked, ended = int(reply[0]), bool(int(reply[1]))
                pairs = reply[2:]
                fresh = [
                    (str(m), float(s))
                    for m, s in zip(pairs[::2], pairs[1::2], strict=True)
                    if not (skip and float(s) == top and str(m) >= skip)
                ]
                hits += await self._verified(query, fresh, here)
                if ended:
                    break
                batch = min(BATCH, batch * 2)
            if len(hits) > limit:
                more, hits = True, hits[:limit]
        finally:
            if temporary:
                await redis.delete(*temporary)
        next_cursor = f"{hits[-1][1]!r}:{hits[-1][2]}" if more and hits else None
        return Hits(items=[hit for hit, _, _ in hits], next_cursor=next_cursor)

    async def _sources(
        self, query: Query, kind: Kind, scope: Scope | None, scratch: Any
    ) -> list[str] | None:
        """The sets to intersect, one per required token, and one of the documents in a
        scope small enough to send (None: nothing matches)."""
        redis = self.store.redis
        sources: list[str] = []
        for term in query.terms:
            if term.prefix:
                low = term.tokens[0]
                words = await redis.zrevrangebylex(
                    self.keys.dictionary(kind),
                    f"[{low}\U0010ffff",
                    f"[{low}",
                    start=0,
                    num=EXPANSION,
                )
                if not words:
                    return None
                if len(words) == 1:
                    sources.append(self.keys.term(str(words[0]), kind))
                else:
                    union = scratch()
                    await redis.zunionstore(
                        union, [self.keys.term(str(w), kind) for w in words], aggregate="MAX"
                    )
                    await redis.expire(union, 60)
                    sources.append(union)
            else:
                sources.extend(self.keys.term(t, kind) for t in term.tokens)
        if scope is not None:
            allowed = scratch()
            if kind == "customer":
                refs = [f"c:{c}" for c in sorted(scope.customers)]
                members = await redis.hmget(self.keys.of("ref"), refs) if refs else []
                found = [str(m) for m in members if m]
                if not found:
                    return None
                await redis.sadd(allowed, *found)
            else:
                if not scope.conversations:
                    return None
                if len(scope.conversations) > SCOPE_IN_REDIS:
                    return sources  # checked on each document read instead
                await redis.sunionstore(
                    allowed, [self.keys.conversation(c) for c in sorted(scope.conversations)]
                )
            await redis.expire(allowed, 60)
            sources.append(allowed)
        return sources

    async def _verified(
        self,
        query: Query,
        rows: Sequence[tuple[str, float]],
        conversations: frozenset[str] | None = None,
    ) -> list[tuple[Hit, float, str]]:
        if not rows:
            return []
        docs = await self.store.redis.hmget(self.keys.of("docs"), [m for m, _ in rows])
        out: list[tuple[Hit, float, str]] = []
        for (member, score), doc in zip(rows, docs, strict=True):
            if doc is None:
                continue
            data = jsonio.stored(doc)
            if conversations is not None and data["c"] not in conversations:
                continue  # outside the searcher's (large) scope
            if not query.matches(str(data["b"])):
                continue  # a phrase's pairs present, but not in a row
            if data["k"] == "customer" and not await self._customer_still(query, str(data["u"])):
                continue
            hit = Hit(
                kind=str(data["k"]),
                conversation_id=str(data["c"]),
                seq=int(data["s"]),
                customer_id=str(data["u"]),
            )
            out.append((hit, score, member))
        return out

    async def _customer_still(self, query: Query, customer_id: str) -> bool:
        """A customer hit holds only if the record as it is now still matches (records
        change without events: a merge, an edit in the contact panel)."""
        customer = await self.store.get_customer(customer_id)
        return customer is not None and query.matches(customer_body(customer.to_json()))


async def _few_at_once(
    call: Callable[[str], Awaitable[T]],
    items: Sequence[str],
    stopped: Callable[[], bool] = lambda: False,
) -> list[T]:
    """`call(item)` for every item, `CATCH_UP_PARALLEL` at a time: the turns share the
    connection pool (`POOL_SIZE`), and a round reading a hundred conversations at once was seen to
    stall for seconds under load. Stops early once `stopped()`."""
    results: list[T] = []
    for start in range(0, len(items), CATCH_UP_PARALLEL):
        if stopped():
            break
        results += await asyncio.gather(*map(call, items[start : start + CATCH_UP_PARALLEL]))
    return results


def _event_doc(event: Event) -> _Doc | None:
    if event.type not in INDEXED_TYPES:
        return None
    body = event_body(event.type, event.data)
    if not body:
        return None
    kind = "ticket" if event.type == TICKET_TYPE else "message"
    doc = {"k": kind, "c": event.conversation_id, "s": event.seq, "u": "", "b": body}
    return _Doc(f"m:{event.conversation_id}:{event.seq}", doc, event.at)


def _moves_index(event: Event) -> bool:
    """An event whose conversation (or customer) a round must look at."""
    return event.type in INDEXED_TYPES or event.type.startswith("customer.")


def _ref(data: dict[str, Any]) -> str:
    if data.get("k") == "customer":
        return f"c:{data['u']}"
    return f"m:{data['c']}:{data['s']}"


def _cursor(cursor: str | None) -> tuple[float, str]:
    if not cursor:
        return float("inf"), ""
    score, _, member = cursor.partition(":")
    try:
        top = float(score)
    except ValueError:
        top = float("nan")
    if top != top or not member.isdigit() or len(member) != 12:
        raise QueryError("the page cursor is not one this search gave out")
    return top, member
