"""The roster: the hand-off engine's agents are the console's accounts.

One source of truth for who an agent is — name, role, skills, languages, capacity, team and
last presence — in the account store, edited with `frontdesk agents …` and by supervisors in
the console. `handoff.yaml`'s `agents:` only seeds it: an agent listed there gets an account
(without a password until someone sets one) or, when the account has no routing profile yet,
that profile. A supervisor is an account whose role is supervisor or above, and nothing else.

An agent added or changed through the hand-off API (`POST /api/v1/handoff/agents`) is
written here too (`put_agent`), then the engine follows, as after a supervisor's edit.

The engine's in-memory agents are refreshed from the store on start and every
`REFRESH_EVERY` seconds (other processes, the CLI), and every presence change the engine
publishes is written back, so a restart brings people back as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace

from handoff.actions import AgentActions
from handoff.console.accounts import (
    Account,
    AccountError,
    AccountStore,
    AgentProfile,
    Role,
    update,
)
from handoff.queue import Presence
from handoff.settings import AgentSpec
from handoff.views import FeedView, RosterView
from hub.periodic import Periodic

log = logging.getLogger("frontdesk.console.roster")

REFRESH_EVERY = 15.0


def profile_of(spec: AgentSpec) -> AgentProfile:
    return AgentProfile(
        skills=tuple(sorted(spec.skills)),
        languages=tuple(sorted(spec.languages)),
        capacity=spec.capacity,
        team=spec.team,
    )


def spec_of(account: Account) -> AgentSpec:
    """The engine's view of an account. Without a profile: no skills, the console language,
    capacity 3 — enough to take conversations from the queue by hand."""
    profile = account.agent or AgentProfile(languages=(account.language,))
    return AgentSpec(
        id=account.id,
        name=account.name,
        skills=frozenset(profile.skills),
        languages=frozenset(profile.languages),
        capacity=profile.capacity,
        supervisor=account.role.allows(Role.SUPERVISOR),
        team=profile.team,
    )


def new_account(spec: AgentSpec, *, now: float) -> Account:
    """The account of an agent configured outside the console: no password until someone
    sets one (it cannot log in), the supervisor role when `spec.supervisor`."""
    return Account(
        id=spec.id,
        name=spec.name,
        role=Role.SUPERVISOR if spec.supervisor else Role.AGENT,
        password_hash="",
        agent=profile_of(spec),
        created_at=now,
        updated_at=now,
    )


def follow(actions: AgentActions | None, account: Account) -> AgentSpec:
    """Make the engine follow an account just written: here at once, on the other processes
    through the bus (the refresh would get there too, later). Returns the engine's view."""
    spec = spec_of(account)
    if actions is not None:
        actions.writes.add_agent(spec)
    return spec


async def put_agent(
    store: AccountStore, actions: AgentActions | None, spec: AgentSpec, *, now: float
) -> tuple[AgentSpec, bool]:
    """An agent added or changed through the hand-off API: the store first, then the engine.
    A new agent gets an account as `seed` makes them; an existing account gets the name and
    routing profile (compare-and-set), while its role, password and disabled flag stay as an
    operator or supervisor set them (the API's operator token manages routing, not logins).
    Returns the engine's view of the agent, and whether the account is new."""
    profile = profile_of(spec)

    def change(account: Account) -> Account:
        if account.name == spec.name and account.agent == profile:
            return account
        return replace(account, name=spec.name, agent=profile, updated_at=now)

    account = await update(store, spec.id, change)
    created = account is None
    if account is None:
        account = new_account(spec, now=now)
        try:
            await store.add(account)
        except AccountError:
            # Created meanwhile (another process, the CLI): change that one instead.
            changed = await update(store, spec.id, change)
            if changed is None:
                raise
            account, created = changed, False
    return follow(actions, account), created


async def seed(store: AccountStore, specs: Iterable[AgentSpec], *, now: float) -> list[str]:
    """Create or complete the accounts of the agents in `handoff.yaml`; returns their ids.
    What the store already says is never overwritten."""
    seeded: list[str] = []
    for spec in specs:
        account = await store.get(spec.id)
        if account is None:
            try:
                await store.add(new_account(spec, now=now))
            except AccountError:
                # Another hub process starting at the same moment seeded it first: the
                # store now says who the agent is, which is all seeding wanted.
                if await store.get(spec.id) is None:
                    raise
                continue
        elif account.agent is None:
            profile = profile_of(spec)

            def complete(account: Account, profile: AgentProfile = profile) -> Account:
                if account.agent is not None:
                    return account  # what the store says is never overwritten
                return replace(account, agent=profile, updated_at=now)

            await update(store, spec.id, complete)
        else:
            continue
        seeded.append(spec.id)
    return seeded


async def refresh(store: AccountStore, actions: AgentActions, *, presence: bool = False) -> None:
    """Make the engine's agents match the accounts (and their stored presence, on start).
    A disabled account keeps its open work visible but is offered nothing new."""
    engine, writes = actions.engine, actions.writes
    for account in await store.all():
        if account.agent is None and account.role == Role.OPERATOR:
            continue  # an operator (or an integration's account) answers no conversations
        spec = spec_of(account)
        known = engine.queue.agents.get(account.id)
        if known is None or known.spec != spec:
            writes.add_agent(spec)
        if account.disabled:
            if engine.queue.agents[account.id].presence != Presence.OFFLINE:
                writes.set_presence(account.id, Presence.OFFLINE)
        elif presence and account.presence != engine.queue.agents[account.id].presence:
            with contextlib.suppress(ValueError):
                writes.set_presence(account.id, Presence(account.presence))


async def keep_presence(store: AccountStore, engine: FeedView, clock: Callable[[], float]) -> None:
    """Write every presence change the engine publishes to the account (until the feed
    closes)."""
    queue = engine.feed.subscribe()
    try:
        while True:
            message = await queue.get()
            if message.get("type") == "closed":
                return
            if message.get("type") != "presence":
                continue
            value = str(message.get("presence", ""))

            def record(account: Account, value: str = value) -> Account:
                if account.presence == value:
                    return account  # another process wrote it already: nothing to write
                return replace(account, presence=value, updated_at=clock())

            # Every process hears the change and records it: only over the account as read,
            # so a supervisor's edit made meanwhile (disabling it …) is kept.
            await update(store, str(message.get("agent_id", "")), record)
    finally:
        engine.feed.unsubscribe(queue)


async def run(
    store: AccountStore,
    actions: AgentActions,
    engine: RosterView,
    *,
    clock: Callable[[], float] = time.time,
    every: float = REFRESH_EVERY,
) -> AsyncIterator[None]:
    """A cleanup-context body: seed, load, then keep engine and store in step."""
    await seed(store, engine.settings.agents, now=clock())
    await refresh(store, actions, presence=True)

    # Stops on a flag as well as a cancel (see hub.periodic): a refresh reading Redis may
    # swallow the cancel, and the app's shutdown must not wait for it for ever.
    refreshing = Periodic("roster", lambda: refresh(store, actions), every, first=False)
    refreshing.start()
    presence = asyncio.create_task(keep_presence(store, engine, clock))
    yield
    await refreshing.stop()
    presence.cancel()
    await asyncio.gather(presence, return_exceptions=True)
