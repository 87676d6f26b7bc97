"""Councils, their outcomes and recognition (hội đồng, kết quả nghiệm thu, công nhận): the tables
and every statement on them.

- `council`: the council of one stage of a task (its outline review or its acceptance),
  established by a decision (number, day), with the day it is to meet if one was
  given. A council without an outcome may be set again (a
  corrected decision): its row is updated and its members replaced. One with an outcome is
  history: a re-evaluation after a fail has a council of its own.
- `council_member`: who sits on it, each once, with their role (chair, secretary, reviewer,
  member); always a registered person.
- `council_outcome`: the acceptance council's verdict, at most one per council, with the history
  entry of the workflow event it fired (engine/councils.py decides which), its grade, score and
  minutes file. A failed result carries no grade: the database holds that too.
- `recognition`: the recognition decision (công nhận) of a task, at most one per task.

What is allowed when is the engine's (engine/councils.py); the CHECKs here only keep the values
the rules produce.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.base import Base, UTCDateTime
from storage.models import HistoryEntry, Person, Task
from storage.webmodels import StoredFile

STAGES = ("outline", "acceptance")
ROLES = ("chair", "secretary", "reviewer", "member")
RESULTS = ("passed", "revise", "failed")
GRADES = ("excellent", "good", "pass")
ISSUERS = ("department", "sector_council")


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Council(Base):
    __tablename__ = "council"
    __table_args__ = (
        CheckConstraint(f"stage IN ({_in(STAGES)})", name="stage"),
        UniqueConstraint("task_id", "stage", "decision_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    decision_no: Mapped[str] = mapped_column(String(100))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    meeting_on: Mapped[dt.date | None] = mapped_column(Date)  # 0015; the members' review date
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(320))
    acting_as: Mapped[str | None] = mapped_column(String(320))

    task: Mapped[Task] = relationship()
    members: Mapped[list[CouncilMember]] = relationship(order_by="CouncilMember.id",
                                                         cascade="all, delete-orphan")


class CouncilMember(Base):
    __tablename__ = "council_member"
    __table_args__ = (
        CheckConstraint(f"role IN ({_in(ROLES)})", name="role"),
        UniqueConstraint("council_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    role: Mapped[str] = mapped_column(String(16))

    person: Mapped[Person] = relationship()


class CouncilOutcome(Base):
    __tablename__ = "council_outcome"
    __table_args__ = (
        CheckConstraint(f"result IN ({_in(RESULTS)})", name="result"),
        CheckConstraint(f"grade IS NULL OR grade IN ({_in(GRADES)})", name="grade"),
        CheckConstraint("result <> 'failed' OR grade IS NULL", name="failed_no_grade"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score"),
        UniqueConstraint("council_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    history_id: Mapped[int] = mapped_column(ForeignKey("task_history.id"))
    result: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    held_on: Mapped[dt.date] = mapped_column(Date)
    minutes_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(320))
    acting_as: Mapped[str | None] = mapped_column(String(320))

    council: Mapped[Council] = relationship()
    history: Mapped[HistoryEntry] = relationship()
    minutes: Mapped[StoredFile | None] = relationship()


class Recognition(Base):
    __tablename__ = "recognition"
    __table_args__ = (
        CheckConstraint(f"issuer IN ({_in(ISSUERS)})", name="issuer"),
        UniqueConstraint("task_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    issuer: Mapped[str] = mapped_column(String(16))
    decision_no: Mapped[str] = mapped_column(String(100))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(320))
    acting_as: Mapped[str | None] = mapped_column(String(320))


def councils_of(session: Session, task_id: int) -> Sequence[Council]:
    """The task's councils, oldest first."""
    return session.scalars(select(Council).where(Council.task_id == task_id)
                           .order_by(Council.id)).all()


def outcomes_of(session: Session, task_id: int) -> Sequence[CouncilOutcome]:
    return session.scalars(select(CouncilOutcome).where(CouncilOutcome.task_id == task_id)
                           .order_by(CouncilOutcome.id)).all()


def awaiting(session: Session, task_id: int, stage: str) -> Council | None:
    """The task's council of `stage` that has no outcome yet (the one an outcome is for, and the
    one a second `set` corrects)."""
    return session.scalar(
        select(Council).where(Council.task_id == task_id, Council.stage == stage,
                              ~Council.id.in_(select(CouncilOutcome.council_id)))
        .order_by(Council.id.desc()).limit(1))


def lock_task(session: Session, task_id: int) -> None:
    """Hold the task's row until commit, so that two `council set` at once are one after the
    other: the second finds the first's council awaiting its outcome and corrects it instead of
    adding a second (PostgreSQL: FOR UPDATE; SQLite: its one writer at a time already)."""
    session.execute(select(Task.id).where(Task.id == task_id).with_for_update())


def latest_seat(conn: Connection, task_id: int) -> dict[str, object] | None:
    """The task's latest council and its first member's role (what `nckh mail preview
    council_appointed` shows), or None."""
    row = conn.execute(
        select(Council.stage, Council.decision_no, Council.decided_on, Council.meeting_on,
               CouncilMember.role)
        .join(CouncilMember, CouncilMember.council_id == Council.id)
        .where(Council.task_id == task_id)
        .order_by(Council.id.desc(), CouncilMember.id).limit(1)).first()
    return None if row is None else dict(row._mapping)


def recognition_of(session: Session, task_id: int) -> Recognition | None:
    return session.scalar(select(Recognition).where(Recognition.task_id == task_id))


def save_council(session: Session, council: Council, members: Sequence[CouncilMember]) -> Council:
    """Insert a council, or replace an unfinished one's members (a corrected decision)."""
    if council.id is not None:
        session.execute(delete(CouncilMember).where(CouncilMember.council_id == council.id))
        session.expire(council, ["members"])
    session.add(council)
    session.flush()
    for member in members:
        member.council_id = council.id
        session.add(member)
    session.flush()
    session.expire(council, ["members"])  # read back as written, with their persons
    return council


def add(session: Session, row: CouncilOutcome | Recognition | StoredFile) -> None:
    session.add(row)
    session.flush()


def report_rows(session: Session, task_ids: Sequence[int]
                ) -> tuple[list[tuple[int, dt.date, str, str | None]], dict[int, dt.date]]:
    """(task, meeting day, result, grade) of every outcome, oldest first, and each recognised
    task's decision day: what the reports' detail list shows."""
    outcomes: list[tuple[int, dt.date, str, str | None]] = []
    recognised: dict[int, dt.date] = {}
    ids = list(task_ids)
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start:start + 500]
        outcomes += [(int(t), d, r, g) for t, d, r, g in session.execute(
            select(CouncilOutcome.task_id, CouncilOutcome.held_on, CouncilOutcome.result,
                   CouncilOutcome.grade)
            .where(CouncilOutcome.task_id.in_(chunk)).order_by(CouncilOutcome.id))]
        recognised.update((int(t), d) for t, d in session.execute(
            select(Recognition.task_id, Recognition.decided_on)
            .where(Recognition.task_id.in_(chunk))))
    return outcomes, recognised
