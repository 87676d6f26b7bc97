"""`nckh mail …` and `nckh outbox …` as an operator runs them: the installed CLI, a subprocess."""

from __future__ import annotations

import email
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from engine.app import build
from storage.db import make_engine
from storage.outbox import OutboxMessage
from tests.acceptance.cli import Ran, nckh_in_process
from tests.conftest import make_settings
from tests.integration.mailfixtures import MAIL_ENV, province

NCKH = str(Path(sys.executable).with_name("nckh"))


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    app = build(make_settings(sqlite_url, tmp_path, **MAIL_ENV))
    province(app)
    app.close()
    yield {**os.environ, "NCKH_DATABASE_URL": sqlite_url, "NCKH_DATA_DIR": str(tmp_path),
           "NCKH_NOW": "2025-03-03T10:00", **MAIL_ENV}


def nckh(env: dict[str, str], *args: str) -> Ran:
    """The command run in this process (the console script's own tests are in
    tests/acceptance/test_cli_happy_path.py and the bad-input catalogue)."""
    return nckh_in_process(env, *args)


def snapshot(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM outbox ORDER BY id"))]
        rows += [tuple(r) for r in conn.execute(text("SELECT * FROM task_history ORDER BY id"))]
    engine.dispose()
    return rows


@pytest.mark.parametrize("args, message", [
    (["mail", "preview", "nope", "--task", "1"], "unknown notification kind 'nope'"),
    (["mail", "preview", "reminder", "--task", "999"], "unknown task: 999"),
    (["mail", "test", "--to", "not-an-address"], "invalid --to address 'not-an-address'"),
    (["outbox", "retry", "999"], "unknown outbox message: 999"),
    (["outbox", "retry", "1"], "outbox message 1 is pending"),
    (["outbox", "show", "42"], "unknown outbox message: 42"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
        env: dict[str, str], args: list[str], message: str) -> None:
    before = snapshot(env["NCKH_DATABASE_URL"])
    result = nckh(env, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert snapshot(env["NCKH_DATABASE_URL"]) == before


def test_a_missing_ca_file_stops_the_daemon_at_start_with_one_line(
        env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "nckh.toml"
    config.write_text('[mail]\nca_file = "/etc/nckh/no-such-ca.pem"\n', encoding="utf-8")
    bad = {**env, "NCKH_CONFIG": str(config), "NCKH_SMTP_HOST": "127.0.0.1"}
    before = snapshot(env["NCKH_DATABASE_URL"])
    for args in (["daemon"], ["tick"]):
        result = nckh(bad, *args)
        assert result.returncode == 2, result.stderr
        assert result.stderr == ("nckh: invalid [mail] ca_file = '/etc/nckh/no-such-ca.pem': "
                                 "No such file or directory\n")
    assert snapshot(env["NCKH_DATABASE_URL"]) == before


def test_a_broken_template_fails_mail_check_and_tick_before_anything_is_sent(
        env: dict[str, str], tmp_path: Path) -> None:
    overrides = tmp_path / "templates" / "vi"
    overrides.mkdir(parents=True)
    (overrides / "task_registered.txt").write_text("{{ task.title }\n", encoding="utf-8")
    config = tmp_path / "nckh.toml"
    config.write_text(f'[mail]\ntemplates_dir = "{tmp_path / "templates"}"\n', encoding="utf-8")
    broken = {**env, "NCKH_CONFIG": str(config)}
    before = snapshot(env["NCKH_DATABASE_URL"])
    result = nckh(broken, "mail", "check")
    assert result.returncode == 2
    assert "task_registered.txt:1" in result.stdout
    assert result.stderr.startswith("nckh: 1 template problem(s)")
    assert snapshot(env["NCKH_DATABASE_URL"]) == before
    # `nckh tick`: the scheduler's pass runs first and commits; the outbox pass refuses to send.
    tick = nckh(broken, "tick")
    assert tick.returncode == 2 and "task_registered.txt:1" in tick.stderr
    engine = make_engine(env["NCKH_DATABASE_URL"])
    with engine.connect() as conn:
        assert set(conn.execute(select(OutboxMessage.state)).scalars()) == {"pending"}
    engine.dispose()
    assert not (tmp_path / "maildir").exists()
    assert nckh(env, "mail", "check").returncode == 0


def test_preview_renders_without_queuing(env: dict[str, str], tmp_path: Path) -> None:
    before = snapshot(env["NCKH_DATABASE_URL"])
    html = tmp_path / "preview.html"
    result = nckh(env, "mail", "preview", "reminder", "--task", "1", "--html", str(html))
    assert result.returncode == 0, result.stderr
    assert ("Subject: [Sở Y tế] V/v nhắc hạn báo cáo kết quả xét duyệt đề cương của đề tài “"
            in result.stdout)
    assert "Kính gửi: ThS.BS Nguyễn Thị Hoa" in result.stdout
    assert "<html lang=\"vi\">" in html.read_text(encoding="utf-8")
    en = nckh(env, "mail", "preview", "accepted", "--task", "1", "--lang", "en")
    assert en.returncode == 0 and "Subject: [Sở Y tế] Acceptance result" in en.stdout
    assert snapshot(env["NCKH_DATABASE_URL"]) == before


def test_mail_test_writes_to_the_maildir_and_outbox_commands_show_and_retry(
        env: dict[str, str], tmp_path: Path) -> None:
    result = nckh(env, "mail", "test", "--to", "Admin@Example.vn")
    assert result.returncode == 0 and "admin@example.vn" in result.stdout
    (eml,) = (tmp_path / "maildir" / "new").glob("*-test.eml")
    assert email.message_from_bytes(eml.read_bytes())["To"] == "admin@example.vn"
    assert nckh(env, "tick").returncode == 0
    listing = nckh(env, "outbox", "list", "--state", "sent")
    assert "task_registered" in listing.stdout
    shown = nckh(env, "outbox", "show", "1")
    assert "message_id: <nckh.outbox.1." in shown.stdout and "Kính gửi:" in shown.stdout
    engine = make_engine(env["NCKH_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(OutboxMessage.__table__.update().values(state="dead", last_error="550 x"))
        dead = conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    assert nckh(env, "outbox", "retry", "--all-dead").stdout.startswith(f"{dead} message(s)")
    with engine.connect() as conn:
        assert set(conn.execute(select(OutboxMessage.state)).scalars()) == {"pending"}
    engine.dispose()
