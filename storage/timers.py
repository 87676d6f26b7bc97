"""Scheduler tables: timers, calendar-job runs, obligations, daemon heartbeats.

The database is the record of what is due; the daemon's ticker only asks it. Every "exactly
once" here is a row and a key, never an in-memory flag:

- `timer`: one row per reminder, deadline-passed notice, escalation step occurrence or automatic
  event of one deadline. Unique on (deadline, kind, slot, occurrence) so re-planning cannot
  double it. `done_at IS NULL` means pending; the partial index on `fire_at` over pending rows
  is what makes an empty sweep cheap with a million timers.
- `calendar_run`: one row per (job, scheduled_for); inserted with ON CONFLICT DO NOTHING in the
  transaction that does the job, so a run happens once even with several daemons.
- `obligation`: the per-unit instance of a calendar obligation, pointing at its `unit_report`
  task (the notifications component reads it by `task_id` to pick its templates).
- `daemon_heartbeat`: one row per daemon process; `nckh status` reads it, and a second daemon on
  SQLite refuses to start while a live one is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime
from workflows.effects import DueTimer
from workflows.timerplan import PlannedTimer

TIMER_KINDS = ("reminder", "deadline", "escalation", "auto_event")
# A timer's lifecycle, declared once (see storage.outbox.LIFECYCLE): the database refuses any
# other status or kind (CHECK, migration 0006), and a test walks every move.
TIMER_LIFECYCLE: dict[tuple[str, str], str] = {
    ("pending", "fired"): "take_due_timer: marked, with its effects in the same transaction",
    ("fired", "skipped"): "skip_timer: the re-check found its deadline closed or its task moved "
                          "on (in the marking transaction)",
    ("pending", "cancelled"): "cancel_timers: its deadline closed",
}
TIMER_STATUSES = ("pending", "fired", "skipped", "cancelled")


def _moves_to(status: str) -> tuple[str, ...]:
    return tuple(a for a, b in TIMER_LIFECYCLE if b == status)


class Timer(Base):
    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("deadline_id", "kind", "slot", "occurrence"),
        Index("ix_timer_pending_fire_at", "fire_at",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in TIMER_STATUSES)})",
                        name="status"),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in TIMER_KINDS)})", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadline.id"))
    state: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))
    # reminder: days before; escalation: step index (0-based); deadline/auto_event: 0
    slot: Mapped[int] = mapped_column(Integer)
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    due_on: Mapped[dt.date] = mapped_column(Date)
    legal_end: Mapped[dt.date] = mapped_column(Date)
    fire_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    days: Mapped[int] = mapped_column(Integer, default=0)
    to_role: Mapped[str | None] = mapped_column(String(16))
    repeat_every: Mapped[int | None] = mapped_column(Integer)
    repeat_until: Mapped[dt.date | None] = mapped_column(Date)
    event: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    fired_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CalendarRun(Base):
    __tablename__ = "calendar_run"
    __table_args__ = (UniqueConstraint("job", "scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    run_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Obligation(Base):
    __tablename__ = "obligation"
    __table_args__ = (UniqueConstraint("key", "unit_id", "year", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    year: Mapped[int] = mapped_column(Integer)
    period: Mapped[int] = mapped_column(Integer)  # 0 for a yearly obligation, else the month
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), unique=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # A unit report that lists the unit's topics: the milestone it reports on (migration 0016).
    concerns: Mapped[str | None] = mapped_column(String(40))


class DaemonHeartbeat(Base):
    __tablename__ = "daemon_heartbeat"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    passes: Mapped[int] = mapped_column(Integer, default=0)
    fired: Mapped[int] = mapped_column(Integer, default=0)


def renew_timer_claims(conn: Connection, ids: list[int], *, owner: str,
                       until: dt.datetime) -> list[int]:
    """Extend `owner`'s lease on the pending timers it still holds; return those."""
    if not ids:
        return []
    kept = conn.execute(update(Timer).where(Timer.id.in_(ids), Timer.claimed_by == owner,
                                            Timer.done_at.is_(None))
                        .values(lease_until=until).returning(Timer.id))
    return list(kept.scalars())


