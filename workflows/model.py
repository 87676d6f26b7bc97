"""The workflow model: frozen values a validated definition file becomes. Pure data, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ROLES = ("office", "council", "unit_head", "pi", "system")
PERSON_ROLES = ("office", "council", "unit_head", "pi")  # what a registered person may be
# A task's level is its workflow's (`level:` in the file). Research levels are the tasks a unit
# runs (the quota counts them); an obligation is a unit's periodic report to the Sở.
RESEARCH_LEVELS = ("unit", "province", "initiative")
OBLIGATION_LEVEL = "obligation"
LEVELS = (*RESEARCH_LEVELS, OBLIGATION_LEVEL)
# Roles an event may bar (`not_by`): a person holding one of them on the task may not fire it,
# whatever other role would allow them. `system` is no person, so it cannot be barred.
BARRABLE_ROLES = PERSON_ROLES
FIELD_TYPES = ("text", "date", "url", "int", "email")
# What the reports count and the calendar cites, named on the event that reaches it (`milestone`),
# so nothing outside the definitions names a workflow's events or states.
MILESTONES = ("outline_approved", "started", "accepted", "published", "submitted")
DURATION_UNITS = ("days", "working_days", "months")
# A unit is public (under the Sở: hospitals, health centres) or private (ngoài công lập).
UNIT_KINDS = ("public", "private")

ReasonRule = Literal["required", "optional"]


@dataclass(frozen=True)
class Labels:
    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # one of DURATION_UNITS

    def __str__(self) -> str:
        short = {"days": "d", "working_days": "wd", "months": "mo"}[self.unit]
        return f"{self.amount}{short}"


@dataclass(frozen=True)
class DeadlineRule:
    """When a state must be left: by a fixed day of the task's year, or within a period of entry.

    `before` is the day named in the plans ("before 30 April"): the obligation is late after that
    day ends (the business calendar, not this rule, rolls a day off to the next working day).
    """

    before: tuple[int, int] | None = None  # (month, day)
    within: Duration | None = None
    label: Labels | None = None
    # `or_task_end: true`: a task that declares its own end date (a multi-year task's contract,
    # `nckh task new --ends`) is due then instead.
    or_task_end: bool = False

    def describe(self) -> str:
        if self.before is not None:
            return f"before {self.before[1]:02d}/{self.before[0]:02d}"
        assert self.within is not None
        return f"within {self.within}"


@dataclass(frozen=True)
class EscalationStep:
    after_days: int
    to: str  # a role
    repeat_every_days: int | None = None
    repeats: int | None = None  # how many times it repeats (None: until the year closes)


@dataclass(frozen=True)
class AutoEvent:
    after_days: int
    event: str


@dataclass(frozen=True)
class TimerPolicy:
    """The reminder and escalation ladder around a deadline (acted on by the scheduler)."""

    remind_before_days: tuple[int, ...] = ()
    escalate: tuple[EscalationStep, ...] = ()
    on_overdue: AutoEvent | None = None
    overdue_notice: bool = True  # the notice, the day after, that the date has passed


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # one of FIELD_TYPES
    required: bool = False
    label: Labels | None = None


@dataclass(frozen=True)
class StateDef:
    name: str
    labels: Labels
    final: bool = False
    # A task that ends here never counted (rejected, cancelled): the quota and the compilation's
    # valid tasks leave it out.
    void: bool = False
    deadline: DeadlineRule | None = None
    timers: TimerPolicy | None = None


@dataclass(frozen=True)
class EventDef:
    name: str
    labels: Labels
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    reason: ReasonRule = "optional"
    not_by: frozenset[str] = frozenset()
    fields: tuple[FieldSpec, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    deadline_from: str | None = None
    milestone: str | None = None
    # A step that leaves the task where it is and its open deadline as it stands (a request
    # the office answers with another event: an extension asked for, not yet granted).
    keeps_deadline: bool = False

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None


@dataclass(frozen=True)
class Workflow:
    name: str
    version: int
    labels: Labels
    level: str
    initial: str
    states: Mapping[str, StateDef]
    events: Mapping[str, EventDef]
    timers: TimerPolicy | None = None
    office: str | None = None  # the office its mail goes to (`[[offices]]` key); None: default
    sha256: str = ""
    source: str = field(default="", repr=False)
    path: str = ""

    def deadline_label(self, state: str, lang: str) -> str:
        """What the deadline of `state` is called: its own label, else the state's, else the
        state's name (a snapshot that no longer has the state)."""
        found = self.states.get(state)
        rule = found.deadline if found else None
        if rule is not None and rule.label is not None:
            return rule.label.get(lang)
        return found.labels.get(lang) if found else state

    def expected_next(self, state: str, lang: str) -> str | None:
        """What is expected of a task in `state`, in words: its deadline's label when the state
        has a deadline; else the first event (in the definition's order) that leads on, neither
        to a void end (cancel, reject, withdraw) nor back to the state itself (an extension);
        None in a final state or one that has no such event."""
        found = self.states.get(state)
        if found is None or found.final:
            return None
        if found.deadline is not None:
            return self.deadline_label(state, lang)
        for ev in self.events_from(state):
            dest = self.states.get(ev.dest)
            if ev.dest != state and dest is not None and not dest.void:
                return ev.labels.get(lang)
        return None

    def milestone_event(self, milestone: str) -> EventDef | None:
        return next((ev for ev in self.events.values() if ev.milestone == milestone), None)

    def cutoff(self, milestone: str) -> tuple[int, int] | None:
        """The (month, day) a milestone is due by in the plan: the `before` date of the deadline
        of the state its event leaves (the outline approved before 30/4, accepted before 1/12)."""
        ev = self.milestone_event(milestone)
        for state in ev.sources if ev else ():
            rule = self.states[state].deadline
            if rule is not None and rule.before is not None:
                return rule.before
        return None

    def events_from(self, state: str) -> list[EventDef]:
        return [ev for ev in self.events.values() if state in ev.sources]

    def timers_for(self, state: str) -> TimerPolicy | None:
        st = self.states[state]
        return st.timers if st.timers is not None else self.timers

    def deadline_due_on(
        self, state: str, year: int, entered_on: dt.date, working: WorkingDays | None = None
    ) -> dt.date | None:
        rule = self.states[state].deadline
        return None if rule is None else due_on(rule, year, entered_on, working)


