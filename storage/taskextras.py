"""A task's extras: its contract dates, its funding (columns of `task`) and its co-investigators
(thành viên tham gia, table `task_member`); every statement on them.

A member is a name, an optional e-mail, the registered person with that e-mail when there is
one (kept so a later change of name in the directory is still the same person), and their role
in the team, in the order they were given. Setting the members replaces the whole list: the
seeds' forms list the team, they do not edit it line by line. What is allowed is the engine's
(engine/taskextras.py); the CHECKs here only keep the values its rules produce.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    CheckConstraint,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.models import Task


class TaskMember(Base):
    __tablename__ = "task_member"
    __table_args__ = (
        UniqueConstraint("task_id", "seq"),
        CheckConstraint("seq >= 1", name="seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    role: Mapped[str] = mapped_column(String(100))


_TASKS = cast(Table, Task.__table__)
_MEMBERS = cast(Table, TaskMember.__table__)


def set_fields(conn: Connection, task_id: int, values: dict[str, object]) -> None:
    """Set some of starts_on, ends_on, funding_source, funding_amount on the task, with who set
    them (extras_at, extras_by, extras_acting_as). The task's version is left alone: these are
    records beside the workflow, not a step of it."""
    if values:
        conn.execute(update(_TASKS).where(_TASKS.c.id == task_id).values(**values))


def replace_members(conn: Connection, task_id: int,
                    members: Sequence[tuple[str, str | None, int | None, str]]) -> None:
    """The task's team is now `members`: (name, e-mail, person id, role), in order."""
    conn.execute(delete(_MEMBERS).where(_MEMBERS.c.task_id == task_id))
    if members:
        conn.execute(insert(_MEMBERS), [
            {"task_id": task_id, "seq": i, "name": name, "email": email, "person_id": pid,
             "role": role} for i, (name, email, pid, role) in enumerate(members, start=1)])


@dataclass(frozen=True)
class Held:
    """What a task holds of its extras, and who set them when."""

    starts_on: dt.date | None
    ends_on: dt.date | None
    funding_source: str | None
    funding_amount: int | None
    extras_at: dt.datetime | None
    extras_by: str | None
    extras_acting_as: str | None


def fields_of(conn: Connection, task_id: int) -> Held:
    return Held(*conn.execute(select(
        _TASKS.c.starts_on, _TASKS.c.ends_on, _TASKS.c.funding_source, _TASKS.c.funding_amount,
        _TASKS.c.extras_at, _TASKS.c.extras_by, _TASKS.c.extras_acting_as)
        .where(_TASKS.c.id == task_id)).one())


def members_of(conn: Connection, task_id: int) -> list[tuple[str, str | None, int | None, str]]:
    return [(r.name, r.email, r.person_id, r.role) for r in conn.execute(
        select(_MEMBERS.c.name, _MEMBERS.c.email, _MEMBERS.c.person_id, _MEMBERS.c.role)
        .where(_MEMBERS.c.task_id == task_id).order_by(_MEMBERS.c.seq))]
