"""The dashboard's rows in four statements, whatever the number of units or tasks.

Units; the year's obligations with the day each was first submitted (one aggregate over the
history, by the submit events' names); and per unit, the year's research tasks and how many
have an open deadline already behind. Dates come back as local dates, like `storage.reports`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from storage.models import Deadline, HistoryEntry, Task, Unit
from storage.reportrows import ObligationRow, UnitRow
from storage.timers import Obligation
from workflows.model import RESEARCH_LEVELS


def _local(value: dt.datetime | None, tz: dt.tzinfo) -> dt.date | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite's aggregate loses the column's type: stored as UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).date()


def load(session: Session, year: int, *, submit_events: Sequence[str], today: dt.date,
         tz: dt.tzinfo) -> tuple[list[UnitRow], list[ObligationRow], dict[int, tuple[int, int]]]:
    units = [UnitRow(u.id, u.code, u.name, u.kind, u.active)
             for u in session.scalars(select(Unit).order_by(Unit.code))]
    first_submit = (select(HistoryEntry.task_id,
                           func.min(HistoryEntry.effective_at).label("at"))
                    .join(Obligation, Obligation.task_id == HistoryEntry.task_id)
                    .where(Obligation.year == year, HistoryEntry.event.in_(list(submit_events)))
                    .group_by(HistoryEntry.task_id).subquery())
    obligations = []
    for key, unit_id, period, due_on, task_id, at in session.execute(
            select(Obligation.key, Obligation.unit_id, Obligation.period, Obligation.due_on,
                   Obligation.task_id, first_submit.c.at)
            .outerjoin(first_submit, first_submit.c.task_id == Obligation.task_id)
            .where(Obligation.year == year).order_by(Obligation.due_on, Obligation.unit_id)):
        if isinstance(at, str):  # SQLite hands an aggregate's datetime back as text
            at = dt.datetime.fromisoformat(at)
        obligations.append(ObligationRow(unit_id, key, period, due_on, _local(at, tz), task_id))
    overdue = func.count(func.distinct(case(
        (and_(Deadline.closed_at.is_(None), Deadline.due_on < today), Task.id))))
    research = {unit_id: (int(count), int(late)) for unit_id, count, late in session.execute(
        select(Task.unit_id, func.count(func.distinct(Task.id)), overdue)
        .outerjoin(Deadline, Deadline.task_id == Task.id)
        .where(Task.year == year, Task.level.in_(RESEARCH_LEVELS))
        .group_by(Task.unit_id))}
    return units, obligations, research
