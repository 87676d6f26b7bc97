"""Installs the scheduling component into an `App`: subscribers, the tick job, `task show` lines.

`install(app)` reads the `[scheduler]` and `[calendar]` config sections (a bad value stops the
command before anything runs), gives the engine the holiday-aware working-day calendar, subscribes
the timer planner to DeadlineOpened/DeadlineClosed, and registers the scheduler's pass as the
*first* tick job, so the e-mails its timers queue go out in the same pass.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.events import DomainEvent
from engine.scheduling.config import SchedulerConfig, load_config
from engine.scheduling.obligations import CalendarJobs
from engine.scheduling.timers import TimerService
from storage.timers import Timer

if TYPE_CHECKING:
    from engine.app import App


def default_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Scheduling:
    config: SchedulerConfig
    timers: TimerService
    jobs: CalendarJobs

    def set_worker(self, worker: str) -> None:
        self.timers.worker = self.jobs.worker = worker

    def tick(self, now: dt.datetime, stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
        """One pass as of `now`: calendar jobs (which may plant timers), then due timers."""
        counts = dict(self.jobs.run_due(now))
        counts.update(self.timers.sweep(now, stop))
        return counts

    def on_event(self, session: Session, event: DomainEvent) -> None:
        self.timers.on_event(session, event)

    def detail(self, s: Session, task_id: int, now: dt.datetime) -> dict[str, list[str]]:
        tz = self.timers.engine.tz
        rows = s.scalars(select(Timer).where(Timer.task_id == task_id)
                         .order_by(Timer.fire_at, Timer.id)).all()
        pending, done = [], []
        for t in rows:
            what = {"reminder": f"reminder {t.days}d before {t.due_on.isoformat()}",
                    "deadline": f"deadline {t.due_on.isoformat()} passed (legal end "
                                f"{t.legal_end.isoformat()})",
                    "escalation": f"escalation to {t.to_role} (step {t.slot + 1}"
                                  f"{', #' + str(t.occurrence + 1) if t.repeat_every else ''})",
                    "auto_event": f"automatic event '{t.event}'"}[t.kind]
            at = t.fire_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            if t.done_at is None:
                pending.append(f"{at}  {what}  [{t.state}]")
            else:
                when = t.done_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                note = f" — {t.reason}" if t.reason else ""
                done.append(f"{at}  {what}  [{t.state}]  {t.status} {when}{note}")
        return {"Timers pending": pending, "Timers done": done}


def install(app: App) -> None:
    """Subscribe the timer planner to the engine's domain events; register the timer sweep."""
    config = load_config(app.settings.section("scheduler"), app.settings.section("calendar"))
    engine = app.engine
    engine.working_days = config.calendar
    worker = default_worker()
    scheduling = Scheduling(config, TimerService(engine, config, worker),
                            CalendarJobs(engine, config, worker))
    engine.bus.subscribe(scheduling.on_event)
    engine.detail_hooks.append(scheduling.detail)
    app.extras["scheduling"] = scheduling
    app.tick_jobs.insert(0, ("timers", scheduling.tick))


def scheduling_of(app: App) -> Scheduling:
    found = app.extras.get("scheduling")
    assert isinstance(found, Scheduling), "the scheduling component is not installed"
    return found
