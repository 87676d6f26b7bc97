"""Wiring: settings in, a ready `App` out. Used by the CLI and the daemon (the shells).

Components that react to domain events (timers, the outbox) install themselves here, so the engine
core never imports them. Each may also register a tick job: one pass of its due work as of `now`,
run in order by `nckh tick` and by the daemon (timers first, so the e-mails a timer queues go out
in the same pass). A job is handed the daemon's `stop` predicate and, once it turns true, returns
after the unit of work in hand (a group of timers, the e-mails on the wire), never after a whole
backlog. A component may also register start-up work (`App.startup`), run once by the daemon
and by `nckh tick` before their first pass, never by the other commands (which may run under an
account that can only read): e.g. the mail component removes abandoned maildir/tmp files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from engine.events import EventBus, Subscriber
from engine.service import Engine
from engine.settings import Settings
from storage.db import make_engine, session_factory
from storage.migrate import ensure_current
from workflows.registry import Registry

StopFlag = Callable[[], bool]
TickJob = Callable[[dt.datetime, StopFlag], Mapping[str, int]]


@dataclass
class App:
    settings: Settings
    db: DbEngine
    sessions: sessionmaker[Session]
    engine: Engine
    tick_jobs: list[tuple[str, TickJob]] = field(default_factory=list)
    extras: dict[str, object] = field(default_factory=dict)
    startup: list[Callable[[], object]] = field(default_factory=list)

    def start(self) -> None:
        """The components' start-up work, before the first pass of a daemon or a tick."""
        for job in self.startup:
            job()

    def tick(self, now: dt.datetime,
             stop: StopFlag = lambda: False) -> dict[str, Mapping[str, int]]:
        """One pass of every component's due work as of `now`; when `stop()` turns true (the
        daemon was told to exit) the remaining components wait for the next pass."""
        done: dict[str, Mapping[str, int]] = {}
        for name, job in self.tick_jobs:
            if stop():
                break
            done[name] = job(now, stop)
        return done

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings, *, check_schema: bool = True,
          subscribers: list[Subscriber] | None = None, install: bool = True) -> App:
    from engine.reports import wiring as reports
    from engine.scheduling import wiring as scheduling
    from notifications import wiring as notifications

    db = make_engine(settings.database_url)
    if check_schema:
        ensure_current(db)
    sessions = session_factory(db)
    bus = EventBus()
    engine = Engine(sessions, Registry(settings.workflows_dir), tz=settings.tz, bus=bus)
    app = App(settings=settings, db=db, sessions=sessions, engine=engine)
    if install:
        scheduling.install(app)
        notifications.install(app)
        reports.install(app)
    for sub in subscribers or []:
        bus.subscribe(sub)
    return app


__all__ = ["App", "TickJob", "build"]
