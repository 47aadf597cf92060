"""`frontdesk customers import FILE.csv|FILE.jsonl`: bulk upsert of CRM profiles.

The command is declared here; the import itself (file formats, progress, exit status) is
`customers_import.py`, imported when the command runs, not to build the parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `customers import` to the `frontdesk` command."""
    customers = commands.add_parser("customers", help="manage customer profiles")
    sub = customers.add_subparsers(dest="customers_command", required=True)
    command = sub.add_parser("import", help="upsert profiles from a .csv or .jsonl file")
    command.add_argument("file", help="a .csv (with a header row) or .jsonl file")
    command.add_argument("--config", default="config/frontdesk.yaml", help="the hub's config")
    command.set_defaults(run=_import_command)


def _import_command(args: argparse.Namespace) -> int:
    import asyncio

    from hub.config import load_config
    from hub.customers_import import import_file
    from hub.stores import store_from_url

    config = load_config(args.config)
    return asyncio.run(import_file(store_from_url(config.store_url), Path(args.file)))
