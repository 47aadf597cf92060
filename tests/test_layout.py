"""The architecture's import rules, kept by a test (see DESIGN.md and STYLE.md).

- `hub` core never imports `connectors`, `dialogs` or `handoff`; only the wiring modules
  (`hub/app.py`, `hub/cli.py`) may.
- `connectors`, `dialogs` and `handoff` never import each other.
- Only the hand-off's composition root (`handoff/install.py`) imports the concrete engine;
  every other part, the REST routes and the console included, reads it through a narrow
  view (`handoff/views.py`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "connectors", "dialogs", "handoff")
WIRING = {"hub/app.py", "hub/cli.py"}
ENGINE = "handoff.engine"
ENGINE_ROOT = {"handoff/install.py", "handoff/engine.py"}


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


def imports_module(path: Path, module: str) -> bool:
    """Whether `path` imports `module` (`import a.b`, `from a.b import x`, `from a import b`)."""
    parent, _, name = module.rpartition(".")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name == module for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == module:
                return True
            if node.module == parent and any(a.name == name for a in node.names):
                return True
    return False


def test_only_the_composition_root_imports_the_hand_off_engine() -> None:
    offenders = [
        relative
        for path in sources("handoff")
        if (relative := path.relative_to(REPO).as_posix()) not in ENGINE_ROOT
        and imports_module(path, ENGINE)
    ]
    assert offenders == []
