"""`install_handoff()`: the one call `create_app()` makes to put humans behind the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from handoff.alerts import WebhookNotifier
from handoff.api import HANDOFF, routes
from handoff.engine import HandoffEngine
from handoff.escalation import Escalation
from handoff.followup_api import routes as followup_routes
from handoff.settings import load_settings
from hub.config import Config
from hub.hub import Hub
from hub.leader import lease_for


def install_handoff(
    app: web.Application,
    hub: Hub,
    config: Config,
    *,
    clock: Callable[[], float] | None = None,
) -> HandoffEngine | None:
    """Wrap the bot with the triggers, make the engine own queued and assigned
    conversations, add the API and start the engine with the app. Does nothing when
    `bot.handoff_path` is empty. Call it after the app's main lifecycle is registered (the
    engine reads the store when it starts)."""
    if not config.handoff_path:
        return None
    settings = load_settings(config.handoff_path)
    # Offer timeouts, SLA alerts and queue positions: one process of many runs them.
    engine = HandoffEngine(hub, settings, clock=clock, leader=lease_for(hub.store, "handoff-clock"))
    hub.bot = Escalation(hub.bot, engine)
    hub.humans = engine
    app[HANDOFF] = engine
    app.router.add_routes(routes)
    app.router.add_routes(followup_routes)
    notifier = WebhookNotifier(settings.alert_webhook) if settings.alert_webhook else None
    if notifier is not None:
        engine.alert_sink = notifier.send

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if notifier is not None:
            await notifier.start()
        await engine.start()
        yield
        await engine.stop()
        if notifier is not None:
            await notifier.stop()

    app.cleanup_ctx.append(lifecycle)
    return engine
