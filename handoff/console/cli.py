"""`frontdesk agents add|set|list|disable|enable|reset-password|token`: the people who
answer and steer conversations — their console accounts and routing profiles.

Passwords are read from the terminal without echo, or from standard input with
`--password-stdin` (for scripts), or generated and printed once with `--generate`.
This module only declares them: what they do is `cli_run.py`, imported when one runs.
"""

from __future__ import annotations

import argparse

from handoff.console.roles import LANGUAGES, Role

DEFAULT_CONFIG = "config/frontdesk.yaml"
TOKEN_LIFETIME_DAYS = 365


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `agents` command to the `frontdesk` command line."""
    agents = commands.add_parser("agents", help="manage console accounts")
    agents.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"config file (default {DEFAULT_CONFIG})"
    )
    agents.set_defaults(run=_run)
    verbs = agents.add_subparsers(dest="verb", required=True)

    add = verbs.add_parser("add", help="create an account")
    add.add_argument("id", help="account id; also the agent id in config/handoff.yaml")
    add.add_argument("--name", default="", help="display name (default: the id)")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.AGENT.value)
    add.add_argument("--language", choices=LANGUAGES, default="en", help="console language")
    _profile_options(add)
    _password_options(add)

    edit = verbs.add_parser("set", help="change who an agent is (name, role, routing profile)")
    edit.add_argument("id")
    edit.add_argument("--name", default="", help="display name")
    edit.add_argument("--role", choices=[r.value for r in Role], default="")
    _profile_options(edit)

    verbs.add_parser("list", help="show every account")

    disable = verbs.add_parser("disable", help="stop an account (and log it out everywhere)")
    disable.add_argument("id")

    enable = verbs.add_parser("enable", help="let a disabled account log in again")
    enable.add_argument("id")

    reset = verbs.add_parser("reset-password", help="set a new password (logs out everywhere)")
    reset.add_argument("id")
    _password_options(reset)

    token = verbs.add_parser("token", help="issue an API token for an integration")
    token.add_argument("id", help="the account the token acts as")
    token.add_argument("--label", default="", help="what the token is for")
    token.add_argument("--days", type=int, default=TOKEN_LIFETIME_DAYS, help="lifetime")


def _profile_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("routing (default: handoff.yaml's entry for this id)")
    group.add_argument("--skills", type=_words, help="comma-separated, e.g. billing,hardware")
    group.add_argument("--languages", type=_languages, help="comma-separated: en, zh")
    group.add_argument("--capacity", type=int, help="conversations at once (1-100)")
    group.add_argument("--team", help="team name")


def _words(text: str) -> tuple[str, ...]:
    return tuple(sorted({w.strip() for w in text.split(",") if w.strip()}))


def _languages(text: str) -> tuple[str, ...]:
    languages = _words(text)
    if not languages or not set(languages) <= set(LANGUAGES):
        raise argparse.ArgumentTypeError(
            f"must be a comma-separated list of {', '.join(LANGUAGES)}"
        )
    return languages


def _password_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    group.add_argument("--generate", action="store_true", help="generate one and print it")


def _run(args: argparse.Namespace) -> int:
    # Imported now that a verb runs: the account stores (and argon2, the hub's config …)
    # are not needed to build the parser, `frontdesk --help` included.
    from handoff.console.cli_run import run

    return run(args)
