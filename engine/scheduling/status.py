"""Read models for `nckh status` and `nckh calendar list`: plain, JSON-ready dicts.

A daemon is alive when it has not stopped and its heartbeat is younger than `heartbeat_stale_s`.
A timer is *due* once its time has come and *overdue* when it has waited more than
`OVERDUE_AFTER` past its time: a sign that no daemon is sweeping (or that it is outside business
hours, which `status` says too).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.app import App
from engine.scheduling.obligations import jobs_of
from storage.daemons import recent_heartbeats
from storage.timers import last_calendar_runs, next_timers, timer_totals

OVERDUE_AFTER = dt.timedelta(minutes=15)


def _iso(value: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat(timespec="seconds")


def status(app: App, now: dt.datetime, *, upcoming: int = 10) -> dict[str, Any]:
    sch = app.config.scheduler
    tz = app.engine.tz
    stale = dt.timedelta(seconds=sch.heartbeat_stale_s)
    with app.engine.transaction(read_only=True) as s:
        daemons = [{
            "id": d.id, "host": d.host, "pid": d.pid, "started_at": _iso(d.started_at, tz),
            "beat_at": _iso(d.beat_at, tz), "stopped_at": _iso(d.stopped_at, tz),
            "alive": d.stopped_at is None and d.beat_at > now - stale,
            "passes": d.passes, "fired": d.fired,
        } for d in recent_heartbeats(s)]
        conn = s.connection()
        totals = timer_totals(conn, now, OVERDUE_AFTER)
        nxt = [{
            "at": _iso(t.fire_at, tz), "task_id": t.task_id, "kind": t.kind, "state": t.state,
            "to_role": t.to_role, "days": t.days, "due_on": t.due_on.isoformat(),
        } for t in next_timers(conn, now, upcoming)]
    return {
        "now": _iso(now, tz),
        "business_hours": sch.in_business_hours(now.astimezone(tz)),
        "daemons": daemons, "timers": totals, "next": nxt,
    }


def calendar_list(app: App, now: dt.datetime) -> list[dict[str, Any]]:
    tz = app.engine.tz
    with app.engine.transaction(read_only=True) as s:
        last = last_calendar_runs(s.connection())
    rows = []
    for job in jobs_of(app.config.scheduler):
        spec = job.obligation
        if job.kind == "session_check":
            when = (f"monthly, {app.config.scheduler.sessions.remind_before} days before each "
                    "session period ends")
        elif spec is None:
            assert job.month_day is not None
            when = f"yearly {job.month_day[1]:02d}/{job.month_day[0]:02d}"
            if job.after_working_days:
                when = (f"yearly, {job.after_working_days} working days after the legal end of "
                        f"{job.month_day[1]:02d}/{job.month_day[0]:02d}")
        elif spec.every == "month":
            when = (f"monthly, requested day {spec.request_day}, due "
                    f"{'last day' if not spec.due_day else f'day {spec.due_day}'}")
        else:
            when = (f"yearly, requested {spec.request[1]:02d}/{spec.request[0]:02d}, due "
                    f"{spec.due[1]:02d}/{spec.due[0]:02d}")
        rows.append({"job": job.name, "kind": job.kind, "when": when,
                     "title": spec.title if spec else None,
                     "next_run": _iso(app.calendar_jobs.next_run(job, now), tz),
                     "last_run": _iso(last.get(job.name), tz)})
    return rows
