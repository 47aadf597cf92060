"""`frontdesk dialogs check|test|try`: the operator's tools for the YAML bot.

    frontdesk dialogs check [PATH]   validate; `file:line: message` per problem, exit 2 on errors
    frontdesk dialogs test [PATH]    run the conversation tests in PATH/tests/; exit 1 on failure
    frontdesk dialogs try [PATH]     chat with the bot in the terminal (no server)
    frontdesk dialogs evaluate [PATH] [--folds K] [--report FILE.md|FILE.html]
                                     cross-validate the intents, per language

PATH defaults to `config/dialogs`. Custom actions go to the rasa-sdk action server configured
in `config/frontdesk.yaml` (`bot.action_endpoint`, or `FRONTDESK_ACTION_ENDPOINT`), the same one
the hub uses; `--action-endpoint URL` overrides it and `--config FILE` reads another file.
`test` and `try` answer from the same knowledge base as the hub (`bot.knowledge_path`, or
`FRONTDESK_KNOWLEDGE_PATH`; `--knowledge PATH` overrides it, `--knowledge ""` runs without).
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_PATH = "config/dialogs"
DEFAULT_CONFIG = "config/frontdesk.yaml"
EXIT_FAILED = 1
EXIT_INVALID = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `dialogs check|test|try` to the `frontdesk` command."""
    dialogs = commands.add_parser("dialogs", help="check, test and try the YAML dialogs")
    dialogs.set_defaults(run=_run)
    sub = dialogs.add_subparsers(dest="dialogs_command", required=True)

    check = sub.add_parser("check", help="validate the dialog files")
    check.add_argument("path", nargs="?", default=DEFAULT_PATH)

    for name, text in (
        ("test", "run the YAML conversation tests"),
        ("try", "chat with the bot in this terminal"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("path", nargs="?", default=DEFAULT_PATH)
        command.add_argument(
            "--action-endpoint",
            default="",
            help="rasa-sdk action server webhook URL (default: bot.action_endpoint of --config)",
        )
        command.add_argument(
            "--config",
            default="",
            help=f"hub config file to read the action endpoint and knowledge base from (default {DEFAULT_CONFIG})",
        )
        command.add_argument(
            "--knowledge",
            default=None,
            help='knowledge-base folder (default: bot.knowledge_path of --config; "" for none)',
        )
    evaluate = sub.add_parser(
        "evaluate", help="cross-validate the intent examples (per language) and report"
    )
    evaluate.add_argument("path", nargs="?", default=DEFAULT_PATH)
    evaluate.add_argument("--folds", type=int, default=5, help="k of the k-fold (default 5)")
    evaluate.add_argument(
        "--report", default="", help="also write the report to FILE (.html, else Markdown)"
    )

    sub.choices["test"].add_argument(
        "--tests", default="", help="test file or folder (default PATH/tests)"
    )


def _run(args: argparse.Namespace) -> int:
    # Imported now that a command runs: the dialog engine (numpy, jieba, the NLU …) is not
    # needed to build the parser, `frontdesk --help` included.
    from dialogs.cli_run import COMMANDS

    return COMMANDS[args.dialogs_command](args)


def main(argv: list[str] | None = None) -> int:
    """`python -m dialogs.cli check|test|try` (same as `frontdesk dialogs ...`)."""
    parser = argparse.ArgumentParser(prog="frontdesk")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dialogs", *(sys.argv[1:] if argv is None else argv)])
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
