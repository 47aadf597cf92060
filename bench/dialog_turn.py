"""What one turn of the demo bot costs the dialog engine, without the hub around it.

`DialogEngine.handle` on the demo bot (`config/dialogs`), each line the first message of its
conversation, CPU time per turn (`time.process_time`, so a busy machine disturbs it little):

- **repeated**: the five questions of the web chat benchmark (`bench/webchat.py`), asked in
  turn, as customers repeat FAQ wording;
- **varied**: the lines of `bench/data/frontdesk-bilingual` (English and Chinese, in scope and
  out of it), each asked once: no line is seen twice, so nothing can be answered from memory.

    .venv/bin/python bench/dialog_turn.py
    .venv/bin/python bench/dialog_turn.py --baseline ../frontdesk-before --rounds 5

With `--baseline PATH`, a second worker runs the same turns with another checkout's code, the
two alternating round by round; the medians and their ratio are printed (the ratio is the
figure that holds across machines). The last stdout line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data" / "frontdesk-bilingual"
REPEATED_TURNS = 2_000


def varied_lines() -> list[str]:
    lines: list[str] = []
    for name in ("test_en", "test_zh", "oos_en", "oos_zh"):
        with (DATA / f"{name}.tsv").open(encoding="utf-8", newline="") as file:
            lines.extend(row["text"] for row in csv.DictReader(file, delimiter="\t"))
    return lines


# ----------------------------------------------------------------------------- the worker
async def worker() -> None:
    """Load the bot of the checkout on `sys.path`, then run the turns asked on stdin
    (`repeated N` or `varied FROM TO`), answering each with its CPU seconds per turn."""
    from bench.webchat import QUESTIONS
    from dialogs.engine import DialogEngine
    from hub.abc import Turn
    from hub.model import Conversation, ConversationStatus, Customer, Event, Inbound

    engine = DialogEngine.from_path(Path.cwd() / "config" / "dialogs")
    customer = Customer(id="cus-1", identities=("webchat:v1",))
    lines = varied_lines()

    async def turn(n: int, text: str) -> None:
        conversation = Conversation(
            id=f"conv-{n}",
            customer_id=customer.id,
            status=ConversationStatus.BOT,
            channel="webchat",
            address="v1",
        )
        now = 1_800_000_000.0 + n
        await engine.handle(
            Turn(
                conversation=conversation,
                customer=customer,
                event=Event(conversation_id=conversation.id, seq=1, type="message.in", at=now),
                inbound=Inbound(channel="webchat", sender="v1", message_id=str(n), text=text),
                now=now,
            )
        )

    for n, question in enumerate(QUESTIONS * 20):  # warm: imports, jieba's dictionary
        await turn(n, question)
    print("ready", flush=True)
    for command in sys.stdin:
        kind, *numbers = command.split()
        texts = (
            [QUESTIONS[n % len(QUESTIONS)] for n in range(int(numbers[0]))]
            if kind == "repeated"
            else lines[int(numbers[0]) : int(numbers[1])]
        )
        started = time.process_time()
        for n, text in enumerate(texts):
            await turn(n, text)
        print((time.process_time() - started) / len(texts), flush=True)


# ----------------------------------------------------------------------------- the driver
class Worker:
    def __init__(self, repo: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            cwd=repo,
            env={**os.environ, "PYTHONPATH": str(repo)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ask_line("")  # waits for "ready"

    def ask_line(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        if command:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if not answer:
            raise SystemExit(f"the worker for {command!r} stopped")
        return answer

    def cpu_per_turn(self, command: str) -> float:
        return float(self.ask_line(command))

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def main(args: argparse.Namespace) -> None:
    workers = {"this tree": Worker(REPO)}
    if args.baseline is not None:
        workers["baseline"] = Worker(args.baseline.resolve())
    lines = len(varied_lines())
    per_round = lines // args.rounds
    runs: dict[tuple[str, str], list[float]] = {}
    try:
        for round_ in range(args.rounds):
            # Each round asks lines no round asked before (every worker the same ones).
            varied = f"varied {round_ * per_round} {(round_ + 1) * per_round}"
            for name, worker_ in workers.items():
                for kind, command in (
                    ("repeated", f"repeated {REPEATED_TURNS}"),
                    ("varied", varied),
                ):
                    runs.setdefault((name, kind), []).append(worker_.cpu_per_turn(command))
            print(f"round {round_ + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    finally:
        for worker_ in workers.values():
            worker_.close()
    figures: dict[str, Any] = {}
    print("| workload | this tree, µs CPU per turn | baseline | baseline ÷ this tree |")
    print("|---|---:|---:|---:|")
    for kind in ("repeated", "varied"):
        ours = statistics.median(runs[("this tree", kind)]) * 1e6
        figures[kind] = {"this_tree_us": round(ours, 1)}
        row = f"| {kind} | {ours:,.0f} |"
        if ("baseline", kind) in runs:
            theirs = statistics.median(runs[("baseline", kind)]) * 1e6
            figures[kind] |= {"baseline_us": round(theirs, 1), "ratio": round(theirs / ours, 2)}
            row += f" {theirs:,.0f} | {theirs / ours:.2f}× |"
        else:
            row += " | |"
        print(row)
    print(json.dumps(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another Frontdesk checkout, alternated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        asyncio.run(worker())
    else:
        main(arguments)
