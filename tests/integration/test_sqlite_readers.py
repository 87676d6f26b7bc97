"""Reads never wait for SQLite's write lock; a write that waits too long says so in one line.

A second connection (the stdlib driver, as an `sqlite3` shell or a long daemon pass would) holds
SQLite's write lock with an uncommitted change while nckh reads. Each read must come back, with
the last committed data, while that transaction is still open. No timing is asserted: a read that
took the lock would fail after the busy timeout instead of returning.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from sqlalchemy import select, text, update

import storage.db
from engine.app import App, build
from engine.cli import main as cli_main
from engine.reports.build import make_report
from engine.scheduling.status import calendar_list, status
from notifications.preview import preview
from storage.db import transaction
from storage.faults import BUSY_ADVICE
from storage.migrate import ensure_current
from storage.models import Unit
from tests.acceptance.cli import NCKH, cli_env
from tests.conftest import _empty_pg, local, make_settings
from tests.scheduling import small_province
from workflows.errors import StorageError

NOW = local(2025, 4, 15, 9)
TITLE = "Khảo sát tăng huyết áp"
# The notice and the office's line (unit_task v6: the unit's report reminds before 30/4).
PENDING_TIMERS = 2


def seeded(app: App) -> int:
    small_province(app, local(2025, 1, 2))
    return app.engine.create_task(unit_code="A", level="unit", title=TITLE,
                                  pi_email="pi@a.example.vn", pi_name="BS. Lan", now=NOW)


@pytest.fixture
def sqlite_app(sqlite_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(sqlite_url, tmp_path))
    yield app
    app.close()


def db_file(url: str) -> str:
    return url.removeprefix("sqlite:///")


class Writer:
    """Another connection holding SQLite's write lock with an uncommitted change."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=0)
        self.closed = False

    def hold(self, task_id: int) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE task SET title = 'đang sửa' WHERE id = ?", (task_id,))

    @property
    def holding(self) -> bool:
        return self.conn.in_transaction

    def close(self) -> None:
        if self.closed:
            return
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()
        self.closed = True


@pytest.fixture
def writer(sqlite_url: str) -> Iterator[Writer]:
    w = Writer(db_file(sqlite_url))
    yield w
    w.close()


def test_every_read_of_the_engine_and_the_cli_returns_while_a_writer_holds_the_lock(
        sqlite_app: App, writer: Writer) -> None:
    task_id = seeded(sqlite_app)
    engine = sqlite_app.engine
    writer.hold(task_id)

    assert [r["title"] for r in engine.list_tasks(now=NOW)] == [TITLE]
    assert engine.task_detail(task_id, now=NOW)["title"] == TITLE
    assert [u["code"] for u in engine.list_units()] == ["A", "B", "C"]
    assert "pi@a.example.vn" in [p["email"] for p in engine.list_people()]
    assert engine.allowed_events(task_id)
    ensure_current(sqlite_app.db)  # every command's schema check
    assert status(sqlite_app, NOW)["timers"]["pending"] == PENDING_TIMERS
    assert calendar_list(sqlite_app, NOW)
    assert make_report(engine, "compliance", 2025, today=NOW.date()).total["registered"] == 1
    dispatcher = sqlite_app.dispatcher
    assert preview(dispatcher, "task_registered", task_id, "vi", NOW)[2].subject  # type: ignore[arg-type]
    assert writer.holding

    writer.conn.execute("COMMIT")  # the writer was never disturbed, and its change now shows
    assert [r["title"] for r in engine.list_tasks(now=NOW)] == ["đang sửa"]


@pytest.mark.parametrize("args", [["task", "list"], ["task", "show", "1"], ["status"],
                                  ["outbox", "list"], ["report", "compliance", "--year", "2025"]])
