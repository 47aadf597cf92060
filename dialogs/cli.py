"""`frontdesk dialogs check|test|try`: the operator's tools for the YAML bot.

    frontdesk dialogs check [PATH]   validate; `file:line: message` per problem, exit 2 on errors
    frontdesk dialogs test [PATH]    run the conversation tests in PATH/tests/; exit 1 on failure
    frontdesk dialogs try [PATH]     chat with the bot in the terminal (no server)
    frontdesk dialogs evaluate [PATH] [--folds K] [--report FILE.md|FILE.html]
                                     cross-validate the intents, per language

PATH defaults to `config/dialogs`. Custom actions go to the rasa-sdk action server configured
in `config/frontdesk.yaml` (`bot.action_endpoint`, or `FRONTDESK_ACTION_ENDPOINT`), the same one
the hub uses; `--action-endpoint URL` overrides it and `--config FILE` reads another file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from dialogs.conversation_tests import TestResult, load_tests, report, run_test, test_files
from dialogs.engine import DialogEngine
from dialogs.yamlsource import DialogsInvalid, Problems
from hub.abc import Turn
from hub.config import load_config
from hub.errors import ConfigError
from hub.model import Conversation, ConversationStatus, Customer, Event, Inbound

DEFAULT_PATH = "config/dialogs"
DEFAULT_CONFIG = "config/frontdesk.yaml"
EXIT_FAILED = 1
EXIT_INVALID = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `dialogs check|test|try` to the `frontdesk` command."""
    dialogs = commands.add_parser("dialogs", help="check, test and try the YAML dialogs")
    sub = dialogs.add_subparsers(dest="dialogs_command", required=True)

    check = sub.add_parser("check", help="validate the dialog files")
    check.add_argument("path", nargs="?", default=DEFAULT_PATH)
    check.set_defaults(run=_check)

    for name, run, text in (
        ("test", _test, "run the YAML conversation tests"),
        ("try", _try, "chat with the bot in this terminal"),
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
            help=f"hub config file to read the action endpoint from (default {DEFAULT_CONFIG})",
        )
        command.set_defaults(run=run)
    evaluate = sub.add_parser(
        "evaluate", help="cross-validate the intent examples (per language) and report"
    )
    evaluate.add_argument("path", nargs="?", default=DEFAULT_PATH)
    evaluate.add_argument("--folds", type=int, default=5, help="k of the k-fold (default 5)")
    evaluate.add_argument(
        "--report", default="", help="also write the report to FILE (.html, else Markdown)"
    )
    evaluate.set_defaults(run=_evaluate)

    sub.choices["test"].add_argument(
        "--tests", default="", help="test file or folder (default PATH/tests)"
    )


def _load(path: str, action_endpoint: str = "") -> DialogEngine | None:
    try:
        return DialogEngine.from_path(path, action_endpoint=action_endpoint)
    except DialogsInvalid as error:
        for problem in error.problems:
            print(problem.located(), file=sys.stderr)
        print(f"{len(error.problems)} problem(s) found", file=sys.stderr)
        return None


def action_endpoint(args: argparse.Namespace) -> str | None:
    """The flag, else the hub config's `bot.action_endpoint` (with its environment override);
    None (reported) when an explicitly named config file cannot be read."""
    if args.action_endpoint:
        return str(args.action_endpoint)
    path = Path(args.config or DEFAULT_CONFIG)
    if not path.exists():
        if args.config:
            print(f"{path}: no such config file", file=sys.stderr)
            return None
        return os.environ.get("FRONTDESK_ACTION_ENDPOINT", "")
    try:
        return load_config(path).action_endpoint
    except ConfigError as error:
        print(f"{error.located()}", file=sys.stderr)
        return None


def _check(args: argparse.Namespace) -> int:
    engine = _load(args.path)
    if engine is None:
        return EXIT_INVALID
    print(f"{args.path}: OK ({engine.bot.summary()})")
    return 0


