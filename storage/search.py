"""The rows a task search looks through, in two statements whatever the number of tasks.

Every task in the scope (all, one unit's, or one investigator's) with its unit, its investigator
and its open deadline; and the numbers recorded in the given field of the given events (a
decision's number, in the history's `data`). Matching is not done here: "dai thao duong" must
find "đái tháo đường", and neither SQLite's `lower()` (ASCII only) nor PostgreSQL without the
`unaccent` extension folds Vietnamese, so `engine.search` folds and compares the rows in Python.
This module must never filter by the text searched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from storage.models import Deadline, HistoryEntry, Person, Task, Unit


@dataclass(frozen=True)
class SearchRow:
    id: int
    title: str
    state: str
    level: str
    year: int
    definition_id: int
    unit_code: str
    unit_name: str
    pi_name: str
    pi_email: str
    due_on: dt.date | None  # the open deadline, if any (the earliest, should there be two)


def tasks(session: Session, *, unit_id: int | None = None,
          pi_id: int | None = None) -> list[SearchRow]:
    """The tasks in scope, newest year first, then by id."""
    query = (select(Task.id, Task.title, Task.state, Task.level, Task.year, Task.definition_id,
                    Unit.code, Unit.name, Person.name, Person.email, Deadline.due_on)
             .join(Unit, Unit.id == Task.unit_id).join(Person, Person.id == Task.pi_id)
             .outerjoin(Deadline, and_(Deadline.task_id == Task.id,
                                       Deadline.closed_at.is_(None)))
             .order_by(Task.year.desc(), Task.id))
    if unit_id is not None:
        query = query.where(Task.unit_id == unit_id)
    if pi_id is not None:
        query = query.where(Task.pi_id == pi_id)
    found: dict[int, SearchRow] = {}
    for row in session.connection().execute(query).all():
        task_id, due_on = row[0], row[10]
        seen = found.get(task_id)
        if seen is None or (due_on is not None and (seen.due_on is None or due_on < seen.due_on)):
            found[task_id] = SearchRow(*row)
    return list(found.values())


def recorded_values(session: Session, *, events: Sequence[str], field: str,
                    unit_id: int | None = None,
                    pi_id: int | None = None) -> dict[int, list[str]]:
    """Per task in scope, the non-empty values of `field` that its `events` recorded, in
    order."""
    if not events:
        return {}
    query = (select(HistoryEntry.task_id, HistoryEntry.data)
             .where(HistoryEntry.event.in_(list(events)))
             .order_by(HistoryEntry.task_id, HistoryEntry.seq))
    if unit_id is not None or pi_id is not None:
        query = query.join(Task, Task.id == HistoryEntry.task_id)
        if unit_id is not None:
            query = query.where(Task.unit_id == unit_id)
        if pi_id is not None:
            query = query.where(Task.pi_id == pi_id)
    values: dict[int, list[str]] = {}
    for task_id, data in session.execute(query).all():
        value = data.get(field) if isinstance(data, dict) else None
        if isinstance(value, str) and value.strip():
            values.setdefault(task_id, []).append(value.strip())
    return values
