"""Reads for the shells' listings: tasks with what `task show` and `task list` print.

`task show`'s task comes back with everything the formatting reads loaded up front (unit,
investigator, deadlines, history), so nothing is fetched lazily from wherever it is read.
`task list`'s rows (also the home page's and a unit page's) are plain columns in one statement
(`task_rows`): they are only read, and ORM objects for them cost more than the statement.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from storage.models import Deadline, Person, Task, Unit, WorkflowDefinition


def task_for_show(session: Session, task_id: int) -> Task | None:
    return session.get(Task, task_id, options=[
        joinedload(Task.unit), joinedload(Task.pi), selectinload(Task.deadlines),
        selectinload(Task.history)])


def definition(session: Session, definition_id: int) -> WorkflowDefinition:
    found = session.get(WorkflowDefinition, definition_id)
    assert found is not None
    return found


def states_in_use(session: Session) -> set[str]:
    return set(session.scalars(select(Task.state).distinct()))


Listing = Select[*tuple[Any, ...]]  # a statement of any columns


class TaskRow(NamedTuple):
    """A task as listings show it: plain columns, with its open deadline's day if any."""

    id: int
    definition_id: int
    unit: str
    level: str
    year: int
    state: str
    title: str
    pi: str
    due_on: dt.date | None


def _listed() -> Listing:
    return (select(Task.id, Task.definition_id, Unit.code, Task.level, Task.year, Task.state,
                   Task.title, Person.email, Deadline.due_on)
            .join(Unit, Unit.id == Task.unit_id).join(Person, Person.id == Task.pi_id)
            .outerjoin(Deadline, and_(Deadline.task_id == Task.id,
                                      Deadline.closed_at.is_(None)))
            .order_by(Task.id))


@functools.cache
def _task_rows(unit: bool, state: bool, year: bool, overdue: bool, pi: bool) -> Listing:
    """The listing's statement for one combination of filters, built once per process: composing
    it cost more than running it on a unit's page (bench/web.py). The open deadline is joined
    (a task has one at most: its state's), so the page needs no second read."""
    query = _listed()
    if unit:
        query = query.where(Task.unit_id == bindparam("unit_id"))
    if state:
        query = query.where(Task.state == bindparam("state"))
    if year:
        query = query.where(Task.year == bindparam("year"))
    if overdue:
        query = query.where(Deadline.due_on < bindparam("overdue_on"))
    if pi:
        query = query.where(Person.email == bindparam("pi_email"))
    return query


def task_rows(session: Session, *, unit_id: int | None, state: str | None, year: int | None,
              overdue_on: dt.date | None, pi_email: str | None = None) -> list[TaskRow]:
    """Tasks by id, filtered, as plain rows (no ORM objects: the rows are only read);
    `overdue_on`: only those with an open deadline due before it; `pi_email`: only those that
    person leads."""
    query = _task_rows(unit_id is not None, state is not None, year is not None,
                       overdue_on is not None, pi_email is not None)
    params = {"unit_id": unit_id, "state": state, "year": year, "overdue_on": overdue_on,
              "pi_email": pi_email}
    found: dict[int, TaskRow] = {}
    for row in session.connection().execute(
            query, {k: v for k, v in params.items() if v is not None}):
        found[row[0]] = TaskRow(*row)  # should two deadlines be open: one row, as before
    return list(found.values())
