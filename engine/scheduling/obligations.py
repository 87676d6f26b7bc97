"""Calendar jobs: the yearly and monthly obligations of every unit, the quota check, report dates.

Each job has occurrences computed from the config and the business calendar (the configured day,
rolled to the next working day, at the send hour). An occurrence runs once: its row in
`calendar_run`, keyed by (job, scheduled_for) and inserted with ON CONFLICT DO NOTHING, commits
in the same transaction as the job's work, so two daemons cannot both run it and a crash midway
leaves it to run again. Occurrences missed while no daemon ran are caught up if they are less
than `catchup_days` old; older ones are history, not work. Nor does catch-up reach back before
1 January of the year of the database's first run: a fresh install creates this year's
obligations, never last year's.

What the jobs do:
- obligation: per active unit, a task of the obligation workflow (`unit_report`) with the unit
  head as its investigator and the obligation's due date as its deadline (the timers follow);
  the `obligation` row links it to its key, unit and period;
- quota_check: a `quota_not_met` mail for each active unit of the kinds bound by the quota
  (`quota_kinds`: by default the public units under the Sở, not private hospitals) with no
  valid research task that year (a rejected or cancelled one, a `void` state, does not count);
  `quota_recheck` (by default 1/12) checks again at year end, for the units whose tasks were
  rejected or cancelled since, or that never registered one;
- session_check: each month, `remind_before` days before its end (on the last working day on or
  before that), a `session_reminder` mail for each active unit whose session period (month or
  quarter) ends that month and that has no session recorded in it yet. One reminder per unit
  and period (its dedupe key), nothing after it: a period without a session shows as missed
  in the reports;
- report:<name>: the report's e-mail, computed and queued by the reports component.
"""

from __future__ import annotations

import calendar as cal_module
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.scheduling.config import ObligationSpec, SchedulerConfig
from engine.service import Engine
from storage import calendar as rows
from storage import sessions as session_rows
from storage.db import Session
from storage.tasks import queue_mails
from workflows.model import RESEARCH_LEVELS
from workflows.periods import Period, ending_in_month

log = logging.getLogger("nckh.calendar")


@dataclass(frozen=True)
class CalendarJob:
    name: str
    kind: str  # obligation | quota_check | session_check | report
    month_day: tuple[int, int] | None = None
    obligation: ObligationSpec | None = None
    after_working_days: int = 0  # a report: that many working days after the legal end


@dataclass(frozen=True)
class Occurrence:
    job: CalendarJob
    scheduled_for: dt.datetime
    year: int
    period: int  # 0 yearly, else the month


def jobs_of(config: SchedulerConfig) -> list[CalendarJob]:
    jobs = [CalendarJob(f"obligation:{o.key}", "obligation", obligation=o)
            for o in config.obligations]
    if config.quota_check is not None:
        jobs.append(CalendarJob("quota_check", "quota_check", config.quota_check))
    if config.quota_recheck is not None:
        jobs.append(CalendarJob("quota_recheck", "quota_check", config.quota_recheck))
    if config.sessions.remind_before > 0:
        jobs.append(CalendarJob("session_check", "session_check"))
    jobs += [CalendarJob(f"report:{r.name}", "report", r.month_day,
                         after_working_days=r.after_working_days) for r in config.reports]
    return jobs


def due_date(spec: ObligationSpec, year: int, period: int) -> dt.date:
    if spec.every == "year":
        return dt.date(year, *spec.due)
    last = cal_module.monthrange(year, period)[1]
    return dt.date(year, period, spec.due_day or last)


ReportJob = Callable[[Session, str, int, dt.datetime], None]  # (session, report, year, now)


