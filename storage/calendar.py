"""Calendar jobs' rows: each occurrence's run (once, by key), and the units' obligations.

An occurrence of a job runs once: its `calendar_run` row, keyed by (job, scheduled_for) and
inserted with ON CONFLICT DO NOTHING, is claimed in the transaction that does the job's work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Person, Task, Unit
from storage.timers import CalendarRun, Obligation


def first_run(session: Session) -> dt.datetime | None:
    """When the first calendar job ever ran here (catch-up never reaches before its year)."""
    return session.scalar(select(func.min(CalendarRun.started_at)))


def runs_since(session: Session, start: dt.datetime) -> set[tuple[str, dt.datetime]]:
    return {(r.job, r.scheduled_for) for r in session.execute(
        select(CalendarRun.job, CalendarRun.scheduled_for)
        .where(CalendarRun.scheduled_for > start))}


def claim_run(session: Session, job: str, scheduled_for: dt.datetime, *, worker: str,
              now: dt.datetime) -> bool:
    """True when this occurrence is ours to run (nobody ran or is running it)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(CalendarRun).values(
        job=job, scheduled_for=scheduled_for, run_by=worker,
        started_at=now).on_conflict_do_nothing(index_elements=["job", "scheduled_for"])
    return session.execute(stmt.returning(CalendarRun.id)).first() is not None


def record_result(session: Session, job: str, scheduled_for: dt.datetime,
                  result: dict[str, Any]) -> None:
    session.execute(update(CalendarRun).where(CalendarRun.job == job,
                                              CalendarRun.scheduled_for == scheduled_for)
                    .values(result=result))


def active_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)))


def units_without_task(session: Session, year: int, levels: Sequence[str], *,
                       kinds: Sequence[str], void: Iterable[tuple[str, str]] = ()) -> list[int]:
    """Active units of `kinds` with no valid task of `levels` registered in `year`: a task now
    in a void (workflow, state) pair (rejected, cancelled) does not count."""
    valid = [Task.unit_id == Unit.id, Task.year == year, Task.level.in_(levels)]
    pairs = sorted(set(void))
    if pairs:
        valid.append(~or_(*(and_(Task.workflow == wf, Task.state == st) for wf, st in pairs)))
    return list(session.scalars(
        select(Unit.id).where(Unit.active.is_(True), Unit.kind.in_(kinds))
        .where(~select(Task.id).where(*valid).exists()).order_by(Unit.id)))


def has_obligation(session: Session, key: str, unit_id: int, year: int, period: int) -> bool:
    return session.scalar(select(Obligation.id).where(
        Obligation.key == key, Obligation.unit_id == unit_id, Obligation.year == year,
        Obligation.period == period)) is not None


def unit_head(session: Session, unit_id: int) -> Person | None:
    return session.scalar(select(Person).where(
        Person.unit_id == unit_id, Person.role == "unit_head", Person.active.is_(True))
        .order_by(Person.id))


def add_obligation(session: Session, *, key: str, unit_id: int, year: int, period: int,
                   task_id: int, due_on: dt.date, at: dt.datetime,
                   concerns: str | None = None) -> None:
    session.add(Obligation(key=key, unit_id=unit_id, year=year, period=period,
                           task_id=task_id, due_on=due_on, created_at=at, concerns=concerns))
    session.flush()


def open_obligations(session: Session, year: int,
                     state: str) -> list[tuple[int, dt.date, dt.datetime, str]]:
    """(task id, due date, created, unit code) of the year's obligations whose task is still in
    `state` (the obligation workflow's initial one), soonest due first."""
    return [(r.task_id, r.due_on, r.created_at, r.code) for r in session.execute(
        select(Obligation.task_id, Obligation.due_on, Obligation.created_at, Unit.code)
        .join(Task, Task.id == Obligation.task_id).join(Unit, Unit.id == Obligation.unit_id)
        .where(Obligation.year == year, Task.state == state)
        .order_by(Obligation.due_on, Obligation.id))]
