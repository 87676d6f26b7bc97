"""The maildir transport: a failed write leaves no partial file; abandoned tmp files are cleaned.

Faults are real where the system can make them (the target name taken by a directory); a full
disk cannot be made on demand here, so `os.fsync` is made to fail with ENOSPC, as it does when the
disk fills during the write.
"""

from __future__ import annotations

import errno
import os
import subprocess
import time
from pathlib import Path

import pytest

from notifications.outbox import Outcome
from notifications.transports.base import Outgoing
from notifications.transports.maildir import MaildirTransport, clean_maildir_tmp
from tests.acceptance.cli import NCKH, cli_env

HOUR = 3600.0


def item(n: int) -> Outgoing:
    return Outgoing(id=n, name=f"nckh-{n}", sender="nckh@soyte.vn", recipients=("a@b.vn",),
                    data=b"Subject: test\r\n\r\n" + b"x" * 10_000)


def deliver(maildir: Path, *items: Outgoing) -> list[Outcome]:
    outcomes: list[Outcome] = []
    MaildirTransport(maildir).deliver(list(items), outcomes.extend)
    return outcomes


def test_a_write_that_fails_on_a_full_disk_leaves_no_partial_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    maildir = tmp_path / "maildir"
    real_fsync = os.fsync

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    [outcome] = deliver(maildir, item(1))
    assert (outcome.id, outcome.state) == (1, "deferred")  # the disk: no attempt used
    assert "No space left on device" in (outcome.error or "")
    assert list((maildir / "tmp").iterdir()) == [] and list((maildir / "new").iterdir()) == []

    monkeypatch.setattr(os, "fsync", real_fsync)  # space again: the retry delivers it whole
    assert [o.state for o in deliver(maildir, item(1))] == ["sent"]
    assert (maildir / "new" / "nckh-1.eml").read_bytes() == item(1).data


def test_a_rename_that_fails_removes_its_tmp_file_and_the_others_are_delivered(
        tmp_path: Path) -> None:
    maildir = tmp_path / "maildir"
    (maildir / "new" / "nckh-2.eml").mkdir(parents=True)  # the target name is taken
    outcomes = deliver(maildir, item(1), item(2), item(3))
    assert [(o.id, o.state) for o in outcomes] == [(1, "sent"), (2, "deferred"), (3, "sent")]
    assert list((maildir / "tmp").iterdir()) == []
    assert sorted(p.name for p in (maildir / "new").iterdir()) == [
        "nckh-1.eml", "nckh-2.eml", "nckh-3.eml"]
    assert (maildir / "new" / "nckh-2.eml").is_dir()


def plant(maildir: Path, name: str, age_s: float, now_s: float) -> Path:
    path = maildir / "tmp" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"Subject: half a mess")
    os.utime(path, (now_s - age_s, now_s - age_s))
    return path


def test_files_abandoned_in_tmp_for_over_an_hour_are_removed_and_fresh_ones_kept(
        tmp_path: Path) -> None:
    maildir = tmp_path / "maildir"
    now_s = time.time()
    old = plant(maildir, "nckh-7.eml", 2 * HOUR, now_s)
    fresh = plant(maildir, "nckh-8.eml", 60, now_s)  # a write in progress in another process
    (maildir / "tmp" / "somebody's-dir").mkdir()
    assert clean_maildir_tmp(maildir, now_s=now_s) == 1
    assert not old.exists() and fresh.exists() and (maildir / "tmp" / "somebody's-dir").is_dir()
    assert clean_maildir_tmp(tmp_path / "no-maildir-yet") == 0


def test_nckh_tick_cleans_maildir_tmp_when_it_starts(tmp_path: Path) -> None:
    env = cli_env(tmp_path, "2025-04-15T09:00")
    assert subprocess.run([NCKH, "init"], env=env, capture_output=True, timeout=120
                          ).returncode == 0
    now_s = time.time()
    old = plant(tmp_path / "maildir", "nckh-1.eml", 2 * HOUR, now_s)
    fresh = plant(tmp_path / "maildir", "nckh-2.eml", 0, now_s)
    result = subprocess.run([NCKH, "tick"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not old.exists() and fresh.exists()
