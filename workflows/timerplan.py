"""Planning timers, pure: a deadline, a timer policy and the business calendar in, timer rows out.

Rules (see docs/scheduling.md):
- Reminders count back from the *remind target* (the last working day on or before the due
  day) and go out on a working day, rolled *earlier* if needed, so the notice is never shorter
  than promised. Reminders dated before the deadline opened are not planned; two reminders
  landing on one day become one (the longer notice wins).
- The deadline-passed notice goes out on the first working day after the *legal end*.
- Escalation step "after N days" goes out on legal end + N days (at least one day after), rolled
  *later* to a working day; a repeating step's occurrence k is at legal end + N + k·repeat.
- An automatic event fires on legal end + N days, rolled later to a working day.
Every timer fires at the configured hour (08:00 by default) of its day, in the business zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workflows.model import EscalationStep, TimerPolicy

if TYPE_CHECKING:  # the holiday data loads only where a calendar is built
    from workflows.calendar import BusinessCalendar


@dataclass(frozen=True)
class PlannedTimer:
    kind: str  # reminder | deadline | escalation | auto_event
    slot: int
    occurrence: int
    fire_on: dt.date
    fire_at: dt.datetime
    days: int = 0
    to_role: str | None = None
    repeat_every: int | None = None
    event: str | None = None
    repeat_until: dt.date | None = None  # a repeating escalation's last possible day


@dataclass(frozen=True)
class Planner:
    calendar: BusinessCalendar
    send_at: dt.time
    tz: dt.tzinfo

    def at(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.send_at, tzinfo=self.tz)

    def plan(self, due_on: dt.date, policy: TimerPolicy | None,
             opened_on: dt.date) -> list[PlannedTimer]:
        cal = self.calendar
        out: list[PlannedTimer] = []
        target = cal.remind_target(due_on)
        legal = cal.legal_end(due_on)
        policy = policy or TimerPolicy()
        seen_days: set[dt.date] = set()
        for days_before in sorted(policy.remind_before_days, reverse=True):
            day = cal.previous_working_day(target - dt.timedelta(days=days_before))
            # On the day the deadline opens its own mail (registration, request, transition)
            # states the date: a reminder that day would say it twice.
            if day <= opened_on or day in seen_days:
                continue
            seen_days.add(day)
            out.append(PlannedTimer("reminder", days_before, 0, day, self.at(day),
                                    days=days_before))
        if policy.overdue_notice:
            passed = cal.next_working_day(legal, inclusive=False)
            out.append(PlannedTimer("deadline", 0, 0, passed, self.at(passed)))
        for index, step in enumerate(policy.escalate):
            day = self.escalation_day(legal, step, 0)
            out.append(PlannedTimer("escalation", index, 0, day, self.at(day),
                                    days=step.after_days, to_role=step.to,
                                    repeat_every=step.repeat_every_days,
                                    repeat_until=self.repeat_until(legal, step)))
        if policy.on_overdue is not None:
            auto = policy.on_overdue
            day = cal.next_working_day(legal + dt.timedelta(days=auto.after_days))
            out.append(PlannedTimer("auto_event", 0, 0, day, self.at(day), days=auto.after_days,
                                    event=auto.event))
        return out

    def escalation_day(self, legal_end: dt.date, step: EscalationStep, occurrence: int) -> dt.date:
        offset = max(step.after_days, 1) + occurrence * (step.repeat_every_days or 0)
        return self.calendar.next_working_day(legal_end + dt.timedelta(days=offset))

    def repeat_until(self, legal_end: dt.date, step: EscalationStep) -> dt.date | None:
        """The last day a repeating escalation may fire: after its `repeats`, and never past
        the end of the reporting year (nobody is chased into the next year's plan)."""
        if not step.repeat_every_days:
            return None
        year_end = dt.date(legal_end.year, 12, 31)
        if step.repeats is None:
            return year_end
        return min(year_end, self.escalation_day(legal_end, step, step.repeats))

    def escalation_timer(self, slot: int, step: EscalationStep, occurrence: int,
                         at: dt.datetime, repeat_until: dt.date | None) -> PlannedTimer:
        """Occurrence `occurrence` of escalation step `slot`, firing at `at`."""
        return PlannedTimer("escalation", slot, occurrence, at.astimezone(self.tz).date(), at,
                            days=step.after_days, to_role=step.to,
                            repeat_every=step.repeat_every_days, repeat_until=repeat_until)

    def next_occurrence(self, legal_end: dt.date, step: EscalationStep, occurrence: int,
                        now: dt.datetime,
                        until: dt.date | None = None) -> tuple[int, dt.datetime] | None:
        """The first occurrence after `occurrence` that is still in the future (after downtime,
        missed occurrences are folded into the one that just fired), if it falls on or before
        `until` (the series' end)."""
        if not step.repeat_every_days:
            return None
        k = occurrence + 1
        while True:
            day = self.escalation_day(legal_end, step, k)
            if until is not None and day > until:
                return None
            at = self.at(day)
            if at > now:
                return k, at
            k += 1