# --- planting and cancelling, in the transaction that opens or closes the deadline -------------
def plant_timers(conn: Connection, *, task_id: int, deadline_id: int, state: str,
                 due_on: dt.date, legal_end: dt.date, timers: Sequence[PlannedTimer],
                 created_at: dt.datetime) -> None:
    """Timers counting from `due_on` (the deadline, or the end of its grace period)."""
    if not timers:
        return
    conn.execute(insert(Timer), [{
        "task_id": task_id, "deadline_id": deadline_id, "state": state, "kind": p.kind,
        "slot": p.slot, "occurrence": p.occurrence, "due_on": due_on, "legal_end": legal_end,
        "fire_at": p.fire_at, "days": p.days, "to_role": p.to_role,
        "repeat_every": p.repeat_every, "repeat_until": p.repeat_until, "event": p.event,
        "status": "pending", "created_at": created_at} for p in timers])


def cancel_timers(conn: Connection, deadline_id: int, *, at: dt.datetime, reason: str) -> None:
    """The deadline closed: its pending timers will never fire (a task that moved on never hears
    from the old deadline)."""
    conn.execute(update(Timer).where(Timer.deadline_id == deadline_id,
                                     Timer.status.in_(_moves_to("cancelled")))
                 .values(status="cancelled", done_at=at, claimed_by=None, lease_until=None,
                         reason=reason))


# --- the sweep: claim, hand back, fire -----------------------------------------------------------
def claim_due_timers(conn: Connection, *, now: dt.datetime, until: dt.datetime, owner: str,
                     limit: int) -> list[int]:
    """Lease up to `limit` due timers to `owner` until `until`; their ids by task, so a task's
    timers stay together and every group locks its tasks in ascending order (two daemons'
    groups cannot deadlock)."""
    due = (select(Timer.id)
           .where(Timer.done_at.is_(None), Timer.fire_at <= now,
                  or_(Timer.lease_until.is_(None), Timer.lease_until < now))
           .order_by(Timer.fire_at).limit(limit))
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = conn.execute(update(Timer).where(Timer.id.in_(due.scalar_subquery()))
                           .values(claimed_by=owner, lease_until=until)
                           .returning(Timer.task_id, Timer.id)).all()
    return [timer_id for _, timer_id in sorted(claimed)]


def release_timers(conn: Connection, ids: list[int], *, owner: str) -> None:
    """Hand back claimed timers that will not be fired (a stopping sweep)."""
    conn.execute(update(Timer).where(Timer.id.in_(ids), Timer.done_at.is_(None),
                                     Timer.claimed_by == owner)
                 .values(claimed_by=None, lease_until=None))


def _tables() -> tuple[Table, Table, Table]:
    from storage.models import Deadline, Task

    return (cast(Table, Timer.__table__), cast(Table, Task.__table__),
            cast(Table, Deadline.__table__))


def _lock_check() -> Any:
    timer, task, deadline = _tables()
    # A later step of the same ladder due too (after a downtime): this one is superseded. The
    # office's escalations are not mail to a person (they go to its digest): they supersede
    # nothing, so a head still hears of an item the office is told about.
    sibling = timer.alias("sibling")
    later = (select(sibling.c.id).where(
        # Pending, or already fired by a parallel worker of this same catch-up pass.
        sibling.c.deadline_id == timer.c.deadline_id, sibling.c.status != "cancelled",
        sibling.c.kind.in_(LADDER_KINDS),
        or_(sibling.c.to_role.is_(None), sibling.c.to_role != "office"),
        sibling.c.fire_at <= bindparam("now", type_=UTCDateTime()),
        sibling.c.fire_at > timer.c.fire_at).exists())
    return (select(task.c.state.label("task_state"), task.c.level.label("task_level"),
                   deadline.c.closed_at, deadline.c.outcome, later.label("later_due"))
            .select_from(timer).join(task, task.c.id == timer.c.task_id)
            .join(deadline, deadline.c.id == timer.c.deadline_id)
            .where(timer.c.id == bindparam("tid"), timer.c.done_at.is_(None))
            .with_for_update(of=task))


_MARKED = ("id", "task_id", "deadline_id", "state", "kind", "slot", "occurrence", "due_on",
           "legal_end", "days", "to_role", "repeat_every", "event", "repeat_until")
