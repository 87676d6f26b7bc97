"""Delivery into a maildir (`new/<name>.eml`) when no SMTP server is configured.

Each message is written to `tmp` and renamed into `new` (readers never see half a file). The
name is stable per outbox row, so delivering a row twice rewrites the same file: no duplicate.
Files are 0600 and the directories 0700 whatever the umask (the messages name people and tasks).
A write that fails (a full disk) removes its `tmp` file, and the row is deferred: the disk's
fault uses up no attempt. `clean_maildir_tmp` removes what a crash left in `tmp`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from notifications.outbox import Outcome
from notifications.transports.base import MaySend, Outgoing, Record, Stop, always, never
from storage.files import open_private, private_dir

log = logging.getLogger("nckh.mail")
# A maildir/tmp file older than this is abandoned (a write takes milliseconds); the maildir
# convention's 36 hours is for directories other programs also write into, which ours is not.
MAILDIR_TMP_MAX_AGE_S = 3600.0


def _describe(exc: OSError) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class MaildirTransport:
    """Writes `.eml` files; outcomes are recorded every `chunk` messages."""

    def __init__(self, maildir: Path, chunk: int = 100) -> None:
        self.maildir = maildir
        self.chunk = chunk

    def where(self, item: Outgoing) -> str:
        return f"maildir {self.maildir / 'new' / (item.name + '.eml')}"

    def deliver(self, items: Sequence[Outgoing], record: Record, stop: Stop = never,
                may_send: MaySend = always) -> None:
        maildir = self.maildir
        for sub in ("tmp", "new", "cur"):
            private_dir(maildir / sub)
        done: list[Outcome] = []
        for n, item in enumerate(items):
            if stop():
                done.extend(Outcome(rest.id, "released") for rest in items[n:])
                break
            if not may_send(item.id):
                done.append(Outcome(item.id, "lost"))
                continue
            tmp = maildir / "tmp" / f"{item.name}.eml"
            try:
                with os.fdopen(open_private(tmp), "wb") as fh:
                    fh.write(item.data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, maildir / "new" / f"{item.name}.eml")
                done.append(Outcome(item.id, "sent", item.note))
            except OSError as exc:  # the disk, not the message: no attempt used up
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
                done.append(Outcome(item.id, "deferred", f"maildir {maildir}: {_describe(exc)}"))
            if len(done) >= self.chunk:
                record(done)
                done = []
        if done:
            record(done)


def clean_maildir_tmp(maildir: Path, *, older_than_s: float = MAILDIR_TMP_MAX_AGE_S,
                      now_s: float | None = None) -> int:
    """Remove files left in `maildir/tmp` by a write that never finished (a crash, a full disk
    before this release); return how many. Only files older than `older_than_s`: a write in
    progress elsewhere (a `nckh tick` beside the daemon, several daemons sharing the data
    directory) takes milliseconds and is never touched. `now_s` is the wall clock (file times
    are wall-clock times, not the business clock)."""
    tmp = maildir / "tmp"
    if not tmp.is_dir():
        return 0
    now_s = time.time() if now_s is None else now_s
    removed = 0
    for entry in tmp.iterdir():
        try:
            if entry.is_file() and now_s - entry.stat().st_mtime > older_than_s:
                entry.unlink()
                removed += 1
        except OSError as exc:  # not ours to remove, or gone meanwhile: leave it, say so
            log.warning("cannot remove %s: %s", entry, _describe(exc))
    if removed:
        log.info("removed %d abandoned file(s) from %s", removed, tmp)
    return removed
