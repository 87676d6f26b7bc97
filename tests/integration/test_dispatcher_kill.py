"""The dispatcher killed with SIGKILL while sending 1,000 messages, then restarted.

Every message arrives; a message whose `250 OK` came before the kill but whose outcome was not
committed is sent again, with the same Message-ID, recipients and subject as its first copy.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.app import build
from notifications.outbox import enqueue
from storage.outbox import OutboxMessage
from tests.conftest import make_settings
from tests.integration import children, mailserver
from tests.integration.mailfixtures import MAIL_ENV, T0

N = 1000
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sigkill_mid_batch_then_restart_delivers_everything_duplicates_share_message_id(
        sqlite_url: str, tmp_path: Path) -> None:
    box = mailserver.Inbox(target=N // 4)
    controller = mailserver.start(box)
    config = tmp_path / "nckh.toml"
    config.write_text('[mail]\ndigest_weekday = "off"\nbatch_size = 100\n', encoding="utf-8")
    env = {"NCKH_DATA_DIR": str(tmp_path), "NCKH_DATABASE_URL": sqlite_url,
           "NCKH_SMTP_HOST": "127.0.0.1", "NCKH_SMTP_PORT": str(controller.port),
           "NCKH_CONFIG": str(config), **MAIL_ENV}
    app = build(make_settings(sqlite_url, tmp_path, **{k: v for k, v in env.items()
                                                         if k not in ("NCKH_DATA_DIR",
                                                                      "NCKH_DATABASE_URL")}),
                jobs=("outbox",))
    try:
        with app.engine.transaction() as s:
            for i in range(N):
                enqueue(s.connection(), kind="test", to=[f"user{i}@example.vn"], now=T0,
                        dedupe_key=f"kill:{i}")
        with (tmp_path / "worker.log").open("wb") as log:  # not a pipe: nobody reads it
            proc = children.popen(
                [sys.executable, "-m", "tests.integration.dispatch_worker", T0.isoformat()],
                cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log)
        try:
            assert box.reached.wait(timeout=120), "the dispatcher never got going"
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        with app.sessions() as s:
            unsent = s.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.state != "sent"))
        assert unsent, "killed too late: everything was already sent"

        # Restart after the lease of the killed process's claims has run out.
        after_lease = T0 + dt.timedelta(minutes=6)
        app.tick(after_lease)
        app.tick(after_lease + dt.timedelta(hours=2))  # anything a reclaim deferred

        with app.sessions() as s:
            rows = {r.message_id: r for r in s.scalars(select(OutboxMessage))}
        assert all(r.state == "sent" for r in rows.values())
        copies = Counter(box.message_ids())
        assert set(copies) == set(rows)  # every message arrived, nothing unknown did
        for received in box.received:
            row = rows[received.message_id]
            assert received.rcpt_tos == row.addressed_to
            assert received.message["Subject"] == row.subject
        duplicates = sum(c - 1 for c in copies.values())
        assert duplicates <= 100  # at most the outcomes not yet committed at the kill
    finally:
        controller.stop()
        app.close()
