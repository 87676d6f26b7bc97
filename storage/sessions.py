"""The science-session log (sinh hoạt khoa học): its table and every statement on it.

One row per session a unit held: the day, the department (khoa/phòng) that ran it, the topic,
the presenter (by address; the person row when registered), whether the presenter led a task of
the unit in progress on that day (a fact as of the session, kept, not recomputed), attendance
and the path of the minutes file. Rows are only added: a session held is a fact. Who recorded
it (the OS login and the person named with `--as`) is kept on the row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import (
    CheckConstraint,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.base import Base, UTCDateTime
from storage.models import Person, Task, Unit


class ScienceSession(Base):
    __tablename__ = "science_session"
    __table_args__ = (
        UniqueConstraint("unit_id", "held_on", "topic"),
        Index("ix_science_session_unit_held", "unit_id", "held_on"),
        CheckConstraint("attendance IS NULL OR attendance >= 0", name="attendance"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    held_on: Mapped[dt.date] = mapped_column(Date)
    department: Mapped[str | None] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(Text)
    presenter_email: Mapped[str] = mapped_column(String(320))
    presenter_name: Mapped[str | None] = mapped_column(String(300))
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    presenter_task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    attendance: Mapped[int | None] = mapped_column(Integer)
    minutes_path: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(120))
    acting_as: Mapped[str | None] = mapped_column(String(320))

    unit: Mapped[Unit] = relationship()


def add(session: Session, row: ScienceSession) -> ScienceSession:
    session.add(row)
    session.flush()
    return row


def exists(session: Session, unit_id: int, held_on: dt.date, topic: str) -> bool:
    return session.scalar(select(ScienceSession.id).where(
        ScienceSession.unit_id == unit_id, ScienceSession.held_on == held_on,
        ScienceSession.topic == topic)) is not None


def person_by_email(session: Session, email: str) -> Person | None:
    return session.scalar(select(Person).where(Person.email == email))


def tasks_led_in(session: Session, person_id: int, unit_id: int,
                 states: Iterable[str]) -> list[int]:
    """Ids of the tasks of the unit that the person leads and that are now in `states`."""
    return list(session.scalars(select(Task.id).where(
        Task.pi_id == person_id, Task.unit_id == unit_id, Task.state.in_(list(states)))
        .order_by(Task.id)))


def listed(session: Session, *, unit_id: int | None = None, start: dt.date | None = None,
           end: dt.date | None = None) -> Sequence[ScienceSession]:
    """Sessions, oldest first, of one unit or all, held within [start, end]."""
    query = select(ScienceSession).order_by(ScienceSession.held_on, ScienceSession.id)
    if unit_id is not None:
        query = query.where(ScienceSession.unit_id == unit_id)
    if start is not None:
        query = query.where(ScienceSession.held_on >= start)
    if end is not None:
        query = query.where(ScienceSession.held_on <= end)
    return session.scalars(query).all()


class HeldRow(NamedTuple):
    """A session as a unit's page lists it."""

    held_on: dt.date
    department: str | None
    topic: str
    presenter_email: str
    presenter_name: str | None
    presenter_is_pi: bool
    attendance: int | None


# Built once: every unit page lists its sessions of the year.
_HELD = (select(ScienceSession.held_on, ScienceSession.department, ScienceSession.topic,
                ScienceSession.presenter_email, ScienceSession.presenter_name,
                ScienceSession.presenter_task_id.is_not(None), ScienceSession.attendance)
         .where(ScienceSession.unit_id == bindparam("unit_id"),
                ScienceSession.held_on >= bindparam("start"),
                ScienceSession.held_on <= bindparam("end"))
         .order_by(ScienceSession.held_on, ScienceSession.id))


def held_rows(conn: Connection, unit_id: int, start: dt.date, end: dt.date) -> list[HeldRow]:
    """The unit's sessions held within [start, end], oldest first, as plain rows."""
    return [HeldRow(held_on, department, topic, email, name, bool(is_pi), attendance)
            for held_on, department, topic, email, name, is_pi, attendance in conn.execute(
                _HELD, {"unit_id": unit_id, "start": start, "end": end})]


def held_days(session: Session, start: dt.date, end: dt.date) -> list[tuple[int, dt.date]]:
    """(unit id, day) of every session held within [start, end]: what reports count."""
    return [(u, d) for u, d in session.execute(
        select(ScienceSession.unit_id, ScienceSession.held_on)
        .where(and_(ScienceSession.held_on >= start, ScienceSession.held_on <= end))
        .order_by(ScienceSession.unit_id, ScienceSession.held_on))]


def units_without_session(session: Session, unit_ids: Sequence[int], start: dt.date,
                          end: dt.date) -> list[int]:
    """Of `unit_ids`, those with no session recorded within [start, end]."""
    if not unit_ids:
        return []
    held = set(session.scalars(select(ScienceSession.unit_id).where(
        ScienceSession.unit_id.in_(list(unit_ids)), ScienceSession.held_on >= start,
        ScienceSession.held_on <= end)))
    return [u for u in unit_ids if u not in held]


def active_units(session: Session) -> list[tuple[int, str]]:
    return [(i, c) for i, c in session.execute(
        select(Unit.id, Unit.code).where(Unit.active.is_(True)).order_by(Unit.id))]
