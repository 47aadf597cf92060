"""`frontdesk demo seed` (history to try the reports on) and `frontdesk reports NAME` (a report
as JSON or CSV on the terminal, the same figures as the console's). What they run on is
imported when they run, not to build the parser."""

from __future__ import annotations

import argparse
import sys
import time

DEFAULT_CONFIG = "config/frontdesk.yaml"
REPORT_NAMES = ("hotspots", "unanswered", "volume", "followups")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `demo seed` and `reports` to the `frontdesk` command."""
    demo = commands.add_parser("demo", help="demo data")
    sub = demo.add_subparsers(dest="demo_command", required=True)
    seed = sub.add_parser("seed", help="write realistic bilingual history into the store")
    seed.add_argument("--days", type=int, default=60, help="days of history (1–90, default 60)")
    seed.add_argument("--config", default=DEFAULT_CONFIG, help="the hub's config")
    seed.add_argument(
        "--seed", type=int, default=20261129, help="random seed (same seed, same data)"
    )
    seed.set_defaults(run=_seed)

    reports = commands.add_parser("reports", help="print a report (JSON, or CSV with --csv)")
    reports.add_argument("name", choices=REPORT_NAMES)
    reports.add_argument("--days", type=int, default=0, help="days back (default per report)")
    reports.add_argument("--csv", action="store_true", help="CSV instead of JSON")
    reports.add_argument("--config", default=DEFAULT_CONFIG, help="the hub's config")
    reports.set_defaults(run=_report)


def _seed(args: argparse.Namespace) -> int:
    import asyncio

    from handoff.reports.seed import SeedPlan, seed_history
    from handoff.settings import load_settings
    from hub.config import load_config
    from hub.stores import store_from_url

    if not 1 <= args.days <= 90:
        print("--days must be from 1 to 90", file=sys.stderr)
        return 2
    config = load_config(args.config)
    zone = load_settings(config.handoff_path).calendar.timezone if config.handoff_path else "UTC"

    async def go() -> int:
        store = store_from_url(config.store_url)
        await store.open()
        try:
            plan = SeedPlan(days=args.days, seed=args.seed, zone=zone)
            return await seed_history(store, now=time.time(), plan=plan, progress=_progress)
        finally:
            await store.close()

    written = asyncio.run(go())
    print(f"\nwrote {written} conversations over {args.days} days into {config.store_url}")
    return 0


def _progress(day: int, days: int, written: int) -> None:
    print(f"\rday {day}/{days}: {written} conversations", end="", file=sys.stderr, flush=True)


def _report(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from handoff.reports.service import CSV, DEFAULT_DAYS, Reports
    from handoff.settings import load_settings
    from hub.config import load_config
    from hub.stores import store_from_url

    config = load_config(args.config)
    settings = load_settings(config.handoff_path) if config.handoff_path else None
    zone = settings.calendar.timezone if settings is not None else "UTC"
    capacities = [agent.capacity for agent in settings.agents] if settings is not None else []
    days = args.days or DEFAULT_DAYS[args.name]
    if not 1 <= days <= 90:
        print("--days must be from 1 to 90", file=sys.stderr)
        return 2

    async def go() -> dict[str, object]:
        store = store_from_url(config.store_url)
        await store.open()
        try:
            reports = Reports(
                store,
                zone=zone,
                concurrency=lambda: round(sum(capacities) / len(capacities)) if capacities else 1,
            )
            result: dict[str, object] = await getattr(reports, args.name)(days)
            return result
        finally:
            await store.close()

    report = asyncio.run(go())
    if args.csv:
        sys.stdout.writelines(CSV[args.name](report))
    else:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0
