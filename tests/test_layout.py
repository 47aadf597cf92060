"""The architecture's import rules, kept by a test (see DESIGN.md and STYLE.md).

- `hub` core never imports `connectors`, `dialogs` or `handoff`; only the wiring modules
  (`hub/app.py`, `hub/cli.py`) may.
- `connectors`, `dialogs` and `handoff` never import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "connectors", "dialogs", "handoff")
WIRING = {"hub/app.py", "hub/cli.py"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


def sources(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_follow_the_architecture(package: str) -> None:
    allowed = {"hub": {"hub"}}.get(package, {"hub", package})
    offenders = []
    for path in sources(package):
        relative = path.relative_to(REPO).as_posix()
        if relative in WIRING:
            continue
        extra = imported_packages(path) - allowed
        if extra:
            offenders.append(f"{relative} imports {sorted(extra)}")
    assert offenders == []


def test_every_package_has_sources() -> None:
    for package in ("hub", "connectors", "dialogs"):
        assert sources(package), package
