"""Several dispatchers on one PostgreSQL outbox, a lease shorter than a batch takes to send, a
slow server: every message arrives exactly once.

Each dispatcher is its own process running passes on the system clock every 0.2 s, as daemons
do. A batch of 300 over 4 connections to a server that holds every DATA for 130 ms takes about
10 s, longer than the 9 s lease: before leases ran from the claim and were renewed, a pass's
second batch was claimed with a lease already over, and the next pass of another dispatcher sent
it too. (A lease is renewed after a third of it, so a process starved of CPU for longer than two
thirds of it by the rest of the suite on two cores loses it and may send a message another
dispatcher took over. With 4 s that happened now and then; with 6 s it still did, 8 and 23
duplicates in 3,000, on a machine where the whole suite ran twice as slow; 9 s leaves 6 s.)
"""

from __future__ import annotations

import ast
import os
import sys
import time
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

# Five batches for three dispatchers: at least two of them claim a second batch in a pass, the
# case the lease used to miss. (It was 3,000, ten batches and 50 s, for the same case.)
N = 1500
DISPATCHERS = 3
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.postgres
def test_three_dispatchers_with_a_lease_shorter_than_a_batch_send_each_message_once(
        pg_url: str, tmp_path: Path) -> None:
    from tests.conftest import _empty_pg

    _empty_pg(pg_url)
    box = mailserver.Inbox(delay_s=0.13)
    controller = mailserver.start(box)
    config = tmp_path / "nckh.toml"
    config.write_text('[mail]\ndigest_weekday = "off"\nbatch_size = 300\nconcurrency = 4\n'
                      "lease_s = 9\n", encoding="utf-8")
    env = {"NCKH_SMTP_HOST": "127.0.0.1", "NCKH_SMTP_PORT": str(controller.port),
           "NCKH_CONFIG": str(config), **MAIL_ENV}
    app = build(make_settings(pg_url, tmp_path, **env), jobs=("outbox",))
    procs = []
    try:
        with app.engine.transaction() as s:
            for i in range(N):
                enqueue(s.connection(), kind="test", to=[f"user{i}@example.vn"], now=T0,
                        dedupe_key=f"lease:{i}")
        started = time.monotonic()
        for n in range(DISPATCHERS):
            with (tmp_path / f"worker{n}.log").open("wb") as log:
                procs.append(children.popen(
                    [sys.executable, "-m", "tests.integration.dispatch_worker", "now"],
                    cwd=ROOT, env={**os.environ, "NCKH_DATA_DIR": str(tmp_path),
                                   "NCKH_DATABASE_URL": pg_url, **env},
                    stdout=log, stderr=log))
        for proc in procs:
            assert proc.wait(timeout=240) == 0, (tmp_path / "worker0.log").read_text()
        took = time.monotonic() - started

        copies = Counter(box.message_ids())
        duplicates = sum(c - 1 for c in copies.values())
        with app.sessions() as s:
            unsent = s.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.state != "sent"))
            ids = set(s.scalars(select(OutboxMessage.message_id)))
        print(f"{N} messages, {DISPATCHERS} dispatchers, lease 9 s, {took:.1f} s: "
              f"{duplicates} duplicates")
        assert duplicates == 0
        assert unsent == 0 and set(copies) == ids and len(box.received) == N
        # Every dispatcher sent part of the mail (each prints its pass's counts last).
        sent = [ast.literal_eval((tmp_path / f"worker{n}.log").read_text().splitlines()[-1])
                .get("sent", 0) for n in range(DISPATCHERS)]
        assert sum(sent) == N and min(sent) > 0, sent
    finally:
        for proc in procs:
            children.kill(proc)
        controller.stop()
        app.close()