@dataclass
class CalendarJobs:
    engine: Engine
    config: SchedulerConfig
    worker: str
    reports: ReportJob | None = None  # queues a report's e-mail on its date

    def occurrences(self, job: CalendarJob, start: dt.datetime,
                    end: dt.datetime) -> Iterator[Occurrence]:
        """Occurrences with start < scheduled_for <= end, in time order."""
        tz, cal = self.engine.tz, self.config.calendar
        for year in range(start.astimezone(tz).year, end.astimezone(tz).year + 1):
            spec = job.obligation
            if job.kind == "session_check":
                ahead = dt.timedelta(days=self.config.sessions.remind_before)
                for month in range(1, 13):
                    last = dt.date(year, month, cal_module.monthrange(year, month)[1])
                    at = dt.datetime.combine(cal.previous_working_day(last - ahead),
                                             self.config.send_at, tzinfo=tz)
                    if start < at <= end:
                        yield Occurrence(job, at, year, month)
                continue
            if spec is not None and spec.every == "month":
                days = [(dt.date(year, m, spec.request_day), m) for m in range(1, 13)]
            else:
                md = spec.request if spec is not None else job.month_day
                assert md is not None
                days = [(dt.date(year, *md), 0)]
            for day, period in days:
                # A report after a deadline: the N-th working day after its legal end.
                on = (cal.add(cal.next_working_day(day), job.after_working_days)
                      if job.after_working_days else cal.next_working_day(day))
                at = dt.datetime.combine(on, self.config.send_at, tzinfo=tz)
                if start < at <= end:
                    yield Occurrence(job, at, year, period)

    def next_run(self, job: CalendarJob, now: dt.datetime) -> dt.datetime | None:
        occ = next(self.occurrences(job, now, now + dt.timedelta(days=400)), None)
        return occ.scheduled_for if occ is not None else None

    def run_due(self, now: dt.datetime) -> dict[str, int]:
        counts = {"runs": 0}
        if not self.config.in_business_hours(now.astimezone(self.engine.tz)):
            return counts
        start = now - dt.timedelta(days=self.config.catchup_days)
        with self.engine.transaction() as s:
            first = rows.first_run(s)
            floor_year = (first or now).astimezone(self.engine.tz).year
            start = max(start, dt.datetime(floor_year, 1, 1, tzinfo=self.engine.tz))
            done = rows.runs_since(s, start)
        for job in jobs_of(self.config):
            for occ in self.occurrences(job, start, now):
                if (job.name, occ.scheduled_for) in done:
                    continue
                with self.engine.transaction() as s:
                    if not rows.claim_run(s, job.name, occ.scheduled_for, worker=self.worker,
                                          now=now):
                        continue
                    result = self._run(s, occ, now)
                    rows.record_result(s, job.name, occ.scheduled_for, result)
                counts["runs"] += 1
                log.info("calendar job ran", extra={"fields": {
                    "job": job.name, "scheduled_for": occ.scheduled_for.isoformat(),
                    "worker": self.worker, **result}})
        return counts

    def _run(self, s: Session, occ: Occurrence, now: dt.datetime) -> dict[str, Any]:
        if occ.job.kind == "obligation":
            assert occ.job.obligation is not None
            return self._obligation(s, occ.job.obligation, occ, now)
        if occ.job.kind == "quota_check":
            missing = rows.units_without_task(s, occ.year, RESEARCH_LEVELS,
                                              kinds=self.config.quota_kinds,
                                              void=self.engine.void_states())
            recheck = occ.job.name == "quota_recheck"
            mails = tuple(self.engine.rules.mails.quota_not_met(u, occ.year, recheck=recheck)
                          for u in missing)
            queue_mails(s.connection(), mails, None, now)
            return {"units_without_task": len(missing)}
        if occ.job.kind == "session_check":
            return self._session_check(s, occ, now)
        name = occ.job.name.split(":", 1)[1]
        if self.reports is not None:
            self.reports(s, name, occ.year, now)
        return {"report": name}

    def _session_check(self, s: Session, occ: Occurrence, now: dt.datetime) -> dict[str, Any]:
        plan = self.config.sessions
        today = now.astimezone(self.engine.tz).date()
        due: dict[Period, list[int]] = {}
        for unit_id, code in session_rows.active_units(s):
            period = ending_in_month(plan.kind_for(code), occ.year, occ.period)
            # A check caught up after its period ended reminds no one: a reminder of a period
            # already gone would ask for the impossible; the period shows as missed instead.
            if period is not None and period.end >= today:
                due.setdefault(period, []).append(unit_id)
        reminded = 0
        for period, unit_ids in sorted(due.items()):
            missing = session_rows.units_without_session(s, unit_ids, period.start, period.end)
            mails = tuple(self.engine.rules.mails.session_reminder(u, period) for u in missing)
            queue_mails(s.connection(), mails, None, now)
            reminded += len(missing)
        return {"units_reminded": reminded}

    def _obligation(self, s: Session, spec: ObligationSpec, occ: Occurrence,
                    now: dt.datetime) -> dict[str, Any]:
        due = due_date(spec, occ.year, occ.period)
        title = spec.title.format(year=occ.year, month=f"{occ.period:02d}")
        created = no_head = 0
        for unit in rows.active_units(s):
            if rows.has_obligation(s, spec.key, unit.id, occ.year, occ.period):
                continue
            head = rows.unit_head(s, unit.id)
            if head is None:
                no_head += 1
                log.warning("obligation skipped: unit has no active head", extra={"fields": {
                    "unit": unit.code, "obligation": spec.key}})
                continue
            task_id = self.engine.register_in(
                s, workflow=self.config.obligation_workflow, unit_id=unit.id, pi_id=head.id,
                year=occ.year, title=title, now=now, due_on=due,
                rule=f"{spec.key} before {due.day:02d}/{due.month:02d}", policy=spec.timers,
                announce=spec.announce)
            rows.add_obligation(s, key=spec.key, unit_id=unit.id, year=occ.year,
                                period=occ.period, task_id=task_id, due_on=due, at=now,
                                concerns=spec.concerns)
            created += 1
        return {"created": created, "units_without_head": no_head}
