"""`HandoffWiring`: how `create_app()` puts humans behind the bot, by construction.

The hand-off and the hub need each other: the hub runs the hand-off's turns, and the
hand-off writes through the hub (`HubLink.send`). So the composition root builds it in
three steps, none of which replaces anything afterwards: the settings, the alert
notifier and the report mailer first; the engine and the agents' actions inside the hub's
constructor (`owners`, which `Hub` calls once it is whole); its routes on the app last
(`install`).

The app's lifecycle starts it (`start`) once the store is open and the bus runs, and
*before* the hub: the hub's start runs the turns a crash left unanswered, and such a turn
may be a CSAT score or a follow-up answer, which `Escalation` recognises only from the
customer history the engine rebuilds from the log when it starts. It stops after the hub
(`stop`), so the turns the hub finishes on its way out still have it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

from handoff.actions import AgentActions
from handoff.agent_actions import HandoffActions
from handoff.alerts import WebhookNotifier
from handoff.api import ACTIONS, HANDOFF, routes
from handoff.engine import HandoffEngine
from handoff.escalation import Escalation
from handoff.followup_api import routes as followup_routes
from handoff.hub_link import HubLink
from handoff.reports.mail import ReportMailer
from handoff.reports.mail_settings import report_mail_settings
from handoff.reports.service import Reports
from handoff.settings import HandoffSettings, load_settings
from hub.abc import ConversationHandler, Owners
from hub.beside import Beside
from hub.config import Config
from hub.leader import Lease
from hub.ports import Backend

Gate = Callable[[ConversationHandler], ConversationHandler]


class HandoffWiring:
    """The hand-off's parts, built in the order the hub needs them."""

    def __init__(
        self,
        settings: HandoffSettings,
        *,
        leader: Lease,
        clock: Callable[[], float] | None = None,
        mailer: ReportMailer | None = None,
    ) -> None:
        self.settings = settings
        # Offer timeouts, SLA alerts and queue positions: one process of many runs them.
        self.leader = leader
        self.clock = clock
        url = settings.alert_webhook
        self.notifier = WebhookNotifier(url) if url else None
        # Scheduled beside the clocks, by the leader's tick.
        self.mailer = mailer
        self._engine: HandoffEngine | None = None
        self._actions: AgentActions | None = None

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        store: Backend,
        beside: Beside,
        clock: Callable[[], float] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> HandoffWiring:
        """`beside`: the store's shared parts (the clocks' lease, the mailer's values)."""
        settings = load_settings(config.handoff_path)
        mailer = report_mailer(store, config, settings, environ, beside=beside)
        leader = beside.lease("handoff-clock")
        return cls(settings, leader=leader, clock=clock, mailer=mailer)

    def owners(self, hub: HubLink, bot: ConversationHandler, gate: Gate) -> Owners:
        """The hub's owners with the hand-off: the bot behind the triggers (`Escalation`),
        the engine for queued and assigned conversations. `gate` wraps each handler in
        what must see every message first (identity codes), whoever owns the turn."""
        if self._engine is not None:
            raise RuntimeError("the hand-off belongs to one hub")
        engine = HandoffEngine(
            hub,
            self.settings,
            clock=self.clock,
            alerts=self.notifier.send if self.notifier else None,
            leader=self.leader,
            leader_jobs=(self.mailer.run,) if self.mailer else (),
        )
        self._engine = engine
        # One service for every surface: the writes, and who may make them.
        self._actions = AgentActions(engine, HandoffActions(engine))
        return Owners(bot=Escalation(gate(bot), engine), humans=gate(engine))

    @property
    def engine(self) -> HandoffEngine:
        if self._engine is None:
            raise RuntimeError("the hub has not built the hand-off yet (Hub(owners=...))")
        return self._engine

    @property
    def actions(self) -> AgentActions:
        if self._actions is None:
            raise RuntimeError("the hub has not built the hand-off yet (Hub(owners=...))")
        return self._actions

    def install(self, app: web.Application) -> HandoffEngine:
        """Add the hand-off API (the app's lifecycle calls `start` and `stop`; its
        shutdown ends the live feeds' sockets)."""
        engine = self.engine
        app[HANDOFF] = engine
        app[ACTIONS] = self.actions
        app.router.add_routes(routes)
        app.router.add_routes(followup_routes)

        async def hang_up(app: web.Application) -> None:
            # The live feeds (console, API) never end by themselves; the server's
            # shutdown waits for them: end them first, so the consoles reconnect at once.
            engine.feed.hang_up()

        app.on_shutdown.append(hang_up)
        return engine

    async def start(self) -> None:
        """The alert notifier, then the engine (its index and the customer history, read
        from the opened store): before the hub runs any turn."""
        if self.notifier is not None:
            await self.notifier.start()
        await self.engine.start()

    async def stop(self) -> None:
        """After the hub has stopped."""
        await self.engine.stop()
        if self.mailer is not None:
            await self.mailer.close()
        if self.notifier is not None:
            await self.notifier.stop()


def report_mailer(
    store: Backend,
    config: Config,
    settings: HandoffSettings,
    environ: Mapping[str, str] | None,
    *,
    beside: Beside,
) -> ReportMailer | None:
    """The scheduled report email, when `reports.email` is enabled (a bad section stops
    the hub at start with its file:line)."""
    mail = report_mail_settings(config.reports, environ)
    if not mail.enabled:
        return None
    zone = settings.calendar.timezone
    capacities = [agent.capacity for agent in settings.agents] or [1]

    def reports(at: float) -> Reports:
        return Reports(
            store,
            zone=zone,
            concurrency=lambda: round(sum(capacities) / len(capacities)),
            clock=lambda: at,
        )

    # Whether a report went out is shared by every process on the store: one sends it.
    return ReportMailer(mail, reports=reports, kv=beside.kv(), zone=zone)


__all__ = ["HandoffWiring", "report_mailer"]
