"""The rows a report is computed from: plain frozen values, dates already in local time.

`storage.reports` builds them from the database; tests may build them by hand. A task's `events`
are its history in order (the `create` entry included), each with the local date it took effect, so
any "as of" view is a filter on dates and never a second query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    kind: str  # public | private
    active: bool = True
    created_on: dt.date | None = None  # periods that ended before it are not the unit's


@dataclass(frozen=True)
class EventRow:
    event: str
    to_state: str
    on: dt.date
    milestone: str | None = None  # what the event reached (`milestone:` in its definition)
    # The fields fired with it (`--set decision_no=…`): the decisions the compilation lists.
    data: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class TaskRow:
    id: int
    unit_id: int
    level: str
    workflow: str
    events: tuple[EventRow, ...]
    title: str = ""
    pi_name: str = ""
    topic: int | None = None
    funding_source: str | None = None  # the task's extras (migration 0013), when recorded
    funding_amount: int | None = None

    @property
    def created_on(self) -> dt.date:
        return self.events[0].on

    def state_on(self, day: dt.date) -> str | None:
        """The state the task was in at the end of `day` (None: not registered yet)."""
        state = None
        for ev in self.events:
            if ev.on > day:
                break
            state = ev.to_state
        return state

    def reached(self, milestone: str, *, until: dt.date) -> dt.date | None:
        """The day the task first reached `milestone`, if it did on or before `until`."""
        first = self.reaching(milestone, until=until)
        return first.on if first else None

    def reaching(self, milestone: str, *, until: dt.date) -> EventRow | None:
        """The event by which the task first reached `milestone`, on or before `until`."""
        for ev in self.events:
            if ev.milestone == milestone and ev.on <= until:
                return ev
        return None


@dataclass(frozen=True)
class DeadlineRow:
    task_id: int
    due_on: dt.date
    opened_on: dt.date
    closed_on: dt.date | None

    def overdue_on(self, day: dt.date, legal_end: dt.date | None = None) -> bool:
        """Open at the end of `day` with its legal end (else its due date) already behind."""
        still_open = self.closed_on is None or self.closed_on > day
        return self.opened_on <= day and still_open and (legal_end or self.due_on) < day


@dataclass(frozen=True)
class ObligationRow:
    unit_id: int
    key: str
    period: int  # 0 for a yearly obligation, else the month
    due_on: dt.date
    submitted_on: dt.date | None
    task_id: int | None = None  # the unit_report task it is (the dashboard links each cell)
    # The day the office closed it straight after the unit's submission (acknowledged: a final
    # state entered from the submitted one), a waiver never counting as accepted.
    accepted_on: dt.date | None = None


@dataclass(frozen=True)
class OutcomeRow:
    """An acceptance council's outcome (storage/councils.py): what the detail list grades."""

    task_id: int
    held_on: dt.date
    result: str  # passed | revise | failed
    grade: str | None  # excellent | good | pass


@dataclass(frozen=True)
class ApplicationRow:
    """Where a task's result is applied from a day on (storage/applications.py)."""

    task_id: int
    kind: str  # applied | transfer | cooperation
    place: str
    since: dt.date


@dataclass(frozen=True)
class PublicationRow:
    unit_id: int
    venue_kind: str  # journal_domestic | journal_international | conference | unit_website | …
    published_on: dt.date
    task_id: int | None = None


@dataclass(frozen=True)
class Dataset:
    year: int
    units: tuple[UnitRow, ...]
    tasks: tuple[TaskRow, ...]
    deadlines: tuple[DeadlineRow, ...] = ()
    obligations: tuple[ObligationRow, ...] = ()
    # (workflow, state) pairs that end a task, and display labels of states (Vietnamese).
    final_states: frozenset[tuple[str, str]] = frozenset()
    # (unit id, day) of every science session held in the year.
    sessions: tuple[tuple[int, dt.date], ...] = ()
    # Every publication of the year (storage/publications.py): what the reports count.
    publications: tuple[PublicationRow, ...] = ()
    # The acceptance outcomes and recognition days of the year's tasks (storage/councils.py).
    outcomes: tuple[OutcomeRow, ...] = ()
    recognitions: Mapping[int, dt.date] = field(default_factory=dict)
    # The applications of the year's tasks' results (storage/applications.py).
    applications: tuple[ApplicationRow, ...] = ()
    # (workflow, state) pairs where a task never counted (rejected, cancelled: `void: true`).
    void_states: frozenset[tuple[str, str]] = frozenset()
    state_labels: Mapping[str, str] = field(default_factory=dict)
    # (month, day) each milestone is due by in the plan, read from the definitions' deadlines.
    cutoffs: Mapping[str, tuple[int, int]] = field(default_factory=dict)
