"""Scheduler tables: timers, calendar-job runs, obligations, daemon heartbeats.

The database is the record of what is due; the daemon's ticker only asks it. Every "exactly
once" here is a row and a key, never an in-memory flag:

- `timer`: one row per reminder, deadline-passed notice, escalation step occurrence or automatic
  event of one deadline. Unique on (deadline, kind, slot, occurrence) so re-planning cannot
  double it. `done_at IS NULL` means pending; the partial index on `fire_at` over pending rows
  is what makes an empty sweep cheap with a million timers.
- `calendar_run`: one row per (job, scheduled_for); inserted with ON CONFLICT DO NOTHING in the
  transaction that does the job, so a run happens once even with several daemons.
- `obligation`: the per-unit instance of a calendar obligation, pointing at its `unit_report`
  task (the notifications component reads it by `task_id` to pick its templates).
- `daemon_heartbeat`: one row per daemon process; `nckh status` reads it, and a second daemon on
  SQLite refuses to start while a live one is there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime

TIMER_KINDS = ("reminder", "deadline", "escalation", "auto_event")
TIMER_STATUSES = ("pending", "fired", "skipped", "cancelled")


class Timer(Base):
    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("deadline_id", "kind", "slot", "occurrence"),
        Index("ix_timer_pending_fire_at", "fire_at",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadline.id"))
    state: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))
    # reminder: days before; escalation: step index (0-based); deadline/auto_event: 0
    slot: Mapped[int] = mapped_column(Integer)
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    due_on: Mapped[dt.date] = mapped_column(Date)
    legal_end: Mapped[dt.date] = mapped_column(Date)
    fire_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    days: Mapped[int] = mapped_column(Integer, default=0)
    to_role: Mapped[str | None] = mapped_column(String(16))
    repeat_every: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    fired_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CalendarRun(Base):
    __tablename__ = "calendar_run"
    __table_args__ = (UniqueConstraint("job", "scheduled_for"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    run_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Obligation(Base):
    __tablename__ = "obligation"
    __table_args__ = (UniqueConstraint("key", "unit_id", "year", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    year: Mapped[int] = mapped_column(Integer)
    period: Mapped[int] = mapped_column(Integer)  # 0 for a yearly obligation, else the month
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), unique=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DaemonHeartbeat(Base):
    __tablename__ = "daemon_heartbeat"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    passes: Mapped[int] = mapped_column(Integer, default=0)
    fired: Mapped[int] = mapped_column(Integer, default=0)


def renew_timer_claims(conn: Connection, ids: list[int], *, owner: str,
                       until: dt.datetime) -> list[int]:
    """Extend `owner`'s lease on the pending timers it still holds; return those."""
    if not ids:
        return []
    kept = conn.execute(update(Timer).where(Timer.id.in_(ids), Timer.claimed_by == owner,
                                            Timer.done_at.is_(None))
                        .values(lease_until=until).returning(Timer.id))
    return list(kept.scalars())
