"""CSV that a spreadsheet opens as text: every report can be downloaded as rows.

A cell starting with `=`, `+`, `-`, `@` (or a tab or carriage return) would be run as a
formula by Excel, LibreOffice and Google Sheets ("CSV injection"); such cells are prefixed
with an apostrophe, which spreadsheets show as text and hide. Rows are produced one at a time
so a long export streams instead of being built in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, defused if a spreadsheet would read it as a formula."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a number is never a formula, negative ones included
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header, then each row, as CSV text lines (UTF-8 with a BOM first, for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Sequence[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(cell) for cell in cells])
        return buffer.getvalue()

    yield "\ufeff" + line(header)
    for row in rows:
        yield line(row)
