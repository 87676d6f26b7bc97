"""The dashboard's rows in three statements, whatever the number of units or tasks.

The units, each with its count of the year's research tasks and of those with an open deadline
already behind (one aggregate, joined); the year's obligations, each with the day it was
first submitted (a correlated `min` over the task's history, by the submit events' names, which
the history's (task_id, seq) key answers by index); and the deadlines of the year's research
tasks (the research milestones' columns), but those closed by an extension, which the deadline
that replaced them stands for. Dates come back as local dates, like `storage.reports`.

Why plain column selects on a Core connection, into named tuples, and not ORM entities or the
reports' frozen dataclasses: the page is the office's daily view over every unit; building ORM
objects (and an ORM session's bookkeeping), or even a frozen dataclass per row, for rows that are
only read cost more than the statements themselves (bench/web.py, issue 14).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, String, and_, bindparam, case, func, or_, select, type_coerce

from storage.models import Deadline, HistoryEntry, Task, Unit
from storage.timers import Obligation
from workflows.model import RESEARCH_LEVELS


class UnitLine(NamedTuple):
    """A unit as the dashboard reads it (the fields of `reportrows.UnitRow` it needs)."""

    id: int
    code: str
    name: str
    kind: str
    active: bool


class DueLine(NamedTuple):
    """An obligation as the dashboard reads it (the fields of `reportrows.ObligationRow`).
    Plain tuples: a frozen dataclass per row cost more than reading the row (bench/web.py)."""

    unit_id: int
    key: str
    period: int
    due_on: dt.date
    submitted_on: dt.date | None
    task_id: int | None


class MilestoneLine(NamedTuple):
    """A deadline of one of the year's research tasks, as the dashboard reads it: with its
    task's unit, workflow and state (a void task's deadlines are left out by the caller, which
    knows the workflows' void states), and the local day it was closed."""

    unit_id: int
    task_id: int
    workflow: str
    task_state: str
    state: str
    due_on: dt.date
    closed_on: dt.date | None


def _local(value: dt.datetime | str | None, tz: dt.tzinfo) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands an aggregate's datetime back as text
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite's aggregate loses the column's type: stored as UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).date()


_LATE = and_(Deadline.closed_at.is_(None), Deadline.due_on < bindparam("today"))
_RESEARCH = (select(Task.unit_id,
                    func.count(func.distinct(Task.id)).label("tasks"),
                    func.count(func.distinct(case((_LATE, Task.id)))).label("late"))
             .outerjoin(Deadline, Deadline.task_id == Task.id)
             .where(Task.year == bindparam("year"),
                    Task.level.in_(bindparam("levels", expanding=True)),
                    # a rejected or cancelled task is no research task of the unit's (as for
                    # the quota): "workflow:state" pairs, the workflows' `void: true` states
                    (Task.workflow + ":" + Task.state).not_in(bindparam("void", expanding=True)))
             .group_by(Task.unit_id).subquery())
# Built once: composing these statements costs more than running them.
UNITS = (select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.active,
                _RESEARCH.c.tasks, _RESEARCH.c.late)
         .outerjoin(_RESEARCH, _RESEARCH.c.unit_id == Unit.id).order_by(Unit.code))
_FIRST_SUBMIT = (select(func.min(HistoryEntry.effective_at))
                 .where(HistoryEntry.task_id == Obligation.task_id,
                        HistoryEntry.event.in_(bindparam("submit_events", expanding=True)))
                 .correlate(Obligation).scalar_subquery())
# The due date as the driver gives it (SQLite: text), parsed once per distinct date in `load`:
# a year has a few due dates over hundreds of rows, and the Date type parses every row's.
OBLIGATIONS = (select(Obligation.key, Obligation.unit_id, Obligation.period,
                      type_coerce(Obligation.due_on, String), Obligation.task_id, _FIRST_SUBMIT)
               .where(Obligation.year == bindparam("year"))
               .order_by(Obligation.due_on, Obligation.unit_id))

# An extended deadline is closed with "extended" and replaced by a later one for the same state:
# the later one says whether the milestone was met.
MILESTONES = (select(Task.unit_id, Task.id, Task.workflow, Task.state, Deadline.state,
                     type_coerce(Deadline.due_on, String), Deadline.closed_at)
              .join(Task, Task.id == Deadline.task_id)
              .where(Task.year == bindparam("year"),
                     Task.level.in_(bindparam("levels", expanding=True)),
                     or_(Deadline.outcome.is_(None), Deadline.outcome != "extended"))
              .order_by(Deadline.due_on, Task.id))


def _day(due: object, days: dict[object, dt.date]) -> dt.date:
    found = days.get(due)
    if found is None:  # PostgreSQL's driver hands a date already
        found = days[due] = (due if isinstance(due, dt.date)
                             else dt.date.fromisoformat(str(due)))
    return found


def load(conn: Connection, year: int, *, submit_events: Sequence[str], today: dt.date,
         tz: dt.tzinfo, levels: Sequence[str] = tuple(sorted(RESEARCH_LEVELS)),
         void: Sequence[tuple[str, str]] = (),
         ) -> tuple[list[UnitLine], list[DueLine], dict[int, tuple[int, int]],
                    list[MilestoneLine]]:
    """(units by code, the year's obligations by due date and unit, per unit that has any
    (research tasks of `levels` not in a `void` state, of which overdue), and the deadlines of
    the year's research tasks of `levels` by due date)."""
    units: list[UnitLine] = []
    counts: dict[int, tuple[int, int]] = {}
    for id_, code, name, kind, active, tasks, overdue in conn.execute(
            UNITS, {"year": year, "today": today, "levels": list(levels),
                    "void": [f"{workflow}:{state}" for workflow, state in void]}).all():
        units.append(UnitLine(id_, code, name, kind, bool(active)))
        if tasks is not None:
            counts[id_] = (int(tasks), int(overdue))
    days: dict[object, dt.date] = {}
    obligations = []
    for key, unit_id, period, due, task_id, at in conn.execute(
            OBLIGATIONS, {"year": year, "submit_events": list(submit_events)}).all():
        obligations.append(DueLine(unit_id, key, period, _day(due, days),
                                   None if at is None else _local(at, tz), task_id))
    milestones = [MilestoneLine(unit_id, task_id, workflow, task_state, state, _day(due, days),
                                _local(closed, tz))
                  for unit_id, task_id, workflow, task_state, state, due, closed in conn.execute(
                      MILESTONES, {"year": year, "levels": list(levels)}).all()]
    return units, obligations, counts, milestones
