"""The directory's rows: units, people, and the append-only log of changes to them.

`engine.directory` owns the rules (who may head a unit, what a change records); the queries are
here. The functions take the caller's session (one transaction) and return the ORM rows, which
the rules change in place: the session writes them when the transaction commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from storage.models import DirectoryChange, Person, Task, Unit

# Built once: every unit page looks its unit up.
_UNIT_BY_CODE = select(Unit).where(func.lower(Unit.code) == bindparam("code"))
_UNIT_NAMED = (select(Unit.id, Unit.code, Unit.name)
               .where(func.lower(Unit.code) == bindparam("code")))
_REGISTRABLE = (select(Person.email, Person.name)
                .where(Person.unit_id == bindparam("unit_id"), Person.active.is_(True),
                       Person.role.in_(("pi", "unit_head")))
                .order_by(Person.email))


def unit_by_code(session: Session, code: str) -> Unit | None:
    return session.scalar(_UNIT_BY_CODE, {"code": code.lower()})


def unit_named(conn: Connection, code: str) -> tuple[int, str, str] | None:
    """(id, code, name) of the unit of that code (any case), as plain columns."""
    row = conn.execute(_UNIT_NAMED, {"code": code.lower()}).first()
    return None if row is None else (row[0], row[1], row[2])


def registrable_people(conn: Connection, unit_id: int) -> list[tuple[str, str]]:
    """(e-mail, name) of the unit's active investigators and head, by address: whom a task of
    the unit may be registered for."""
    return [(email, name) for email, name in
            conn.execute(_REGISTRABLE, {"unit_id": unit_id})]


def person_by_email(session: Session, email: str) -> Person | None:
    return session.scalar(select(Person).where(Person.email == email.lower())
                          .options(joinedload(Person.unit)))


def person_exists(session: Session, email: str) -> bool:
    return session.scalar(select(Person.id).where(Person.email == email)) is not None


def active_heads(session: Session, unit_id: int) -> list[Person]:
    return list(session.scalars(select(Person).where(
        Person.unit_id == unit_id, Person.role == "unit_head", Person.active.is_(True))
        .order_by(Person.id)))


def heads_ever(session: Session, unit_id: int) -> list[Person]:
    """Every person who is or was a head of the unit."""
    return list(session.scalars(select(Person).where(Person.unit_id == unit_id,
                                                     Person.role == "unit_head")))


def add(session: Session, row: Unit | Person) -> None:
    """A new unit or person, given its id now (flushed)."""
    session.add(row)
    session.flush()


def flush(session: Session) -> None:
    """Write pending changes now: an index that allows one active head must see the old head
    leave before the new one arrives."""
    session.flush()


def all_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.code)))


def all_people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).options(joinedload(Person.unit))
                                .order_by(Person.email)))


def active_heads_by_unit(session: Session) -> dict[int, Person]:
    return {p.unit_id: p for p in session.scalars(
        select(Person).where(Person.role == "unit_head", Person.active.is_(True))
        .order_by(Person.id)) if p.unit_id is not None}


def tasks_of(session: Session, *, pi_id: int | None = None,
             unit_id: int | None = None) -> list[Task]:
    """The tasks a person leads or a unit holds, with their unit, by id."""
    query = select(Task).options(joinedload(Task.unit)).order_by(Task.id)
    if pi_id is not None:
        query = query.where(Task.pi_id == pi_id)
    if unit_id is not None:
        query = query.where(Task.unit_id == unit_id)
    return list(session.scalars(query))


# --- the log --------------------------------------------------------------------------------------
def record_change(session: Session, *, entity: str, key: str, change: str,
                  details: dict[str, Any], operator: str, acting_as: str | None,
                  at: dt.datetime) -> None:
    session.add(DirectoryChange(at=at, entity=entity, key=key, change=change, details=details,
                                operator=operator, acting_as=acting_as))


def changes(session: Session, entity: str, keys: list[str]) -> list[DirectoryChange]:
    """The log of these units or people, in the order it was written."""
    return list(session.scalars(select(DirectoryChange).where(
        DirectoryChange.entity == entity, DirectoryChange.key.in_(keys))
        .order_by(DirectoryChange.at, DirectoryChange.id)))
