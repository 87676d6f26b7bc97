"""Daemon heartbeats: one row per daemon process, for `nckh status` and SQLite's one-daemon rule."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.timers import DaemonHeartbeat


def live_heartbeats(session: Session) -> list[DaemonHeartbeat]:
    """Daemons that have not said they stopped (some may be dead: see their beat)."""
    return list(session.scalars(select(DaemonHeartbeat).where(
        DaemonHeartbeat.stopped_at.is_(None))))


def add_heartbeat(session: Session, *, worker: str, host: str, pid: int,
                  at: dt.datetime) -> None:
    session.add(DaemonHeartbeat(id=worker, host=host, pid=pid, started_at=at, beat_at=at,
                                passes=0, fired=0))


def beat(session: Session, worker: str, *, at: dt.datetime, fired: int, passes: int,
         stopped: bool) -> None:
    values: dict[str, object] = {"beat_at": at, "passes": DaemonHeartbeat.passes + passes,
                                 "fired": DaemonHeartbeat.fired + fired}
    if stopped:
        values["stopped_at"] = at
    session.execute(update(DaemonHeartbeat).where(DaemonHeartbeat.id == worker)
                    .values(**values))


def recent_heartbeats(session: Session, limit: int = 20) -> list[DaemonHeartbeat]:
    return list(session.scalars(select(DaemonHeartbeat)
                                .order_by(DaemonHeartbeat.beat_at.desc()).limit(limit)))


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"
