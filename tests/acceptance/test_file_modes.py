"""What nckh creates is private whatever the umask: directories 0700, files 0600.

The installed CLI runs under a permissive umask (the common 022, and 000): `init` creates the
data directory (and its missing parents) and the database, `sample load` queues e-mails, `tick`
writes them into the maildir, `report --output` writes a file. The daemon's -wal and -shm are
checked in tests/integration/test_daemon_logs.py, while a daemon has them open.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.cli import NCKH, cli_env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def with_umask(mask: int) -> Callable[[], None]:
    def set_umask() -> None:
        os.umask(mask)

    return set_umask


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_directories_are_0700_and_files_0600_whatever_the_umask(
        tmp_path: Path, umask: int) -> None:
    data = tmp_path / "srv" / "nckh" / "data"
    env = cli_env(data, "2025-04-15T09:00")

    def nckh(*args: str) -> str:
        result = subprocess.run([NCKH, *args], env=env, capture_output=True, text=True,
                                timeout=120, preexec_fn=with_umask(umask))
        assert result.returncode == 0, result.stderr
        return result.stdout

    nckh("init")
    nckh("sample", "load", "--year", "2025")
    nckh("tick")
    (tmp_path / "out").mkdir()
    report = tmp_path / "out" / "tonghop.csv"
    nckh("report", "compliance", "--year", "2025", "--format", "csv", "--output", str(report))

    for directory in (tmp_path / "srv", tmp_path / "srv" / "nckh", data, data / "maildir",
                      data / "maildir" / "tmp", data / "maildir" / "new",
                      data / "maildir" / "cur"):
        assert mode(directory) == 0o700, directory
    mails = sorted((data / "maildir" / "new").iterdir())
    assert mails, "tick wrote no e-mail"
    for path in [data / "nckh.db", report, *mails]:
        assert mode(path) == 0o600, path
    assert list((data / "maildir" / "tmp").iterdir()) == []


def test_an_existing_directory_keeps_the_mode_its_administrator_gave_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o750)  # e.g. StateDirectoryMode=0750 for a read-only group
    result = subprocess.run([NCKH, "init"], env=cli_env(data, "2025-04-15T09:00"),
                            capture_output=True, text=True, timeout=120,
                            preexec_fn=with_umask(0o022))
    assert result.returncode == 0, result.stderr
    assert (mode(data), mode(data / "nckh.db")) == (0o750, 0o600)
