"""`install_handoff()`: the one call `create_app()` makes to put humans behind the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

from aiohttp import web

from handoff.alerts import WebhookNotifier
from handoff.api import HANDOFF, routes
from handoff.engine import HandoffEngine
from handoff.escalation import Escalation
from handoff.followup_api import routes as followup_routes
from handoff.reports.mail import ReportMailer
from handoff.reports.mail_settings import report_mail_settings
from handoff.reports.service import Reports
from handoff.settings import load_settings
from hub.config import Config
from hub.hub import Hub
from hub.kv import kv_for
from hub.leader import lease_for


def install_handoff(
    app: web.Application,
    hub: Hub,
    config: Config,
    *,
    clock: Callable[[], float] | None = None,
    environ: Mapping[str, str] | None = None,
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
    mailer = report_mailer(hub, config, engine, environ)
    if mailer is not None:
        engine.leader_jobs.append(mailer.run)
    notifier = WebhookNotifier(settings.alert_webhook) if settings.alert_webhook else None
    if notifier is not None:
        engine.alert_sink = notifier.send

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if notifier is not None:
            await notifier.start()
        await engine.start()
        yield
        await engine.stop()
        if mailer is not None:
            await mailer.close()
        if notifier is not None:
            await notifier.stop()

    app.cleanup_ctx.append(lifecycle)
    return engine


def report_mailer(
    hub: Hub, config: Config, engine: HandoffEngine, environ: Mapping[str, str] | None
) -> ReportMailer | None:
    """The scheduled report email, when `reports.email` is enabled (a bad section stops
    the hub at start with its file:line)."""
    settings = report_mail_settings(config.reports, environ)
    if not settings.enabled:
        return None
    zone = engine.settings.calendar.timezone
    capacities = [agent.capacity for agent in engine.settings.agents] or [1]

    def reports(at: float) -> Reports:
        return Reports(
            hub.store,
            zone=zone,
            concurrency=lambda: round(sum(capacities) / len(capacities)),
            clock=lambda: at,
        )

    return ReportMailer(settings, reports=reports, kv=kv_for(hub.store), zone=zone)
