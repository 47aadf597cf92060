"""The `frontdesk` command.

Building the parser must stay cheap: operators run the command all day and the tests run it
as a subprocess. So each package's `register` only declares its commands' arguments, and
every command imports what it runs on when it runs (`serve` the whole hub, `dialogs` the
engine, numpy and jieba …); `tests/hub/test_cli_start.py` checks that the parser alone
imports none of it (docs/performance.md, "The command line starts fast").
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from dialogs.cli import register as _dialogs_commands
from dialogs.knowledge_cli import register as _knowledge_commands
from handoff.console.cli import register as _agents_commands
from handoff.reports.cli import register as _reports_commands
from hub.customers_cli import register as _customers_commands
from hub.errors import ConfigError

DEFAULT_CONFIG = "config/frontdesk.yaml"


def _serve(args: argparse.Namespace) -> int:
    import gc
    import secrets

    from aiohttp import web

    from hub.app import create_app
    from hub.config import load_config
    from hub.edge import handler_options
    from hub.logs import configure_logging
    from hub.loops import new_event_loop

    config = load_config(args.config)
    configure_logging(config.log_level, config.log_format)
    if not config.api_token:
        token = secrets.token_urlsafe(24)
        os.environ["FRONTDESK_API_TOKEN"] = token
        config = load_config(args.config)
        print(f"FRONTDESK_API_TOKEN was not set; this run's API token is: {token}", file=sys.stderr)
    url = f"http://{config.server.host}:{config.server.port}"
    if args.workers > 1:
        return _serve_workers(args, config.store_url, url)
    loop = new_event_loop()  # $FRONTDESK_EVENT_LOOP: asyncio (default) or uvloop
    app = create_app(config)
    # What start-up loaded (the NLU model, jieba's dictionary, templates …) lives as long
    # as the process: out of the collector's sight, so that each full collection stops
    # walking the hundred thousand and more objects that can never be garbage.
    gc.freeze()
    if not args.reuse_port:
        print(f"Frontdesk is serving on {url}  (Ctrl+C stops it)", file=sys.stderr, flush=True)
    web.run_app(
        app,
        host=config.server.host,
        port=config.server.port,
        print=None,
        shutdown_timeout=15,
        access_log=None,
        reuse_port=args.reuse_port or None,
        loop=loop,
        **handler_options(
            keepalive_timeout=config.server.keepalive_timeout,
            body_timeout=config.server.body_timeout,
        ),
    )
    return 0


def _serve_workers(args: argparse.Namespace, store_url: str, url: str) -> int:
    from hub.workers import Supervisor, check_shared_store

    check_shared_store(store_url, args.workers)
    # Each worker is `frontdesk serve` binding the same port with SO_REUSEPORT; the
    # environment (the API token just generated included) is theirs too.
    argv = [sys.executable, "-m", "hub", "serve", "--config", args.config, "--reuse-port"]
    print(
        f"Frontdesk is serving on {url} with {args.workers} workers  (Ctrl+C stops them)",
        file=sys.stderr,
        flush=True,
    )
    return Supervisor(argv, args.workers, env=os.environ).run()


def _workers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError(f"must be between 1 and 64 (got {count})")
    return count


def _check_config(args: argparse.Namespace) -> int:
    from aiohttp import web

    from hub.api import HUB
    from hub.app import create_app
    from hub.config import load_config

    config = load_config(args.path)
    # Building the whole app validates every section: channels, dialogs, hand-off, identity.
    app: web.Application = create_app(config)
    names = ", ".join(sorted(app[HUB].connectors)) or "none"
    print(f"{args.path}: OK (store {config.store_url}; channels: {names})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontdesk", description="Frontdesk conversation hub")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the hub")
    serve.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"config file (default {DEFAULT_CONFIG})"
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="hub processes sharing the port (SO_REUSEPORT); more than 1 needs a Redis store",
    )
    # Set by --workers on the processes it starts: bind the shared port.
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(run=_serve)

    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("path", nargs="?", default=DEFAULT_CONFIG)
    check.set_defaults(run=_check_config)

    for register in EXTRA_COMMANDS:
        register(commands)
    return parser


# Other packages' commands (dialogs, customers, agents) register here, explicitly.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _dialogs_commands,
    _knowledge_commands,
    _reports_commands,
    _customers_commands,
    _agents_commands,
]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as error:
        print(f"error: {error.located()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
