"""The application of accepted results (ứng dụng kết quả): its table and every statement on it.

One row per place a task's result is put to use, from a day on: applied in a unit (`applied`), a
technology transfer (`transfer`, chuyển giao kỹ thuật, e.g. to a private hospital or a trạm y tế
of a lower level) or a cooperation agreement (`cooperation`). The receiving place is a registered
unit (`unit_id`, its name kept in `place` too) or an outside body named in free text (`place`
only); `receiver_kind` says what kind of place it is. The transfer contract or agreement's number
and day are optional. Rows are only added: an application is a fact, recorded with who recorded
it (the OS login or the web's signed-in person, and the person named with `--as`) and when.

What is allowed when is the engine's (engine/applications.py); the CHECKs keep the values it
produces, and the unique key holds one row per task, kind, place and day against two clicks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.base import Base, UTCDateTime
from storage.models import Task, Unit

# As stored; their labels live with the rules (engine/applications.py).
KINDS = ("applied", "transfer", "cooperation")
RECEIVER_KINDS = ("same_unit", "public_province", "private_hospital", "lower_level",
                  "outside_province")


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Application(Base):
    __tablename__ = "result_application"
    __table_args__ = (
        Index("ix_result_application_task_id", "task_id"),
        CheckConstraint(f"kind IN ({_in(KINDS)})", name="kind"),
        CheckConstraint(f"receiver_kind IN ({_in(RECEIVER_KINDS)})", name="receiver_kind"),
        UniqueConstraint("task_id", "kind", "place", "since"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    place: Mapped[str] = mapped_column(String(300))
    receiver_kind: Mapped[str] = mapped_column(String(24))
    since: Mapped[dt.date] = mapped_column(Date)
    doc_no: Mapped[str | None] = mapped_column(String(100))
    doc_date: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(320))
    acting_as: Mapped[str | None] = mapped_column(String(320))

    task: Mapped[Task] = relationship()
    unit: Mapped[Unit | None] = relationship()


def add(session: Session, row: Application) -> Application:
    session.add(row)
    session.flush()
    return row


def exists(session: Session, task_id: int, kind: str, place: str, since: dt.date) -> bool:
    return session.scalar(select(Application.id).where(
        Application.task_id == task_id, Application.kind == kind, Application.place == place,
        Application.since == since)) is not None


def of_task(session: Session, task_id: int) -> Sequence[Application]:
    return session.scalars(select(Application).where(Application.task_id == task_id)
                           .order_by(Application.since, Application.id)).all()


def listed(session: Session, *, unit_id: int | None = None, start: dt.date | None = None,
           end: dt.date | None = None) -> Sequence[Application]:
    """Applications, oldest first, of one unit's tasks or all, applied since within
    [start, end]."""
    query = select(Application).join(Task, Task.id == Application.task_id) \
        .order_by(Application.since, Application.id)
    if unit_id is not None:
        query = query.where(Task.unit_id == unit_id)
    if start is not None:
        query = query.where(Application.since >= start)
    if end is not None:
        query = query.where(Application.since <= end)
    return session.scalars(query).all()


def report_rows(session: Session, task_ids: Sequence[int]
                ) -> list[tuple[int, str, str, dt.date]]:
    """(task, kind, place, since) of every application of those tasks: what the reports'
    detail list sums up."""
    found: list[tuple[int, str, str, dt.date]] = []
    ids = list(task_ids)
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        found += [(int(t), k, p, d) for t, k, p, d in session.execute(
            select(Application.task_id, Application.kind, Application.place, Application.since)
            .where(Application.task_id.in_(ids[start:start + 500]))
            .order_by(Application.id))]
    return found
