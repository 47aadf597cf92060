"""`create_app()`: the one place where the hub, its store, the bot, the humans and the
channels are wired together. Nothing else reaches across packages."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from hub.abc import ChannelLinks, Connector, ConversationHandler, Owners
from hub.api import API_TOKEN, HUB
from hub.api import routes as api_routes
from hub.attachments import AttachmentSettings, AttachmentStore
from hub.attachments_http import ATTACHMENTS
from hub.bot_sync import BotSync, VersionedBot
from hub.bus_order import PublishOrder
from hub.config import Config
from hub.customers_api import IDENTITY
from hub.customers_api import routes as customer_routes
from hub.echo import EchoBot
from hub.edge import edge_middleware, hide_versions, parse_networks
from hub.favicon import routes as favicon_routes
from hub.http import json_errors
from hub.hub import Hub
from hub.identity import ConnectorCodeSender, IdentityGate, IdentityService, IdentitySettings
from hub.knowledge import ARTICLES, Suggestion
from hub.logs import redact_secrets, secrets_in
from hub.model import Event
from hub.observe import READINESS, Readiness
from hub.observe import routes as observe_routes
from hub.ports import Backend
from hub.search import SEARCH
from hub.stores import attachments_beside, beside, store_from_url

log = logging.getLogger("frontdesk.app")

CONFIG = web.AppKey("config", Config)


def build_bot(config: Config) -> ConversationHandler:
    if config.bot_kind == "echo":
        return EchoBot()
    from dialogs.engine import DialogEngine  # the dialog engine arrives in its own package

    return DialogEngine.from_path(
        config.dialogs_path,
        action_endpoint=config.action_endpoint,
        knowledge_path=config.knowledge_path,
        public_url=config.public_url,
        reload_interval=config.reload_interval,
        # A server fits its classifier in a short-lived process of its own, at start and on
        # each reload: scikit-learn and SciPy never take ~110 MiB of the hub's memory.
        train_in_child=True,
    )


class CurrentArticles:
    """The dialog engine's knowledge base as it is now (hot reloads swap it)."""

    def __init__(self, engine: object) -> None:
        self.engine = engine

    def current(self) -> Any:
        """The knowledge base the engine serves right now, or None."""
        return getattr(self.engine, "knowledge", None)

    def suggest(self, text: str, lang: str, k: int = 3) -> list[Suggestion]:
        knowledge = self.current()
        return knowledge.suggest(text, lang, k) if knowledge is not None else []


def build_connectors(
    config: Config, links: ChannelLinks, environ: Mapping[str, str]
) -> list[Connector]:
    """Every enabled channel, each whole once constructed (`ChannelLinks`)."""
    from connectors.registry import connector_class

    connectors = []
    for name, section in config.channels.items():
        if not section.get_bool("enabled", True):
            continue
        cls = connector_class(name)
        connectors.append(cls.from_config(section, links=links, environ=environ))
    return connectors


