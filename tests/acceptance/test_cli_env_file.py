"""`nckh --env-file FILE …`: an admin command gets its secrets without them in its arguments."""

from __future__ import annotations

import os
from pathlib import Path

from tests.acceptance.cli import dump, nckh, nckh_in_process

NOW = "2025-04-15T09:00"


def bare_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("NCKH_")}, **extra}


def write_env(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "nckh.env"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def settings_file(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    return write_env(tmp_path, (
        "# what the service reads with EnvironmentFile=\n"
        f"NCKH_DATA_DIR={data}\n"
        f"NCKH_DATABASE_URL=sqlite:///{data / 'nckh.db'}\n"
        f"NCKH_NOW={NOW}\n"
        "NCKH_SMTP_PASSWORD=hunter2\n"))


def test_commands_read_their_settings_from_the_env_file_option_or_variable(
        tmp_path: Path) -> None:
    path = settings_file(tmp_path)
    created = nckh(bare_env(), "--env-file", str(path), "init")
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "data" / "nckh.db").is_file()
    added = nckh(bare_env(), "unit", "add", "A", "--name", "TTYT A", "--head-name", "Giám đốc",
                 "--head-email", "head.a@syt.example.vn", "--env-file", str(path))
    assert added.returncode == 0, added.stderr  # the option may stand anywhere
    listed = nckh(bare_env(NCKH_ENV_FILE=str(path)), "unit", "list")
    assert listed.returncode == 0 and "TTYT A" in listed.stdout
    assert "hunter2" not in listed.stdout + listed.stderr


def test_a_bad_env_file_is_one_line_exit_2_and_the_database_unchanged(tmp_path: Path) -> None:
    # The console script reads the file in the test above; these run its entry point in-process.
    nckh = nckh_in_process
    path = settings_file(tmp_path)
    assert nckh(bare_env(), "--env-file", str(path), "init").returncode == 0
    db = tmp_path / "data" / "nckh.db"
    before = dump(db)
    good = path.read_text(encoding="utf-8")
    cases = [
        (good + "PYTHONPATH=/tmp/evil\n", 0o600,
         f"nckh: env file {path}, line 6: only NCKH_* settings are read from an env file, "
         "not 'PYTHONPATH'\n"),
        (good, 0o644,
         f"nckh: env file {path} holds a password (NCKH_SMTP_PASSWORD) and every local user "
         f"may read it (mode 0644): chmod 600 {path}, or 640 with group nckh\n"),
    ]
    for text, mode, message in cases:
        write_env(tmp_path, text, mode)
        result = nckh(bare_env(), "--env-file", str(path), "unit", "add", "B", "--name", "TTYT B",
                      "--head-name", "Giám đốc", "--head-email", "head.b@syt.example.vn")
        assert (result.returncode, result.stderr) == (2, message)
        assert dump(db) == before
    missing = nckh(bare_env(), "--env-file", str(tmp_path / "nope.env"), "task", "list")
    assert (missing.returncode, missing.stderr) == (
        2, f"nckh: env file not found: {tmp_path / 'nope.env'}\n")
