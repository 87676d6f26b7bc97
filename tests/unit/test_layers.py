"""The layers point down only, and every SQL statement lives in storage/ (see
docs/architecture.md). Read from the source with `ast`: nothing is imported to check it.

    engine/         the API, the shells (CLI, daemon), the composition root: may use all below
    notifications/  the mail: may use storage/ and workflows/
    storage/        every SQL statement: may use workflows/
    workflows/      the pure core (definitions, decisions, calendar, errors): uses none of ours
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "workflows": set(),
    "storage": {"workflows"},
    "notifications": {"workflows", "storage"},
    "engine": {"workflows", "storage", "notifications"},
}
SQL_PACKAGES = ("sqlalchemy", "alembic", "psycopg")


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def imports(path: Path) -> list[tuple[str, int]]:
    """(module, line) of every import, except those under `if TYPE_CHECKING:` (types only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for child in node.body for n in ast.walk(child))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = [f"{p.relative_to(ROOT)}:{line}: {name}" for p in modules(package)
             for name, line in imports(p)
             if (top := name.split(".")[0]) in ALLOWED and top != package
             and top not in ALLOWED[package]]
    assert wrong == []


@pytest.mark.parametrize("package", ["engine", "notifications", "workflows"])
def test_no_sql_outside_storage(package: str) -> None:
    """Only storage/ talks to the database: no other package imports the database libraries
    (the names it needs for types come from `storage.db`)."""
    wrong = [f"{p.relative_to(ROOT)}:{line}: {name}" for p in modules(package)
             for name, line in imports(p) if name.split(".")[0] in SQL_PACKAGES]
    assert wrong == []


def test_the_engine_core_does_not_reach_into_its_shells() -> None:
    """The CLI is a shell over the engine's API: no other engine module imports it."""
    wrong = [f"{p.relative_to(ROOT)}:{line}: {name}" for p in modules("engine")
             if "cli" not in p.parts for name, line in imports(p)
             if name.startswith("engine.cli")]
    assert wrong == []


def test_a_test_module_imports_no_other_test_module() -> None:
    """Shared fixtures live in helper modules (conftest, mailfixtures, province…): importing a
    test module runs its collection-time code and couples two files' tests."""
    wrong = [f"{p.relative_to(ROOT)}:{line}: {name}" for p in modules("tests")
             for name, line in imports(p) if name.split(".")[-1].startswith("test_")]
    assert wrong == []


def test_the_walk_sees_every_import_but_those_for_types_only(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sqlalchemy\n"
                     "import engine.app\ndef f() -> None:\n    from storage import db\n",
                     encoding="utf-8")
    assert imports(probe) == [("typing", 1), ("engine.app", 4), ("storage", 6)]
