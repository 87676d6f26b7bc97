"""Core tables: units, people, workflow definition snapshots, tasks, deadlines and history.

`task_history`, `refusal` and `directory_change` are append-only: nothing updates or deletes
their rows. People and units are never deleted either, only deactivated, so every row that
points at them keeps its meaning. A unit has at most one active head: a partial unique index
(`uq_person_one_active_head`) holds that even against two concurrent replacements. A task points
at the exact definition snapshot it started with, so editing a workflow file never changes a task
in flight. `task.version` is the optimistic-concurrency counter: an UPDATE that finds another
version loses with `StaleDataError`, which the engine reports as a conflict.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, UTCDateTime


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="public")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    people: Mapped[list[Person]] = relationship(back_populates="unit")


ACTIVE_HEAD = "role = 'unit_head' AND active"


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        Index("uq_person_one_active_head", "unit_id", unique=True,
              sqlite_where=text(ACTIVE_HEAD), postgresql_where=text(ACTIVE_HEAD)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    unit: Mapped[Unit | None] = relationship(back_populates="people")


class WorkflowDefinition(Base):
    """A snapshot of one workflow file as a task started with it."""

    __tablename__ = "workflow_definition"
    __table_args__ = (UniqueConstraint("name", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_unit_year", "unit_id", "year"),
        Index("ix_task_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("workflow_definition.id"))
    workflow: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(60))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    pi_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    year: Mapped[int] = mapped_column(Integer)
    topic: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    state_entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # Optional, set with the task or later (migration 0013; rules in engine/taskextras.py): the
    # contract's start and end (a multi-year task ends after its registration year; the
    # acceptance deadline of a workflow that says `or_task_end` falls on `ends_on`), and where
    # its money comes from and how much, in whole đồng.
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    funding_source: Mapped[str | None] = mapped_column(String(24))
    funding_amount: Mapped[int | None] = mapped_column(BigInteger)
    # Who last set them and when: the OS login (or "web"), and the person named (`--as`, the
    # web's signed-in person).
    extras_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    extras_by: Mapped[str | None] = mapped_column(String(120))
    extras_acting_as: Mapped[str | None] = mapped_column(String(320))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's own hook)

    definition: Mapped[WorkflowDefinition] = relationship()
    unit: Mapped[Unit] = relationship()
    pi: Mapped[Person] = relationship()
    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="task", order_by="Deadline.id"
    )
    history: Mapped[list[HistoryEntry]] = relationship(
        back_populates="task", order_by="HistoryEntry.seq"
    )


class Deadline(Base):
    """A deadline opened when a task entered a state; closed when it left or was extended."""

    __tablename__ = "deadline"
    __table_args__ = (Index("ix_deadline_open_due", "closed_at", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    state: Mapped[str] = mapped_column(String(60))
    due_on: Mapped[dt.date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(20))

    task: Mapped[Task] = relationship(back_populates="deadlines")


class HistoryEntry(Base):
    """One fired transition. Append-only."""

    __tablename__ = "task_history"
    __table_args__ = (UniqueConstraint("task_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    actor: Mapped[str] = mapped_column(String(320))
    actor_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    effective_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Acting for someone else, said so: the office person who recorded it on the unit's behalf
    # (the actor is then the unit's person), and the OS login of a CLI command.
    recorded_by: Mapped[str | None] = mapped_column(String(320))
    operator: Mapped[str | None] = mapped_column(String(120))

    task: Mapped[Task] = relationship(back_populates="history")


class Refusal(Base):
    """An attempted transition the engine refused. Append-only audit, kept apart from history."""

    __tablename__ = "refusal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    event: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DirectoryChange(Base):
    """One change to a unit or a person, with who made it. Append-only; written in the same
    transaction as the change it records.

    `entity` is `unit` or `person`, `key` the unit's code or the person's e-mail; `change` one of
    added, updated, head_replaced, deactivated, activated; `details` what changed (old and new
    values, the reason). `operator` is the OS login that ran the command, `acting_as` the
    registered person it named with `--as`, if any.
    """

    __tablename__ = "directory_change"
    __table_args__ = (Index("ix_directory_change_entity_key", "entity", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    entity: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(320))
    change: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    operator: Mapped[str] = mapped_column(String(120))
    acting_as: Mapped[str | None] = mapped_column(String(320))
