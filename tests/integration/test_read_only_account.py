"""An account that may read the database but not write it: it lists; it cannot change.

PostgreSQL: a role granted `pg_read_all_data` only. SQLite: the account is real, not simulated
by a flag. Run as root (as here), the database, its directory and its -wal/-shm belong to
`nobody` (0644, directory 0755), and `nckh` runs as root *without* the capabilities that let root
ignore file modes (CAP_DAC_OVERRIDE and friends, dropped from the bounding set before exec): the
kernel then refuses it every write, as it would refuse an operator's own account. Run as another
user, the files are made read-only (0444, directory 0555).
"""

from __future__ import annotations

import ctypes
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.app import build
from storage.faults import READ_ONLY_ADVICE, READ_ONLY_DIRECTORY_ADVICE
from tests.acceptance.cli import NCKH, cli_env, dump, nckh_in_process
from tests.conftest import PG_ADMIN_URL, local, make_settings, require_pg
from tests.scheduling import small_province

ROOT = os.geteuid() == 0
NOBODY = 65534
PR_CAPBSET_DROP = 24
# CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
ROOT_FILE_CAPS = (0, 1, 2, 3)


def _drop_root_file_caps() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in ROOT_FILE_CAPS:
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def make_read_only(data_dir: Path) -> None:
    """Give the database files away (root) or take their write bits (another user)."""
    for path in [data_dir, *data_dir.iterdir()]:
        if ROOT:
            os.chown(path, NOBODY, NOBODY)
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        else:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "data"
    url = f"sqlite:///{home / 'nckh.db'}"
    app = build(make_settings(url, home))
    small_province(app, local(2025, 1, 2))
    app.engine.create_task(unit_code="A", level="unit", title="Khảo sát tăng huyết áp",
                           pi_email="pi@a.example.vn", pi_name="BS. Lan", now=local(2025, 4, 15))
    app.close()
    yield home
    if not ROOT:  # let pytest remove it
        for path in [home, *home.iterdir()]:
            os.chmod(path, 0o700 if path.is_dir() else 0o600)


def as_reader(data_dir: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    env = cli_env(data_dir, "2025-04-15T09:00")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NCKH, *args], env=env, capture_output=True, text=True,
                              timeout=120, preexec_fn=_drop_root_file_caps if ROOT else None)

    return run


def test_a_read_only_account_lists_while_the_daemon_has_the_database_open(
        data_dir: Path) -> None:
    db = data_dir / "nckh.db"
    daemon = sqlite3.connect(db, isolation_level=None)  # the daemon: -wal and -shm exist
    daemon.execute("BEGIN IMMEDIATE")  # and it is writing just now
    daemon.execute("UPDATE unit SET name = 'đang sửa' WHERE code = 'B'")
    make_read_only(data_dir)
    nckh = as_reader(data_dir)

    listed = nckh("task", "list")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert "Khảo sát tăng huyết áp" in listed.stdout
    shown = nckh("task", "show", "1")
    assert shown.returncode == 0 and "Khảo sát tăng huyết áp" in shown.stdout
    assert nckh("unit", "list").returncode == 0
    assert nckh("status").returncode == 0

    daemon.execute("ROLLBACK")
    before = dump(db)
    refused = nckh("unit", "add", "D", "--name", "TTYT D", "--head-name", "Giám đốc",
                   "--head-email", "head.d@syt.example.vn")
    assert (refused.returncode, refused.stderr) == (1, f"nckh: {READ_ONLY_ADVICE}\n")
    assert dump(db) == before
    daemon.close()


def test_with_no_process_holding_the_database_a_read_only_account_is_told_why_in_one_line(
        data_dir: Path) -> None:
    """SQLite must create -wal and -shm to read a WAL database nobody has open, in a directory
    this account may not write: it cannot read, and says so (see docs/operators.md)."""
    make_read_only(data_dir)
    assert sorted(p.name for p in data_dir.iterdir()) == ["nckh.db"]
    result = as_reader(data_dir)("task", "list")
    assert (result.returncode, result.stderr) == (1, f"nckh: {READ_ONLY_DIRECTORY_ADVICE}\n")
    assert sorted(p.name for p in data_dir.iterdir()) == ["nckh.db"]


def test_a_read_only_account_reads_a_database_left_in_rollback_journal_mode(
        data_dir: Path) -> None:
    """nckh switches a database to WAL only when it may write it: a copy in the rollback-journal
    mode (no -wal/-shm needed) is read as it is."""
    conn = sqlite3.connect(data_dir / "nckh.db")
    assert conn.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    conn.close()
    make_read_only(data_dir)
    result = as_reader(data_dir)("task", "list")
    assert (result.returncode, result.stderr) == (0, "")
    assert "Khảo sát tăng huyết áp" in result.stdout
    conn = sqlite3.connect(data_dir / "nckh.db")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()


def test_a_read_only_uri_opens_the_file_as_given(data_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///file:{data_dir / 'nckh.db'}?mode=ro&uri=true"
    app = build(make_settings(url, data_dir))
    try:
        assert [r["title"] for r in app.engine.list_tasks(now=local(2025, 4, 15))] == [
            "Khảo sát tăng huyết áp"]
    finally:
        app.close()
    assert not (tmp_path / "file:").exists()  # the URI is not taken for a directory to create


@pytest.mark.postgres
def test_a_postgresql_role_that_may_only_read_lists_and_is_refused_a_write_in_one_line(
        tmp_path: Path) -> None:
    require_pg()
    name = f"nckh_reader_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    server = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgres@", f"{name}@")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
            conn.execute(text(f'GRANT pg_read_all_data TO "{name}"'))
        owner_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        app = build(make_settings(owner_url, tmp_path))
        small_province(app, local(2025, 1, 2))
        app.engine.create_task(unit_code="A", level="unit", title="Khảo sát tăng huyết áp",
                               pi_email="pi@a.example.vn", pi_name="BS. Lan",
                               now=local(2025, 4, 15))
        app.close()
        env = cli_env(tmp_path, "2025-04-15T09:00",
                      NCKH_DATABASE_URL=server.replace("+psycopg", "") + "/" + name)
        # In-process (`engine.cli.main.main`, as the console script runs it): the role, not
        # the process, is what is read-only here.
        for args in (["task", "list"], ["task", "show", "1"], ["status"], ["outbox", "list"],
                     ["report", "compliance", "--year", "2025"]):
            result = nckh_in_process(env, *args)
            assert (result.returncode, result.stderr) == (0, ""), args
        refused = nckh_in_process(env, "unit", "add", "D", "--name", "TTYT D", "--head-name",
                                  "Giám đốc", "--head-email", "head.d@syt.example.vn")
        assert (refused.returncode, refused.stderr) == (
            1, "nckh: database error: permission denied for table unit\n")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()
