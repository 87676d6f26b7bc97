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
2. Claiming: a short transaction marks up to `batch` due rows with our id and a lease
   (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so daemons take disjoint rows; SQLite runs one writer
   at a time under BEGIN IMMEDIATE). A crash after claiming only delays those rows until the
   lease runs out; another daemon then claims them. A claim is a hint, never a proof of work.
3. Firing: one transaction per timer, as above. The timer first re-checks the task: a deadline
   that closed or a task in another state makes it `skipped`, with the reason recorded. A crash
   before commit leaves the timer pending; a crash after commit leaves it done.
4. Repeating escalations plant their next occurrence in the firing transaction, dated from the
   schedule's first slot still in the future: after downtime each overdue timer fires once, not
   once per missed period, and the ladder continues from now.
Automatic events lock the task row before the timer row (the order a transition takes), so a
person's transition and the scheduler never deadlock; the loser gets an ordinary conflict.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.orm import Session

from engine.errors import InputError, NckhError, Refused
from engine.events import (
    DeadlineClosed,
    DeadlineOpened,
    DeadlinePassed,
    DomainEvent,
    Escalated,
    ReminderDue,
)
from engine.scheduling.config import SchedulerConfig
from engine.scheduling.plan import Planner
from engine.service import Engine
from storage.models import Deadline, Task
from storage.timers import Timer
from workflows.model import EscalationStep

log = logging.getLogger("nckh.timers")


@dataclass
class TimerService:
    engine: Engine
    config: SchedulerConfig
    worker: str

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
        """Fire every timer due at `now`, batch by batch, until none is left (or `stop()`)."""
        counts = {"fired": 0, "skipped": 0, "lost": 0}
        if not self.config.in_business_hours(now.astimezone(self.engine.tz)):
            return counts
        while not stop():
            ids = self.claim(now)
            for i, timer_id in enumerate(ids):
                if stop():
                    self.release(ids[i:])
                    return counts
                try:
                    counts[self.fire_one(timer_id, now)] += 1
                except NckhError as exc:  # stays pending; retried when the lease runs out
                    counts["failed"] = counts.get("failed", 0) + 1
                    log.warning("timer failed", extra={"fields": {
                        "timer_id": timer_id, "error": str(exc), "worker": self.worker}})
            if len(ids) < self.config.batch:
                break
        return counts

    def claim(self, now: dt.datetime) -> list[int]:
        lease = now + dt.timedelta(seconds=self.config.lease_s)
        with self.engine.transaction() as s:
            due = (select(Timer.id)
                   .where(Timer.done_at.is_(None), Timer.fire_at <= now,
                          or_(Timer.lease_until.is_(None), Timer.lease_until < now))
                   .order_by(Timer.fire_at).limit(self.config.batch))
            if s.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            claimed = s.scalars(update(Timer).where(Timer.id.in_(due.scalar_subquery()))
                                .values(claimed_by=self.worker, lease_until=lease)
                                .returning(Timer.id))
            return sorted(claimed)

    def release(self, ids: list[int]) -> None:
        """Hand back claimed timers we will not fire (shutdown): others need not wait."""
        if ids:
            with self.engine.transaction() as s:
                s.execute(update(Timer).where(Timer.id.in_(ids), Timer.done_at.is_(None),
                                              Timer.claimed_by == self.worker)
                          .values(claimed_by=None, lease_until=None))

    def fire_one(self, timer_id: int, now: dt.datetime) -> str:
        """One timer, one transaction: 'fired', 'skipped', or 'lost' (another worker did it)."""
        with self.engine.transaction() as s:
            kind = s.scalar(select(Timer.kind).where(Timer.id == timer_id))
            if kind == "auto_event":  # lock order: task, then timer (as a transition does)
                task_id = s.scalar(select(Timer.task_id).where(Timer.id == timer_id))
                s.execute(select(Task.id).where(Task.id == task_id).with_for_update())
            row = s.execute(update(Timer).where(Timer.id == timer_id, Timer.done_at.is_(None))
                            .values(done_at=now, status="fired", fired_by=self.worker,
                                    claimed_by=None, lease_until=None)
                            .returning(*Timer.__table__.c)).one_or_none()
            if row is None:
                return "lost"
            outcome, reason = self._act(s, row, now)
            if outcome == "skipped":
                s.execute(update(Timer).where(Timer.id == timer_id)
                          .values(status="skipped", reason=reason))
        log.debug("timer %s", outcome, extra={"fields": {
            "timer_id": timer_id, "kind": row.kind, "task_id": row.task_id,
            "worker": self.worker, "reason": reason}})
        return outcome

    def _act(self, s: Session, t: Row[tuple[object, ...]],
             now: dt.datetime) -> tuple[str, str | None]:
        m: Mapping[str, object] = dict(t._mapping)
        deadline = s.get(Deadline, m["deadline_id"])
        task = s.get(Task, m["task_id"])
        assert deadline is not None and task is not None
        if deadline.closed_at is not None:
            return "skipped", f"deadline closed ({deadline.outcome}) before the timer fired"
        if task.state != m["state"]:
            return "skipped", f"task is in {task.state}, no longer in {m['state']}"
        tid, did, state, due = int(str(m["id"])), deadline.id, deadline.state, deadline.due_on
        kind = m["kind"]
        event: DomainEvent
        if kind == "reminder":
            event = ReminderDue(task.id, did, state, due, int(str(m["days"])), now, tid)
        elif kind == "deadline":
            event = DeadlinePassed(task.id, did, state, due, now, tid)
        elif kind == "escalation":
            legal: dt.date = m["legal_end"]  # type: ignore[assignment]
            overdue = (now.astimezone(self.engine.tz).date() - legal).days
            step = int(str(m["slot"]))
            event = Escalated(task.id, did, state, due, str(m["to_role"]), step + 1, overdue,
                              now, tid)
            self._plant_next(s, m, legal, now)
        else:
            try:
                with s.begin_nested():
                    self.engine.fire_in(s, task.id, str(m["event"]), now=now, reason=(
                        f"automatic: {m['days']} days overdue since {legal_text(m)}"))
            except (Refused, InputError) as refusal:
                return "skipped", f"automatic event refused: {refusal}"
            return "fired", None
        self.engine.bus.publish(s, [event])
        return "fired", None

    def _plant_next(self, s: Session, m: Mapping[str, object], legal: dt.date,
                    now: dt.datetime) -> None:
        repeat = m["repeat_every"]
        if not repeat:
            return
        step = EscalationStep(int(str(m["days"])), str(m["to_role"]), int(str(repeat)))
        nxt = self.planner.next_occurrence(legal, step, int(str(m["occurrence"])), now)
        if nxt is None:
            return
        values = {k: m[k] for k in ("task_id", "deadline_id", "state", "kind", "slot", "due_on",
                                    "legal_end", "days", "to_role", "repeat_every", "event")}
        s.execute(insert(Timer).values(**values, occurrence=nxt[0], fire_at=nxt[1],
                                       status="pending", created_at=now))


def legal_text(m: Mapping[str, object]) -> str:
    legal = m["legal_end"]
    return legal.isoformat() if isinstance(legal, dt.date) else str(legal)
