"""Reads for the shells' listings: tasks with what `task show` and `task list` print.

Rows come back with everything the formatting reads loaded up front (unit, investigator,
deadlines, history), so nothing is fetched lazily from wherever they are read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, joinedload, selectinload

from storage.models import Deadline, Task, WorkflowDefinition


def task_for_show(session: Session, task_id: int) -> Task | None:
    return session.get(Task, task_id, options=[
        joinedload(Task.unit), joinedload(Task.pi), selectinload(Task.deadlines),
        selectinload(Task.history)])


def definition(session: Session, definition_id: int) -> WorkflowDefinition:
    found = session.get(WorkflowDefinition, definition_id)
    assert found is not None
    return found


def tasks_for_list(session: Session, *, unit_id: int | None, state: str | None,
                   year: int | None, overdue_on: dt.date | None) -> list[Task]:
    """Tasks by id, filtered; `overdue_on`: only those with an open deadline due before it."""
    query = select(Task).options(joinedload(Task.unit), joinedload(Task.pi)).order_by(Task.id)
    if unit_id is not None:
        query = query.where(Task.unit_id == unit_id)
    if state is not None:
        query = query.where(Task.state == state)
    if year is not None:
        query = query.where(Task.year == year)
    if overdue_on is not None:
        query = query.where(exists().where(and_(
            Deadline.task_id == Task.id, Deadline.closed_at.is_(None),
            Deadline.due_on < overdue_on)))
    return list(session.scalars(query).unique())


def open_due_dates(session: Session, unit_id: int | None = None) -> dict[int, dt.date]:
    """Each task's open deadline, if it has one (of one unit's tasks, with `unit_id`)."""
    query = select(Deadline.task_id, Deadline.due_on).where(Deadline.closed_at.is_(None))
    if unit_id is not None:
        query = query.join(Task, Task.id == Deadline.task_id).where(Task.unit_id == unit_id)
    return {task_id: due_on for task_id, due_on in session.execute(query)}


def states_in_use(session: Session) -> set[str]:
    return set(session.scalars(select(Task.state).distinct()))
