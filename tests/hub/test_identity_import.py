"""`frontdesk customers import`: 10 000 lines, bad ones reported by line, idempotent."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from hub import cli
from hub.customers_cli import register
from tests.support import DEMO_CONFIG

BAD = {17: "bad-email", 4242: "", 9999: "wide"}


def write_csv(path: Path, lines: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["external_id", "email", "tier", "tags"])
        for n in range(1, lines + 1):
            kind = BAD.get(n + 1)  # +1: the header is line 1
            if kind == "bad-email":
                out.writerow([f"C{n}", "not-an-email", "gold", "vip"])
            elif kind == "":
                out.writerow(["", f"c{n}@example.com", "gold", ""])
            elif kind == "wide":
                out.writerow([f"C{n}", f"c{n}@example.com", "gold", "vip", "extra"])
            else:
                out.writerow([f"C{n}", f"c{n}@example.com", "gold" if n % 2 else "", "vip;b2b"])


def run(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    monkeypatch.setattr(cli, "EXTRA_COMMANDS", [register])
    monkeypatch.setenv("FRONTDESK_STORE_URL", f"sqlite:///{tmp_path}/import.db")
    return cli.main(["customers", "import", str(path), "--config", str(DEMO_CONFIG)])


def test_csv_import_of_ten_thousand_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.csv"
    write_csv(path, 10_000)
    assert run(path, monkeypatch, tmp_path) == 1
    err = capsys.readouterr().err
    assert "[##############################] 10000/10000 lines (100%), 3 with errors" in err
    assert f"{path}:17: field 'identities': 'not-an-email' is not an email address" in err
    assert f"{path}:4242: field 'external_id' must be 1–200 characters" in err
    assert f"{path}:9999: has 5 cells, the header has 4" in err
    assert "9997 created, 0 updated, 3 lines with errors" in err

    assert run(path, monkeypatch, tmp_path) == 1  # idempotent: the same file again
    assert "0 created, 9997 updated, 3 lines with errors" in capsys.readouterr().err

    rows = sqlite3.connect(tmp_path / "import.db").execute("SELECT data FROM customers").fetchall()
    assert len(rows) == 9997
    c3 = next(json.loads(r[0]) for r in rows if '"crm:C3"' in r[0])
    assert c3["identities"] == ["crm:C3", "email:c3@example.com"]
    assert c3["attributes"] == {"tier": "gold"} and c3["tags"] == ["vip", "b2b"]


def test_jsonl_import_reports_bad_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_text(
        json.dumps({"external_id": "J1", "attributes": {"language": "zh"}, "tags": ["vip"]})
        + "\n{oops\n"
        + json.dumps([1, 2])
        + "\n",
        encoding="utf-8",
    )
    assert run(path, monkeypatch, tmp_path) == 1
    err = capsys.readouterr().err
    assert f"{path}:2: line is not valid JSON" in err
    assert f"{path}:3: a line must be a JSON object" in err
    assert "1 created, 0 updated, 2 lines with errors" in err


def test_unknown_file_type_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "customers.xlsx"
    path.write_text("x", encoding="utf-8")
    assert run(path, monkeypatch, tmp_path) == 2
    assert "expected a .csv or .jsonl file" in capsys.readouterr().err
