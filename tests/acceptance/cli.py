"""Running the installed `nckh` as a user does: a subprocess, configured only by environment
variables, and a dump of every table to prove what a command did (or did not) change."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any


def find_nckh() -> str:
    beside = shutil.which("nckh", path=str(Path(sys.executable).parent))
    found = beside or shutil.which("nckh")
    assert found, "the nckh console script is not installed (pip install -e .)"
    return found


NCKH = find_nckh()


def cli_env(data_dir: Path, now: str, **extra: str) -> dict[str, str]:
    """The caller's environment without any NCKH_ setting, plus the three the tests use."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NCKH_")}
    return {**base, "NCKH_DATA_DIR": str(data_dir),
            "NCKH_DATABASE_URL": f"sqlite:///{data_dir / 'nckh.db'}", "NCKH_NOW": now, **extra}


def nckh(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NCKH, *args], env=env, capture_output=True, text=True, timeout=120,
                          encoding="utf-8")


def dump(db: Path, skip: tuple[str, ...] = ("refusal",)) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but `skip`), in a stable order."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        return {name: conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
                for name in names if name not in skip}
    finally:
        conn.close()


def refusal_rows(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT task_id, event, actor, kind, message FROM refusal ORDER BY id").fetchall()
    finally:
        conn.close()


def copy_db(template: Path, into: Path) -> Path:
    """A private copy of a closed SQLite database (with its WAL, if one was left)."""
    into.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(template) + suffix)
        if src.exists():
            shutil.copy2(src, into / (template.name + suffix))
    return into / template.name
