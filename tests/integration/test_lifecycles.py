"""The outbox's and the timers' lifecycles, walked on SQLite and PostgreSQL: every declared move
is made by the function that owns it, and the database refuses any state that is not declared.

`storage.outbox.LIFECYCLE` and `storage.timers.TIMER_LIFECYCLE` are the tables; each move below
goes through the real storage function and the observed (before, after) is checked against the
table; at the end every entry of each table has been seen.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from engine.app import App, build
from notifications.outbox import Outcome, enqueue, record
from storage import outbox as stored
from storage import timers as timer_rows
from storage.outbox import LIFECYCLE, OutboxMessage
from storage.timers import TIMER_LIFECYCLE, Timer
from tests.conftest import make_settings
from tests.integration.mailfixtures import T0, province
from tests.scheduling import TOPIC_LADDER_TOML

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def lapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    # The topic's own ladder before 30/4 (reminders, then the head): enough timers to walk.
    config = tmp_path / "nckh.toml"
    config.write_text(TOPIC_LADDER_TOML, encoding="utf-8")
    application = build(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)), jobs=())
    yield application
    application.close()


class Walk:
    def __init__(self, app: App, table: dict[tuple[str, str], str], column: str) -> None:
        self.app, self.table, self.column, self.seen = app, table, column, set()

    def state(self, model: type, row_id: int) -> str:
        with self.app.db.connect() as conn:
            return str(conn.scalar(select(getattr(model, self.column))
                                   .where(model.id == row_id)))  # type: ignore[attr-defined]

    def move(self, model: type, row_id: int, do: object) -> None:
        before = self.state(model, row_id)
        assert callable(do)
        do()
        after = self.state(model, row_id)
        assert (before, after) in self.table, f"{before} -> {after} is not declared"
        self.seen.add((before, after))


def _record(app: App, outcomes: list[Outcome], now: dt.datetime, owner: str) -> None:
    with app.db.begin() as conn:
        record(conn, outcomes, now=now, base=MINUTE, cap=60 * MINUTE,
               give_up_after=dt.timedelta(hours=1), max_attempts=1, rng=random.Random(1),
               owner=owner)


def test_every_outbox_move_is_declared_and_every_declared_move_happens(lapp: App) -> None:
    walk = Walk(lapp, LIFECYCLE, "state")
    with lapp.engine.transaction() as s:
        ids = [enqueue(s.connection(), kind="test", to=[f"u{i}@example.vn"], now=T0,
                       dedupe_key=f"walk:{i}") for i in range(4)]
    assert all(i is not None for i in ids)
    a, b, c, d = (int(i) for i in ids if i is not None)

    def claim(at: dt.datetime, owner: str, lease: dt.timedelta = MINUTE) -> list[int]:
        with lapp.db.begin() as conn:
            return stored.claim_due(conn, now=at, until=at + lease, owner=owner, limit=10)

    walk.move(OutboxMessage, a, lambda: claim(T0, "one"))                     # pending -> sending
    walk.move(OutboxMessage, a, lambda: _record(lapp, [Outcome(a, "sent")], T0, "one"))
    walk.move(OutboxMessage, b, lambda: claim(T0, "one"))
    walk.move(OutboxMessage, b, lambda: _record(lapp, [Outcome(b, "retry", "421")], T0, "one"))
    later = T0 + 2 * MINUTE
    walk.move(OutboxMessage, b, lambda: claim(later, "one"))
    walk.move(OutboxMessage, b, lambda: claim(later + 2 * MINUTE, "two"))  # lease taken over
    walk.move(OutboxMessage, b, lambda: _record(lapp, [Outcome(b, "dead", "550")], later, "two"))
    walk.move(OutboxMessage, b, lambda: _revive(lapp, b, later))            # dead -> pending
    # A send that completed after its lease was taken over, the new holder's attempt failed:
    walk.move(OutboxMessage, c, lambda: claim(T0, "one"))
    walk.move(OutboxMessage, c, lambda: claim(T0 + 2 * MINUTE, "two"))
    walk.move(OutboxMessage, c, lambda: _record(lapp, [Outcome(c, "retry", "421")], T0, "two"))
    walk.move(OutboxMessage, c, lambda: _record(lapp, [Outcome(c, "sent")], T0, "one"))
    walk.move(OutboxMessage, d, lambda: claim(T0, "one"))
    walk.move(OutboxMessage, d, lambda: claim(T0 + 2 * MINUTE, "two"))
    walk.move(OutboxMessage, d, lambda: _record(lapp, [Outcome(d, "dead", "550")], T0, "two"))
    walk.move(OutboxMessage, d, lambda: _record(lapp, [Outcome(d, "sent")], T0, "one"))
    # A notice for a letter: fanned out into its readers' lines when first claimed.
    province(lapp)
    with lapp.engine.transaction() as s:
        e = enqueue(s.connection(), kind="quota_not_met", now=T0, dedupe_key="walk:quota",
                    context={"unit_id": 1, "quota": {"year": 2025}})
    assert e is not None
    owner = lapp.dispatcher.owner
    walk.move(OutboxMessage, e, lambda: claim(T0, owner))
    walk.move(OutboxMessage, e, lambda: lapp.dispatcher._prepare([e]))   # sending -> bundled
    assert walk.seen == set(LIFECYCLE)


def _revive(app: App, row_id: int, at: dt.datetime) -> None:
    with app.db.begin() as conn:
        assert stored.revive_dead(conn, row_id, now=at) == 1


def test_every_timer_move_is_declared_and_every_declared_move_happens(lapp: App) -> None:
    walk = Walk(lapp, TIMER_LIFECYCLE, "status")
    task = province(lapp)  # its review deadline plants reminders, a notice and escalations
    with lapp.db.connect() as conn:
        timers = list(conn.scalars(select(Timer.id).where(Timer.task_id == task)
                                   .order_by(Timer.id)))
    fired, skipped = timers[0], timers[1]
    owner = "walk"
    with lapp.db.begin() as conn:
        conn.execute(update(Timer).where(Timer.id.in_([fired, skipped]))
                     .values(claimed_by=owner))

    def take(timer_id: int, then_skip: bool) -> None:
        with lapp.db.begin() as conn:
            due = timer_rows.take_due_timer(conn, timer_id, owner=owner, now=T0)
            assert due is not None
            if then_skip:
                timer_rows.skip_timer(conn, timer_id, "test")

    walk.move(Timer, fired, lambda: take(fired, False))
    with lapp.db.begin() as conn:  # the skip path marks, then skips, in one transaction
        due = timer_rows.take_due_timer(conn, skipped, owner=owner, now=T0)
        assert due is not None
    walk.move(Timer, skipped, lambda: _skip(lapp, skipped))
    walk.move(Timer, timers[2], lambda: lapp.engine.fire(
        task, "approve_outline", actor_email="pnvy@syt.example.vn", now=T0))  # deadline closed
    assert walk.seen == set(TIMER_LIFECYCLE)


def _skip(app: App, timer_id: int) -> None:
    with app.db.begin() as conn:
        timer_rows.skip_timer(conn, timer_id, "deadline closed")


@pytest.mark.parametrize(("table", "column", "value"), [
    ("outbox", "state", "lost"), ("timer", "status", "done"), ("timer", "kind", "nudge")])
def test_the_database_refuses_a_state_no_lifecycle_declares(
        lapp: App, table: str, column: str, value: str) -> None:
    province(lapp)
    with lapp.db.connect() as conn:
        assert conn.scalar(text(f"SELECT count(*) FROM {table}")), f"no {table} row to change"
    with pytest.raises(IntegrityError), lapp.db.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": value})