def test_the_cli_lists_and_shows_while_a_writer_holds_the_lock(
        sqlite_url: str, tmp_path: Path, writer: Writer, args: list[str]) -> None:
    app = build(make_settings(sqlite_url, tmp_path))
    task_id = seeded(app)
    app.close()
    writer.hold(task_id)
    env = cli_env(tmp_path, "2025-04-15T09:00", NCKH_DATABASE_URL=sqlite_url)
    result = subprocess.run([NCKH, *args], env=env, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    if args[0] == "task":
        assert "Khảo sát tăng" in result.stdout and "đang sửa" not in result.stdout
    assert writer.holding


def test_a_write_that_waits_out_the_busy_timeout_is_one_line_with_advice(
        sqlite_url: str, tmp_path: Path, writer: Writer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_S", 0.2)  # not 15 s in a test
    app = build(make_settings(sqlite_url, tmp_path))
    try:
        task_id = seeded(app)
        writer.hold(task_id)
        from engine.directory import UnitInput

        with pytest.raises(StorageError) as caught:
            app.engine.add_unit(UnitInput(code="D", name="Trung tâm Y tế D", head_name="Giám đốc",
                                          head_email="head.d@syt.example.vn"), now=NOW)
        assert str(caught.value) == BUSY_ADVICE and "\n" not in BUSY_ADVICE
        assert "15 s" in BUSY_ADVICE and "PostgreSQL" in BUSY_ADVICE
        # The outbox's own transactions (storage.db.transaction) say the same.
        with (pytest.raises(StorageError, match=r"^the SQLite database is busy"),
              transaction(app.sessions) as s):
            s.execute(update(Unit).values(name="x"))
    finally:
        app.close()
    writer.close()
    check = sqlite3.connect(db_file(sqlite_url))
    assert [r[0] for r in check.execute("SELECT code FROM unit ORDER BY code")] == ["A", "B", "C"]
    check.close()


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        url: str, *args: str) -> tuple[int, str]:
    """The real `nckh` entry point in this process (so the busy timeout can be shortened)."""
    for key in [k for k in os.environ if k.startswith("NCKH_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("NCKH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NCKH_DATABASE_URL", url)
    monkeypatch.setenv("NCKH_NOW", "2025-04-15T09:00")
    try:
        cli_main.main(list(args))
        code = 0
    except SystemExit as exited:
        code = int(exited.code or 0)
    return code, capsys.readouterr().err


@click.command("raw-write")
def raw_write() -> None:
    """A command that writes without the engine's conversion (as a plug-in could)."""
    from engine.cli.context import Ctx

    app = click.get_current_context().find_object(Ctx).app()  # type: ignore[union-attr]
    with app.db.begin() as conn:
        conn.execute(text("UPDATE unit SET name = 'x'"))


def test_the_cli_says_busy_in_one_line_exit_1_wherever_the_error_escapes(
        sqlite_url: str, tmp_path: Path, writer: Writer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    app = build(make_settings(sqlite_url, tmp_path))
    task_id = seeded(app)
    app.close()
    writer.hold(task_id)
    add = ("unit", "add", "D", "--name", "TTYT D", "--head-name", "Giám đốc",
           "--head-email", "head.d@syt.example.vn")
    assert cli(monkeypatch, capsys, tmp_path, sqlite_url, *add) == (1, f"nckh: {BUSY_ADVICE}\n")
    monkeypatch.setitem(cli_main.COMMANDS, "raw-write",
                        (__name__, "raw_write", "test: a raw SQLAlchemy write"))
    assert cli(monkeypatch, capsys, tmp_path, sqlite_url, "raw-write") == (
        1, f"nckh: {BUSY_ADVICE}\n")
    code, err = cli(monkeypatch, capsys, tmp_path, sqlite_url, "task", "list")
    assert (code, err) == (0, "")
    assert writer.holding


@pytest.mark.postgres
def test_on_postgresql_a_read_path_cannot_write(pg_url: str, tmp_path: Path) -> None:
    """SQLite's deferred transaction would take the lock at its first write; PostgreSQL's READ
    ONLY transaction refuses it, so a write slipped into a read path is caught by the tests."""
    _empty_pg(pg_url)
    app = build(make_settings(pg_url, tmp_path))
    seeded(app)
    with (pytest.raises(Exception, match="read-only transaction"),
          app.engine.transaction(read_only=True) as s):
        s.execute(update(Unit).values(name="x"))
    with app.engine.transaction(read_only=True) as s:
        assert s.scalars(select(Unit.name).order_by(Unit.code)).first() == "Trung tâm Y tế A"
    app.close()


def test_every_read_works_on_both_databases(app: App) -> None:
    task_id = seeded(app)
    engine = app.engine
    assert [r["title"] for r in engine.list_tasks(now=NOW)] == [TITLE]
    assert engine.task_detail(task_id, now=NOW + dt.timedelta(days=1))["title"] == TITLE
    assert engine.list_units() and engine.list_people() and engine.allowed_events(task_id)
    assert status(app, NOW)["timers"]["pending"] == PENDING_TIMERS and calendar_list(app, NOW)
    assert make_report(engine, "compliance", 2025, today=NOW.date()).total["registered"] == 1
    dispatcher = app.dispatcher
    assert preview(dispatcher, "task_registered", task_id, "vi", NOW)[2].subject  # type: ignore[arg-type]
