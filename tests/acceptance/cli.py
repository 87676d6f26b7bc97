"""Running `nckh` as a user does: the installed console script in a subprocess, configured only
by environment variables, or the same entry point inside the test process (much faster, for long
catalogues); and a dump of every table to prove what a command did (or did not) change.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

from sqlalchemy import MetaData, create_engine, select, text

from engine.cli.server import capture, captured


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


@dataclass(frozen=True)
class Ran:
    """What a command printed and returned, the same shape as `subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


def nckh_in_process(env: Mapping[str, str], *args: str) -> Ran:
    """Run `nckh ARGS` inside this process: `engine.cli.main.main` with `os.environ` replaced
    by `env` for the call, its stdout and stderr captured, its `SystemExit` turned into the exit
    code. Settings are read from `os.environ` by `engine.settings.load_settings`, so the command
    sees exactly what a subprocess given `env` would; a few subprocess cases prove both agree."""
    from engine.cli.main import main

    out, err = capture(), capture()
    code = 0
    # `tick` and `daemon` point the "nckh" logger at the stderr of their moment: put it back.
    logger = logging.getLogger("nckh")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    with patch.dict(os.environ, env, clear=True), \
            redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            logger.handlers[:] = saved[0]
            logger.setLevel(saved[1])
            logger.propagate = saved[2]
    return Ran(code, captured(out).decode("utf-8"), captured(err).decode("utf-8"))


def dump_tables(url: str, skip: tuple[str, ...] = ("refusal",),
                meta: MetaData | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but `skip`) of any database nckh supports, in primary-key order
    (all columns where a table has none), through SQLAlchemy. `meta`: the tables, when already
    reflected from a database of the same schema (reflecting is most of the cost)."""
    engine = create_engine(url)
    try:
        if meta is None:
            meta = MetaData()
            meta.reflect(engine)
        with engine.connect() as conn:
            out: dict[str, list[tuple[Any, ...]]] = {}
            for name in sorted(meta.tables):
                if name in skip:
                    continue
                table = meta.tables[name]
                order = list(table.primary_key.columns) or list(table.columns)
                out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
            return out
    finally:
        engine.dispose()


def refusals(url: str) -> list[tuple[Any, ...]]:
    """The audit rows of refused attempts, oldest first."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT task_id, event, actor, kind, message FROM refusal ORDER BY id"))]
    finally:
        engine.dispose()
