"""What `frontdesk customers import FILE.csv|FILE.jsonl` does: bulk upsert of CRM profiles
(`customers_cli.py` declares the command; this module is imported when it runs).

Idempotent (customers are keyed by ``external_id``: importing twice changes nothing), with
a progress bar on stderr and one ``FILE:LINE: problem`` per bad line; good lines are
imported either way, and the exit status is 1 when any line was bad.

CSV: a header row; ``external_id`` is required; ``tags`` holds ``;``-separated tags;
``email``, ``phone``, ``telegram``, ``wechat`` hold one address each and ``identities``
``;``-separated ``kind:value`` identities; every other column is an attribute (an empty
cell leaves it unchanged). JSONL: one object per line,
``{"external_id": …, "attributes": {…}, "tags": […], "identities": […]}``.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from hub import jsonio
from hub.errors import InputError
from hub.ports import Backend
from hub.profile import crm_record, upsert_from_crm

IDENTITY_COLUMNS = ("email", "phone", "telegram", "wechat")
EXIT_BAD_LINES = 1
EXIT_UNREADABLE = 2


def _csv_records(handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or "external_id" not in reader.fieldnames:
        yield 1, "the header row must name an 'external_id' column"
        return
    for row in reader:
        line = reader.line_num
        if None in row:
            yield (
                line,
                f"has {len(reader.fieldnames) + len(row[None])} cells, the header has {len(reader.fieldnames)}",
            )
            continue
        record: dict[str, Any] = {"external_id": row.get("external_id", ""), "attributes": {}}
        identities = [i for i in (row.get("identities") or "").split(";") if i.strip()]
        for name, value in row.items():
            value = (value or "").strip()
            if name in ("external_id", "identities") or not value:
                continue
            if name == "tags":
                record["tags"] = [t.strip() for t in value.split(";") if t.strip()]
            elif name in IDENTITY_COLUMNS:
                identities.append(f"{name}:{value}")
            else:
                record["attributes"][name] = value
        record["identities"] = identities
        yield line, record


def _jsonl_records(handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            data = jsonio.loads(text, what="line")
        except InputError as error:  # the shared reader's limits, as for the API
            yield line, error.message
            continue
        yield line, data if isinstance(data, dict) else "a line must be a JSON object"


class Progress:
    """A one-line bar on stderr, redrawn at most ten times a second."""

    def __init__(self, total: int, out: TextIO) -> None:
        self.total = max(total, 1)
        self.out = out
        self._drawn = 0.0

    def update(self, done: int, errors: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._drawn < 0.1:
            return
        self._drawn = now
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        self.out.write(
            f"\r[{bar:<30}] {done}/{self.total} lines ({share:.0%}), {errors} with errors"
        )
        if final:
            self.out.write("\n")
        self.out.flush()


async def import_file(store: Backend, path: Path, *, err: TextIO | None = None) -> int:
    """Import every good line of `path` into `store` (opened and closed here)."""
    err = err or sys.stderr
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        print(f"error: {path}: expected a .csv or .jsonl file", file=err)
        return EXIT_UNREADABLE
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            total = sum(1 for _ in handle) - (1 if suffix == ".csv" else 0)
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: {path}: cannot read: {error}", file=err)
        return EXIT_UNREADABLE
    problems: list[str] = []
    created = updated = 0
    progress = Progress(total, err)
    await store.open()
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            records = _csv_records(handle) if suffix == ".csv" else _jsonl_records(handle)
            for done, (line, item) in enumerate(records, start=1):
                problem = item if isinstance(item, str) else None
                if isinstance(item, Mapping):
                    try:
                        result = await upsert_from_crm(store, crm_record(item), now=time.time())
                    except ValueError as error:
                        problem = str(error)
                    else:
                        created += result.created
                        updated += not result.created
                        if result.conflicts:
                            problem = (
                                "imported, but these identities belong to another customer: "
                                + ", ".join(result.conflicts)
                            )
                if problem:
                    problems.append(f"{path}:{line}: {problem}")
                progress.update(done, len(problems))
    finally:
        await store.close()
    progress.update(total, len(problems), final=True)
    for problem in problems:
        print(problem, file=err)
    print(
        f"{path}: {created} created, {updated} updated, {len(problems)} lines with errors",
        file=err,
    )
    return EXIT_BAD_LINES if problems else 0