def month_day(text: str) -> tuple[int, int]:
    """A day of every year written MM-DD ("04-30"); ValueError saying what is wrong."""
    import re

    match = re.fullmatch(r"(\d{2})-(\d{2})", text.strip())
    if not match:
        raise ValueError(f"invalid date '{text}': expected MM-DD, e.g. 04-30")
    month, day = int(match[1]), int(match[2])
    try:
        dt.date(2024, month, day)  # a leap year: 02-29 gets its own reason below
    except ValueError:
        raise ValueError(f"invalid date '{text}': no such day of the year") from None
    if (month, day) == (2, 29):
        raise ValueError("invalid date '02-29': it does not exist in most years")
    return month, day


MAX_SCAN_DAYS = 60  # no run of days off in Việt Nam is this long (Tết is about 9)


class WorkingDays:
    """Stepping over days off: the one home of working-day arithmetic. Monday–Friday here;
    `workflows.calendar.BusinessCalendar` knows Việt Nam's holidays and swapped days."""

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5

    def next_working_day(self, day: dt.date, *, inclusive: bool = True) -> dt.date:
        step = day if inclusive else day + dt.timedelta(days=1)
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(step):
                return step
            step += dt.timedelta(days=1)
        raise ValueError(f"no working day within {MAX_SCAN_DAYS} days after {day}")

    def previous_working_day(self, day: dt.date, *, inclusive: bool = True) -> dt.date:
        step = day if inclusive else day - dt.timedelta(days=1)
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(step):
                return step
            step -= dt.timedelta(days=1)
        raise ValueError(f"no working day within {MAX_SCAN_DAYS} days before {day}")

    def add(self, start: dt.date, days: int) -> dt.date:
        """`start` plus `days` working days (the `within: Nwd` of workflow definitions)."""
        day = start
        remaining = days
        while remaining > 0:
            day = self.next_working_day(day, inclusive=False)
            remaining -= 1
        return day



def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def due_on(
    rule: DeadlineRule, year: int, entered_on: dt.date, working: WorkingDays | None = None
) -> dt.date:
    if rule.before is not None:
        month, day = rule.before
        return dt.date(year, month, day)
    assert rule.within is not None
    amount, unit = rule.within.amount, rule.within.unit
    if unit == "days":
        return entered_on + dt.timedelta(days=amount)
    if unit == "months":
        return add_months(entered_on, amount)
    return (working or WorkingDays()).add(entered_on, amount)
