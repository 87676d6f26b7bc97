"""Row locks on the outbox (PostgreSQL): a dispatcher's group commit and its lease renewal update
the same rows from two connections at once; they must never deadlock.

Before, the group commit updated its rows one by one in the order the outcomes arrived while the
renewal went through them in another order: each could hold a row the other wanted next.
PostgreSQL then aborted one of them after a second (`deadlock detected`): a renewal lost, or a
group of sent messages left unrecorded — the pass failed, and those messages went out again once
their lease ran out (seen as duplicates in test_dispatcher_leases under load). Both now lock
their rows in id order before updating them.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, select, text

from storage.db import make_engine
from storage.outbox import OutboxMessage, claim_due, insert_mail, renew_claims, write_outcomes
from tests.conftest import _empty_pg

T0 = dt.datetime(2025, 3, 3, 2, 0, tzinfo=dt.UTC)
UNTIL = T0 + dt.timedelta(minutes=5)
OWNER = "a:1"
BOUND_S = 20.0


@pytest.fixture
def pg(pg_url: str) -> Iterator[str]:
    _empty_pg(pg_url)
    return pg_url  # type: ignore[return-value]


def claimed_rows(url: str, n: int) -> list[int]:
    engine = make_engine(url)
    with engine.begin() as conn:
        for i in range(n):
            insert_mail(conn, kind="test", dedupe_key=f"lock:{i}", task_id=None, lang="vi",
                        context={}, addressed_to=[f"u{i}@example.vn"], now=T0)
    with engine.begin() as conn:
        ids = claim_due(conn, now=T0, until=UNTIL, owner=OWNER, limit=n)
    engine.dispose()
    return ids


def lock(conn: Connection, row_id: int) -> None:
    conn.execute(select(OutboxMessage.id).where(OutboxMessage.id == row_id).with_for_update())


def waits_for_a_lock(admin: Connection, pid: int) -> bool:
    return admin.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                         {"p": pid}).scalar() == "Lock"


def in_a_thread(work: object) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.postgres
@pytest.mark.parametrize("outcome_order", ["descending", "ascending"])
def test_a_group_commit_and_a_renewal_on_the_same_rows_never_deadlock(
        pg: str, outcome_order: str) -> None:
    low, high = claimed_rows(pg, 2)
    ordered = [high, low] if outcome_order == "descending" else [low, high]
    engine = make_engine(pg)
    try:
        with engine.connect() as renewal, engine.connect() as admin:
            renewal_tx = renewal.begin()
            lock(renewal, low)  # the renewal has taken the first of the rows...

            def group_commit() -> None:
                with engine.begin() as conn:
                    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                    started.append(pid)
                    write_outcomes(conn, [], [
                        {"b_id": i, "b_state": "pending", "b_next": UNTIL, "b_error": "421 x",
                         "b_attempts": 1, "b_first": T0} for i in ordered], owner=OWNER)

            started: list[int] = []
            thread, errors = in_a_thread(group_commit)
            deadline = time.monotonic() + BOUND_S
            while not (started and waits_for_a_lock(admin, started[0])):
                assert time.monotonic() < deadline and thread.is_alive(), errors
                time.sleep(0.01)
            # ...and now wants the other while the group commit waits for the first.
            renew_claims(renewal, [low, high], owner=OWNER, until=UNTIL + dt.timedelta(1))
            renewal_tx.commit()
            thread.join(BOUND_S)
            assert not thread.is_alive() and errors == []
        with engine.connect() as conn:
            states = conn.execute(select(OutboxMessage.state, OutboxMessage.last_error)).all()
        assert sorted(states) == [("pending", "421 x")] * 2
    finally:
        engine.dispose()