def _test(args: argparse.Namespace) -> int:
    endpoint = action_endpoint(args)
    if endpoint is None:
        return EXIT_INVALID
    engine = _load(args.path, endpoint)
    if engine is None:
        return EXIT_INVALID
    problems = Problems()
    files = test_files(Path(args.tests or args.path))
    tests = load_tests(files, problems)
    if problems:
        for problem in problems.items:
            print(problem.located(), file=sys.stderr)
        return EXIT_INVALID
    if not tests:
        print(f"no conversation tests found in {args.tests or args.path}", file=sys.stderr)
        return EXIT_FAILED

    async def run_all() -> list[TestResult]:
        try:
            return [await run_test(engine, t, number=n) for n, t in enumerate(tests, 1)]
        finally:
            await engine.stop()

    results = asyncio.run(run_all())
    print(report(results))
    if not endpoint and any(not r.passed for r in results):
        print(
            "note: no action endpoint is configured; tests of custom actions need "
            "bot.action_endpoint in the config, --action-endpoint URL or "
            "FRONTDESK_ACTION_ENDPOINT",
            file=sys.stderr,
        )
    return 0 if all(r.passed for r in results) else EXIT_FAILED


def _evaluate(args: argparse.Namespace) -> int:
    from dialogs.evaluation import evaluate, render_html, render_markdown
    from dialogs.training import bot_vocabulary

    engine = _load(args.path)
    if engine is None:
        return EXIT_INVALID
    if not 2 <= args.folds <= 20:
        print("--folds must be between 2 and 20", file=sys.stderr)
        return EXIT_INVALID
    bot = engine.bot
    result = evaluate(
        {name: intent.examples for name, intent in bot.intents.items()},
        languages=bot.settings.languages,
        folds=args.folds,
        word_vectors=bot.settings.word_vectors,
        vocabulary=bot_vocabulary(bot.intents.values()),
    )
    print(render_markdown(result), end="")
    if args.report:
        page = render_html(result) if args.report.endswith((".html", ".htm")) else None
        try:
            Path(args.report).write_text(page or render_markdown(result), encoding="utf-8")
        except OSError as error:
            print(f"cannot write {args.report}: {error.strerror}", file=sys.stderr)
            return EXIT_FAILED
        print(f"report written to {args.report}", file=sys.stderr)
    return 0


def _try(args: argparse.Namespace) -> int:
    endpoint = action_endpoint(args)
    if endpoint is None:
        return EXIT_INVALID
    engine = _load(args.path, endpoint)
    if engine is None:
        return EXIT_INVALID
    return asyncio.run(chat(engine, sys.stdin, sys.stdout))


async def chat(engine: DialogEngine, stdin: TextIO, stdout: TextIO) -> int:
    """A terminal conversation; a number picks one of the last buttons; Ctrl+D ends."""
    print(f"Chatting with {engine.bot.summary()}. Ctrl+D to quit.", file=stdout)
    customer = Customer(id="terminal", identities=("terminal:you",))
    state: dict[str, object] = {}
    status = ConversationStatus.BOT
    buttons: list[str] = []
    try:
        for seq, line in enumerate(_lines(stdin, stdout), 1):
            text = line.rstrip("\n")
            if text.strip().isdigit() and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1]
            if status != ConversationStatus.BOT:
                print("(a person has this conversation now; the bot stays silent)", file=stdout)
                continue
            conversation = Conversation(
                id="terminal",
                customer_id=customer.id,
                status=status,
                channel="terminal",
                address="you",
                state=state,
            )
            now = time.time()
            turn = Turn(
                conversation=conversation,
                customer=customer,
                event=Event(conversation_id="terminal", seq=seq, type="message.in", at=now),
                inbound=Inbound(channel="terminal", sender="you", message_id=str(seq), text=text),
                now=now,
            )
            result = await engine.handle(turn)
            state = dict(result.state or state)
            status = result.status or status
            buttons = []
            for reply in result.replies:
                print(f"bot> {reply.text}", file=stdout)
                for button in reply.buttons:
                    buttons.append(button.payload)
                    print(f"      [{len(buttons)}] {button.title}", file=stdout)
            for event in result.events:
                if event.type == "handoff.requested":
                    data = event.data
                    print(
                        f"(handed off: {data['reason']}, {data['priority']}, "
                        f"skill {data['skill'] or '-'})",
                        file=stdout,
                    )
    finally:
        await engine.stop()
    return 0


def _lines(stdin: TextIO, stdout: TextIO) -> Iterator[str]:
    while True:
        print("you> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            print(file=stdout)
            return
        yield line


def main(argv: list[str] | None = None) -> int:
    """`python -m dialogs.cli check|test|try` (same as `frontdesk dialogs ...`)."""
    parser = argparse.ArgumentParser(prog="frontdesk")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dialogs", *(sys.argv[1:] if argv is None else argv)])
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
