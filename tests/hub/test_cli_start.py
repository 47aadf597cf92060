"""`frontdesk` parses its command line without loading what the commands run on.

Operators run the command all day and many tests run it as a subprocess; before the dialog
engine, numpy, jieba, aiohttp, Redis's client … were imported to build the parser, and
`frontdesk --help` took over a second. Registering a command now declares its arguments only,
and a command's implementation is imported when it runs (`hub/cli.py`, docs/performance.md
"The command line starts fast"). Checked by what a fresh interpreter has imported, not by time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli import build_parser

REPO = Path(__file__).resolve().parents[2]

# What the commands run on, and what building the parser used to import.
HEAVY = (
    "asyncio",
    "aiohttp",
    "redis",
    "numpy",
    "jieba",
    "jinja2",
    "argon2",
    "yaml",
    "hub.config",
    "hub.stores",
    "dialogs.engine",
    "dialogs.knowledge",
    "handoff.api",
    "handoff.console.accounts",
)

# The interpreter runs `main(argv)` as `frontdesk` would, its output kept out of the way,
# then prints the names of the modules it has imported.
PROBE = """
import contextlib, io, json, sys
from hub.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def run_cli(*argv: str) -> tuple[object, set[str]]:
    """`frontdesk ARGV` in a fresh interpreter: (its exit code, the modules it imported)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    return result["code"], set(result["modules"])


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("sevre",),  # a typo
        ("serve", "--workers", "0"),  # refused by the parser
        ("dialogs", "check", "--help"),
        ("knowledge", "search", "--help"),
        ("reports", "nope"),
        ("customers", "import", "--help"),
        ("agents", "add", "--help"),
    ],
    ids=" ".join,
)
def test_the_parser_alone_imports_none_of_the_commands_libraries(argv: tuple[str, ...]) -> None:
    code, modules = run_cli(*argv)
    assert code in (0, 2)  # help shown, or the usage error: the parser's own exits
    assert sorted(modules & set(HEAVY)) == []


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_declared_command_has_its_implementation() -> None:
    # `dialogs` and `agents` declare their commands by name and look the implementation up
    # by that name when one runs: the two lists must not drift apart.
    from dialogs.cli_run import COMMANDS
    from handoff.console.cli_run import VERBS

    commands = subcommands(build_parser())
    assert set(subcommands(commands["dialogs"])) == set(COMMANDS)
    assert set(subcommands(commands["agents"])) == set(VERBS)
