"""Deadline timers: planted with the transition that opens a deadline, fired exactly once.

Design note
-----------
Invariant: a timer row's effects (the domain event it publishes, hence the outbox rows the
notifications component writes, and any automatic workflow event) commit in the *same
transaction* as the conditional update `done_at = now WHERE id = :id AND done_at IS NULL`. Only one
transaction can win that update (the row lock serialises them; the loser re-reads `done_at` and
matches nothing), so a timer's effects happen at most once; and because a timer stays pending
until that transaction commits, they happen at least once.

How each step survives a crash:
1. Planting: timers are inserted by the DeadlineOpened subscriber inside the engine's transition
   transaction; a crash rolls back both. Leaving the state (DeadlineClosed) cancels the pending
   ones in the same way, so a task that moved on never hears from the old deadline.
2. Claiming: a short transaction marks up to `batch` due rows with our id and a lease that runs
   from the moment of the claim (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so daemons take
   disjoint rows; SQLite runs one writer at a time under BEGIN IMMEDIATE). While the batch is
   fired a keeper renews the lease, and a group is fired only while its lease is known to hold
   (`storage.leases`); the mark re-checks the claim, so a timer whose lease lapsed is left to the
   daemon that took it over. A crash after claiming only delays those rows until the lease runs
   out; another daemon then claims them. A claim is a hint, never a proof of work: exactly-once
   comes from the conditional mark below.
3. Firing: a few timers per transaction (`GROUP`), each marked done with its own effects, as
   above; a group that fails is redone one timer per transaction. The timer first re-checks
   the task: a deadline that closed or a task in another state makes it `skipped`, with the
   reason recorded. A crash before commit leaves the timers pending; after, done.
4. Repeating escalations plant their next occurrence in the firing transaction, dated from the
   schedule's first slot still in the future: after downtime each overdue timer fires once, not
   once per missed period, and the ladder continues from now.
Automatic events lock the task row before the timer row (the order a transition takes), so a
person's transition and the scheduler never deadlock; the loser gets an ordinary conflict.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, or_, select, update
from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.events import (
    DeadlineClosed,
    DeadlineOpened,
    DeadlinePassed,
    DomainEvent,
    Escalated,
    ReminderDue,
)
from engine.scheduling.config import SchedulerConfig
from engine.service import Engine
from storage.base import UTCDateTime
from storage.leases import LeaseKeeper
from storage.models import Deadline, Task
from storage.timers import Timer, renew_timer_claims
from workflows.clock import RunningClock
from workflows.errors import InputError, NckhError, Refused
from workflows.model import EscalationStep
from workflows.timerplan import Planner

log = logging.getLogger("nckh.timers")
GROUP = 10  # timers per firing transaction (see `_fire_chunk`)


@dataclass
class TimerService:
    engine: Engine
    config: SchedulerConfig
    worker: str
    monotonic: Callable[[], float] = time.monotonic

    @property
    def planner(self) -> Planner:
        return Planner(self.config.calendar, self.config.send_at, self.engine.tz)

    # --- planting and cancelling (inside the engine's transaction) ---------------------------
    def on_event(self, s: Session, event: DomainEvent) -> None:
        if isinstance(event, DeadlineOpened):
            self._plant(s, event)
        elif isinstance(event, DeadlineClosed):
            s.execute(update(Timer).where(
                Timer.deadline_id == event.deadline_id, Timer.done_at.is_(None)).values(
                status="cancelled", done_at=event.at, claimed_by=None, lease_until=None,
                reason=f"deadline closed ({event.outcome}) when the task left {event.state}"))

    def _plant(self, s: Session, event: DeadlineOpened) -> None:
        task = s.get(Task, event.task_id)
        assert task is not None
        wf = self.engine.workflow_of(s, task)
        policy = self.config.policy_override(wf.name, event.state) or wf.timers_for(event.state)
        opened_on = event.at.astimezone(self.engine.tz).date()
        legal = self.config.calendar.legal_end(event.due_on)
        rows = [{
            "task_id": event.task_id, "deadline_id": event.deadline_id, "state": event.state,
            "kind": p.kind, "slot": p.slot, "occurrence": p.occurrence, "due_on": event.due_on,
            "legal_end": legal, "fire_at": p.fire_at, "days": p.days, "to_role": p.to_role,
            "repeat_every": p.repeat_every, "event": p.event, "status": "pending",
            "created_at": event.at,
        } for p in self.planner.plan(event.due_on, policy, opened_on)]
        if rows:
            s.execute(insert(Timer), rows)

    # --- the sweep ---------------------------------------------------------------------------
    def sweep(self, now: dt.datetime, stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
        """Fire every timer due at `now`, batch by batch, until none is left (or `stop()`).

        On PostgreSQL `workers` threads fire a claimed batch concurrently, each timer still in
        its own transaction: their commits share WAL flushes. SQLite has one writer: one thread.
        """
        counts = {"fired": 0, "skipped": 0, "lost": 0}
        if not self.config.in_business_hours(now.astimezone(self.engine.tz)):
            return counts
        workers = self.config.workers if self.db.dialect.name == "postgresql" else 1
        pool = ThreadPoolExecutor(workers, thread_name_prefix="timer") if workers > 1 else None
        clock = RunningClock(now, self.monotonic)  # leases run from each claim, not the pass
        lease = dt.timedelta(seconds=self.config.lease_s)
        try:
            while not stop():
                claimed_at = clock.now()
                ids = self.claim(claimed_at)
                keeper = LeaseKeeper(ids, claimed_at + lease, lease=lease, renew=self._renew,
                                     now=clock.now, what="timers")
                # Contiguous runs, not interleaved ids: a task's timers were planted together,
                # so they sit side by side and stay on one worker instead of every worker
                # queueing for the same task's row lock.
                size = max(1, -(-len(ids) // workers))
                chunks = [ids[i:i + size] for i in range(0, len(ids), size)] or [[]]
                fire = partial(self._fire_chunk, now=now, stop=stop, keeper=keeper)
                with keeper:
                    for done in (pool.map(fire, chunks) if pool else map(fire, chunks)):
                        for outcome in done:
                            counts[outcome] = counts.get(outcome, 0) + 1
                if len(ids) < self.config.batch:
                    break
        finally:
            if pool:
                pool.shutdown(wait=True)
        counts.pop("released", None)
        return counts

    def _renew(self, ids: list[int], until: dt.datetime) -> list[int]:
        with self.db.begin() as conn:
            return renew_timer_claims(conn, ids, owner=self.worker, until=until)

    @property
    def db(self) -> DbEngine:
        bind = self.engine.sessions.kw["bind"]
        assert isinstance(bind, DbEngine)
        return bind

    def _fire_chunk(self, ids: list[int], *, now: dt.datetime, stop: Callable[[], bool],
                    keeper: LeaseKeeper) -> list[str]:
        """Fire timers over one connection (no pool checkout per timer), `GROUP` per
        transaction: each keeps its effects in the transaction that marks it done, and a group
        shares one BEGIN/COMMIT. A group that fails is rolled back whole and its timers are
        fired one transaction each, so one bad timer delays none of the others."""
        outcomes: list[str] = []
        with self.db.connect() as conn:
            for i in range(0, len(ids), GROUP):
                if stop():
                    self._release(conn, ids[i:])
                    return [*outcomes, *["released"] * (len(ids) - i)]
                group = [t for t in ids[i:i + GROUP] if keeper.owns(t)]
                outcomes.extend("lost" for _ in range(len(ids[i:i + GROUP]) - len(group)))
                try:
                    outcomes.extend(self._fire_group(conn, group, now))
                except (NckhError, SQLAlchemyError):
                    conn.rollback()
                    outcomes.extend(self._fire_alone(conn, timer_id, now) for timer_id in group)
                keeper.done(group)
        return outcomes

    def _fire_alone(self, conn: Connection, timer_id: int, now: dt.datetime) -> str:
        try:
            return self._fire_group(conn, [timer_id], now)[0]
        except (NckhError, SQLAlchemyError) as exc:  # stays pending until the lease ends
            conn.rollback()
            log.warning("timer failed", extra={"fields": {
                "timer_id": timer_id, "error": str(exc).splitlines()[0], "worker": self.worker}})
            return "failed"

    def claim(self, now: dt.datetime) -> list[int]:
        lease = now + dt.timedelta(seconds=self.config.lease_s)
        with self.engine.transaction() as s:
            due = (select(Timer.id)
                   .where(Timer.done_at.is_(None), Timer.fire_at <= now,
                          or_(Timer.lease_until.is_(None), Timer.lease_until < now))
                   .order_by(Timer.fire_at).limit(self.config.batch))
            if s.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            claimed = s.execute(update(Timer).where(Timer.id.in_(due.scalar_subquery()))
                                .values(claimed_by=self.worker, lease_until=lease)
                                .returning(Timer.task_id, Timer.id)).all()
            # By task: a task's timers stay together (one worker, one group), and every group
            # locks its tasks in ascending order, so two daemons' groups cannot deadlock.
            return [timer_id for _, timer_id in sorted(claimed)]

    def _release(self, conn: Connection, ids: list[int]) -> None:
        """Hand back claimed timers we will not fire (shutdown): others need not wait. Over the
        connection in hand: with every pooled connection held by a sweep thread, asking the pool
        for another would wait out its timeout."""
        conn.execute(update(Timer).where(Timer.id.in_(ids), Timer.done_at.is_(None),
                                         Timer.claimed_by == self.worker)
                     .values(claimed_by=None, lease_until=None))
        conn.commit()

    def _fire_group(self, bind: Connection, ids: list[int], now: dt.datetime) -> list[str]:
        done: list[tuple[int, str, dict[str, Any] | None, str | None]] = []
        with Session(bind=bind, expire_on_commit=False) as s, s.begin():
            conn = s.connection()  # through the session, so its commit is the connection's
            for timer_id in ids:
                # Lock order: the task, then the timer, as a transition takes them (an
                # automatic event updates the task; a transition cancels timers).
                check = conn.execute(_LOCK_CHECK, {"tid": timer_id}).first()
                row = None if check is None else conn.execute(
                    _MARK, {"tid": timer_id, "now": now, "me": self.worker}).first()
                if check is None or row is None:
                    done.append((timer_id, "lost", None, None))
                    continue
                m = dict(row._mapping)
                outcome, reason = self._act(s, m, check, now)
                if outcome == "skipped":
                    conn.execute(_SKIP, {"tid": timer_id, "reason": reason})
                done.append((timer_id, outcome, m, reason))
        for timer_id, outcome, facts, reason in done:  # committed: now it may be said
            log.debug("timer %s", outcome, extra={"fields": {
                "timer_id": timer_id, "kind": facts["kind"] if facts else None,
                "task_id": facts["task_id"] if facts else None, "worker": self.worker,
                "reason": reason}})
        return [outcome for _, outcome, _, _ in done]

    def _act(self, s: Session, m: dict[str, Any], check: Row[str, dt.datetime | None, str | None],
             now: dt.datetime) -> tuple[str, str | None]:
        if check.closed_at is not None:
            return "skipped", f"deadline closed ({check.outcome}) before the timer fired"
        if check.task_state != m["state"]:
            return "skipped", f"task is in {check.task_state}, no longer in {m['state']}"
        tid, task, did, state, due = (m["id"], m["task_id"], m["deadline_id"], m["state"],
                                      m["due_on"])
        kind = m["kind"]
        event: DomainEvent
        if kind == "reminder":
            event = ReminderDue(task, did, state, due, m["days"], now, tid)
        elif kind == "deadline":
            event = DeadlinePassed(task, did, state, due, now, tid)
        elif kind == "escalation":
            legal: dt.date = m["legal_end"]
            overdue = (now.astimezone(self.engine.tz).date() - legal).days
            event = Escalated(task, did, state, due, m["to_role"], m["slot"] + 1, overdue, now,
                              tid)
            self._plant_next(s, m, legal, now)
        else:
            try:
                with s.begin_nested():
                    self.engine.fire_in(s, task, m["event"], now=now, reason=(
                        f"automatic: {m['days']} days overdue since {m['legal_end']}"))
            except (Refused, InputError) as refusal:
                return "skipped", f"automatic event refused: {refusal}"
            return "fired", None
        self.engine.bus.publish(s, [event])
        return "fired", None

    def _plant_next(self, s: Session, m: dict[str, Any], legal: dt.date,
                    now: dt.datetime) -> None:
        if not m["repeat_every"]:
            return
        step = EscalationStep(m["days"], m["to_role"], m["repeat_every"])
        nxt = self.planner.next_occurrence(legal, step, m["occurrence"], now)
        if nxt is None:
            return
        values = {k: m[k] for k in ("task_id", "deadline_id", "state", "kind", "slot", "due_on",
                                    "legal_end", "days", "to_role", "repeat_every", "event")}
        s.execute(insert(Timer).values(**values, occurrence=nxt[0], fire_at=nxt[1],
                                       status="pending", created_at=now))


# Built once: the sweep runs these thousands of times, so they should not be rebuilt each time.
_LOCK_CHECK = (select(Task.state.label("task_state"), Deadline.closed_at, Deadline.outcome)
               .select_from(Timer).join(Task, Task.id == Timer.task_id)
               .join(Deadline, Deadline.id == Timer.deadline_id)
               .where(Timer.id == bindparam("tid"), Timer.done_at.is_(None))
               .with_for_update(of=Task))
# A timer is fired only by the worker that holds its claim (the lease's re-check: one whose lease
# lapsed and was claimed by another daemon is left to it).
_MARK = (update(Timer).where(Timer.id == bindparam("tid"), Timer.done_at.is_(None),
                             Timer.claimed_by == bindparam("me"))
         .values(done_at=bindparam("now", type_=UTCDateTime()), status="fired",
                 fired_by=bindparam("me"), claimed_by=None, lease_until=None)
         .returning(*(Timer.__table__.c[name] for name in (
             "id", "task_id", "deadline_id", "state", "kind", "slot", "occurrence", "due_on",
             "legal_end", "days", "to_role", "repeat_every", "event"))))
_SKIP = (update(Timer).where(Timer.id == bindparam("tid"))
         .values(status="skipped", reason=bindparam("reason")))