LADDER_KINDS = ("reminder", "deadline", "escalation")  # the mail a deadline's ladder sends


def _mark() -> Any:
    # A timer is fired only by the worker that holds its claim (the lease's re-check: one whose
    # lease lapsed and was claimed by another daemon is left to it).
    timer = _tables()[0]
    return (update(timer).where(timer.c.id == bindparam("tid"), timer.c.done_at.is_(None),
                                timer.c.claimed_by == bindparam("me"))
            .values(done_at=bindparam("now", type_=UTCDateTime()), status="fired",
                    fired_by=bindparam("me"), claimed_by=None, lease_until=None)
            .returning(*(timer.c[name] for name in _MARKED)))


_STATEMENTS: dict[str, Any] = {}  # built once: the sweep runs them thousands of times


def _statement(name: str) -> Any:
    if name not in _STATEMENTS:
        _STATEMENTS[name] = {"lock": _lock_check, "mark": _mark}[name]()
    return _STATEMENTS[name]


def take_due_timer(conn: Connection, timer_id: int, *, owner: str,
                   now: dt.datetime) -> DueTimer | None:
    """Lock the timer's task (the order a transition takes: task, then timer), then mark the
    timer fired if `owner` still holds it; its row and what to re-check, or None when another
    worker fired or took it. The caller's transaction commits the mark with the timer's effects
    — or rolls both back."""
    check = conn.execute(_statement("lock"), {"tid": timer_id, "now": now}).first()
    if check is None:
        return None
    row = conn.execute(_statement("mark"), {"tid": timer_id, "now": now, "me": owner}).first()
    if row is None:
        return None
    outcome = check.outcome if check.closed_at is not None else None
    if check.closed_at is not None and outcome is None:
        outcome = "closed"
    return DueTimer(**{name: getattr(row, name) for name in _MARKED},
                    task_state=check.task_state, task_level=check.task_level,
                    deadline_outcome=outcome, later_due=bool(check.later_due))


def skip_timer(conn: Connection, timer_id: int, reason: str | None) -> None:
    conn.execute(update(Timer).where(Timer.id == timer_id,
                                     Timer.status.in_(_moves_to("skipped")))
                 .values(status="skipped", reason=reason))


def timers_of(conn: Connection, task_id: int) -> list[Timer]:
    """A task's timers, in firing order (for `task show`)."""
    from sqlalchemy.orm import Session

    with Session(bind=conn) as s:
        return list(s.scalars(select(Timer).where(Timer.task_id == task_id)
                              .order_by(Timer.fire_at, Timer.id)))


# --- `nckh status` ------------------------------------------------------------------------------
def timer_totals(conn: Connection, now: dt.datetime,
                 overdue_after: dt.timedelta) -> dict[str, int]:
    """Timers pending, due, overdue (due longer than `overdue_after`), fired, skipped,
    cancelled."""
    pending = Timer.done_at.is_(None)

    def count(*where: Any) -> int:
        return int(conn.scalar(select(func.count()).select_from(Timer).where(*where)) or 0)

    return {"pending": count(pending), "due": count(pending, Timer.fire_at <= now),
            "overdue": count(pending, Timer.fire_at <= now - overdue_after),
            "fired": count(Timer.status == "fired"), "skipped": count(Timer.status == "skipped"),
            "cancelled": count(Timer.status == "cancelled")}


def next_timers(conn: Connection, now: dt.datetime, limit: int) -> list[Any]:
    """The next pending timers after `now`, in firing order."""
    return list(conn.execute(select(Timer.fire_at, Timer.task_id, Timer.kind, Timer.state,
                                    Timer.to_role, Timer.days, Timer.due_on)
                             .where(Timer.done_at.is_(None), Timer.fire_at > now)
                             .order_by(Timer.fire_at, Timer.id).limit(limit)))


def last_calendar_runs(conn: Connection) -> dict[str, dt.datetime]:
    """Each calendar job's latest occurrence that ran."""
    return {job: at for job, at in conn.execute(
        select(CalendarRun.job, func.max(CalendarRun.scheduled_for)).group_by(CalendarRun.job))}
