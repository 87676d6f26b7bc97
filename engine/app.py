"""Wiring: settings in, a ready `Engine` out. Used by the CLI and the daemon (the shells).

Components that react to domain events (timers, the outbox) register here, so the engine itself
never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from engine.events import EventBus, Subscriber
from engine.service import Engine
from engine.settings import Settings
from storage.db import make_engine, session_factory
from storage.migrate import ensure_current
from workflows.registry import Registry

# Each plugin gets the settings and the bus and may subscribe; registered by component modules.
Plugin = Callable[[Settings, EventBus], None]
PLUGINS: list[Plugin] = []


@dataclass
class App:
    settings: Settings
    db: DbEngine
    sessions: sessionmaker[Session]
    engine: Engine
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings, *, check_schema: bool = True,
          subscribers: list[Subscriber] | None = None) -> App:
    db = make_engine(settings.database_url)
    if check_schema:
        ensure_current(db)
    sessions = session_factory(db)
    bus = EventBus()
    for plugin in PLUGINS:
        plugin(settings, bus)
    for sub in subscribers or []:
        bus.subscribe(sub)
    engine = Engine(sessions, Registry(settings.workflows_dir), tz=settings.tz, bus=bus)
    return App(settings=settings, db=db, sessions=sessions, engine=engine)
