"""`install_console(app, hub, config)`: the console's routes, state and background work added
to the hub's application (called once from `hub.app.create_app`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from handoff.api import ACTIONS, HANDOFF, ROSTER
from handoff.console.accounts import AccountStore, accounts_from_url
from handoff.console.auth import security_headers
from handoff.console.settings import load_console_settings
from handoff.console.state import CONSOLE, HERE, ConsoleLink, ConsoleState, template_environment
from handoff.settings import AgentSpec
from hub.config import Config


def install_console(
    app: web.Application,
    hub: ConsoleLink,
    config: Config,
    *,
    accounts: AccountStore | None = None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Mount the console under `/console/`. `accounts` and `clock` may be injected (tests)."""
    from handoff.console import (
        composing,
        contacts_api,
        files,
        followups_view,
        inbox_routes,
        login,
        not_found,
        pages,
        profiles,
        qa_view,
        reports_view,
        roster,
        supervisor,
        workspace,
    )

    settings = load_console_settings(config)
    if not settings.enabled:
        return
    store = accounts or accounts_from_url(settings.accounts_url or config.store_url)
    state = ConsoleState(
        hub=hub,
        accounts=store,
        settings=settings,
        clock=clock,
        templates=template_environment(),
    )
    app[CONSOLE] = state
    app.router.add_routes(login.routes)
    app.router.add_routes(pages.routes)
    app.router.add_routes(workspace.routes)
    app.router.add_routes(inbox_routes.routes)
    app.router.add_routes(supervisor.routes)
    app.router.add_routes(profiles.routes)
    app.router.add_routes(reports_view.routes)
    app.router.add_routes(followups_view.routes)
    app.router.add_routes(contacts_api.routes)
    app.router.add_routes(composing.routes)
    qa_view.install_qa(app)
    app.router.add_routes(files.routes)
    app.router.add_static("/console/static", HERE / "static", append_version=False)
    app.on_response_prepare.append(security_headers)
    app.middlewares.append(not_found.not_found_page)

    if app.get(ACTIONS) is not None:  # agents added through the hand-off API are accounts

        async def put_agent(spec: AgentSpec) -> tuple[AgentSpec, bool]:
            # The state as it is at the call: tests put a clock of their own in it.
            current = app[CONSOLE]
            return await roster.put_agent(current.accounts, app[ACTIONS], spec, now=current.clock())

        app[ROSTER] = put_agent

    handoff = app.get(HANDOFF)
    if handoff is not None:  # the customer's typing, shown in the workspace
        hub.add_typing_listener(composing.customer_typing_to_feed(handoff))

    figures = supervisor.MetricsFigures()
    figures.register(hub.metrics)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await store.open()
        # The hand-off engine's agents are these accounts (handoff.yaml only seeds them).
        actions, engine = app.get(ACTIONS), app.get(HANDOFF)
        agents = (
            roster.run(store, actions, engine, clock=clock)
            if actions is not None and engine is not None
            else None
        )
        if agents is not None:
            await anext(agents)
        # The state may have been replaced before start (tests inject a clock).
        async for _ in figures.run(app[CONSOLE]):
            yield
        if agents is not None:
            await anext(agents, None)
        await store.close()

    app.cleanup_ctx.append(lifecycle)