def create_app(
    config: Config,
    *,
    environ: Mapping[str, str] | None = None,
    store: Backend | None = None,
    bot: ConversationHandler | None = None,
    attachments: AttachmentStore | None = None,
    clock: Callable[[], float] | None = None,
) -> web.Application:
    """Build the whole server. `store`, `bot`, `attachments` and the `clock` every timer
    reads may be injected (tests, benchmarks); an injected store is used as it was built
    (its continuity window too)."""
    environ = os.environ if environ is None else environ
    redact_secrets(*secrets_in(environ))  # no configured secret ever reaches a log
    identity_settings = IdentitySettings.from_section(config.identity, environ)
    # An injected backend keeps the continuity window it was built with.
    store = store or store_from_url(
        config.store_url, continuity_window=identity_settings.continuity_window
    )
    clock = clock or time.time
    # Everything shared with the other processes on the store, as its family provides it.
    shared = beside(store)
    # The channels, filled in below: the hub delivers through them, and so do identity codes.
    channels: dict[str, Connector] = {}
    bus = shared.bus()
    search = shared.search()

    def publish(events: Sequence[Event]) -> None:
        search.wrote(events)  # the writer indexes what it appended (`hub.search_redis`)
        bus.publish(events)

    # What this process appends goes on the bus in log order per conversation: the hub's
    # writes, and a merge's events (the identity service is built before the hub).
    publish_order = PublishOrder(publish)
    identity = IdentityService(
        store,
        sender=ConnectorCodeSender(channels),
        settings=identity_settings,
        clock=clock,
        publish=publish_order.publish,
    )
    bot = bot or build_bot(config)
    handoff = None
    if config.handoff_path:  # the humans arrive in their own package
        from handoff.install import HandoffWiring

        handoff = HandoffWiring.from_config(
            config,
            store=store,
            beside=shared,
            clock=clock,
            environ=environ,
        )

    def gate(handler: ConversationHandler) -> ConversationHandler:
        # A code typed while the bot or an agent owns the conversation still links.
        return IdentityGate(handler, identity)

    def owners(hub: Hub) -> Owners:
        if handoff is None:
            return Owners(bot=gate(bot))
        return handoff.owners(hub, bot, gate)

    kv = shared.kv()  # closed with the app, after the channels that use it
    hub = Hub(
        store=store,
        owners=owners,
        connectors=channels,
        retry=config.delivery,
        clock=clock,
        reply_to=identity_settings.reply_to,
        bus=bus,
        publish_order=publish_order,
        limiter=shared.limiter(),
        leaders=shared.lease,
        pacing=shared.pacing(),
        kv=kv,
    )
    # Every process serves the bot version the last reload announced (`hub.bot_sync`).
    bot_sync = BotSync(hub.bus, bot) if isinstance(bot, VersionedBot) else None
    hub.add_listener(search.on_events)
    attachments = attachments or attachments_beside(
        config.store_url, AttachmentSettings.from_section(config.attachments)
    )
    links = ChannelLinks(
        ingest=hub.ingest,
        log=hub,
        attachments=attachments,
        identity_tokens=identity.accept_widget_token,
    )
    connectors = build_connectors(config, links, environ)
    for connector in connectors:
        hub.add_connector(connector)

    edge = edge_middleware(
        trusted_proxies=parse_networks(config.server.trusted_proxies),
        body_timeout=config.server.body_timeout,
    )
    app = web.Application(
        client_max_size=config.server.max_body_bytes, middlewares=[json_errors, edge]
    )
    app.on_response_prepare.append(hide_versions)
    app[READINESS] = Readiness(
        store=store,
        action_endpoint=config.action_endpoint if config.bot_kind == "dialogs" else "",
        metrics_public=config.server.metrics_public,
        bot=bot_sync.status if bot_sync is not None else None,
    )
    app[HUB] = hub
    app[CONFIG] = config
    app[API_TOKEN] = config.api_token
    app[IDENTITY] = identity
    app[ATTACHMENTS] = attachments
    app[SEARCH] = search
    for connector in connectors:
        app.router.add_routes(connector.routes())
    app.router.add_routes(customer_routes)
    app.router.add_routes(api_routes)
    app.router.add_routes(observe_routes)
    app.router.add_routes(favicon_routes)
    articles = CurrentArticles(bot)
    if articles.current() is not None:  # the help centre serves the articles the bot answers from
        from dialogs.help_centre import help_routes

        app.router.add_routes(help_routes(articles.current))
        app[ARTICLES] = articles  # agent assist in the console

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await store.open()
        await hub.bus.start()  # before anything reads the log, so nothing falls in between
        await attachments.open()
        await search.start()
        await hub.bot.start()
        for connector in connectors:
            try:
                await connector.start()
            except Exception:
                # A channel that cannot start never stops the others from serving.
                log.exception("channel failed to start", extra={"channel": connector.name})
        if handoff is not None:  # before the hub runs the turns a crash left unanswered
            await handoff.start()
        await hub.start()
        log.info(
            "hub started", extra={"channels": sorted(hub.connectors), "store": config.store_url}
        )
        yield
        await hub.stop()
        if handoff is not None:  # the turns the hub finished on its way out had it
            await handoff.stop()
        for connector in reversed(connectors):
            await connector.stop()
        if bot_sync is not None:
            await bot_sync.stop()
        await hub.bot.stop()
        await kv.close()
        await attachments.close()
        await search.stop()
        await hub.bus.stop()
        await store.close()
        log.info("hub stopped")

    app.cleanup_ctx.append(lifecycle)

    async def hang_up(app: web.Application) -> None:
        # aiohttp calls this as it starts to shut down, then waits for every open handler:
        # a live socket or long poll would hold the shutdown until its timeout.
        for connector in connectors:
            await connector.hang_up()

    app.on_shutdown.append(hang_up)
    if handoff is not None:
        handoff.install(app)
    from handoff.console.mount import install_console  # the agents' and supervisors' web app

    install_console(app, hub, config)
    return app
