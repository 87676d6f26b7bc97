"""Domain events: the facts the engine records, published to subscribers inside its transaction.

Subscribers (the timer planner, the outbox) receive the open session and each event after the
engine has flushed its rows, so whatever they add commits or rolls back with the transition. They
must not commit, and an exception from one aborts the whole transaction: better no transition
than a transition whose reminders or e-mails were silently lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TaskRegistered:
    task_id: int
    workflow: str
    state: str
    unit_id: int
    at: dt.datetime


@dataclass(frozen=True)
class TransitionFired:
    task_id: int
    workflow: str
    event: str
    from_state: str
    to_state: str
    actor: str
    actor_role: str
    reason: str | None
    data: Mapping[str, Any]
    effective_at: dt.datetime
    recorded_at: dt.datetime
    history_id: int


@dataclass(frozen=True)
class DeadlineOpened:
    task_id: int
    deadline_id: int
    state: str
    due_on: dt.date
    rule: str
    at: dt.datetime
    extended: bool = False


@dataclass(frozen=True)
class DeadlineClosed:
    task_id: int
    deadline_id: int
    state: str
    outcome: str
    at: dt.datetime





# --- facts written by the scheduler when a timer fires (consumed by notifications) -------------
@dataclass(frozen=True)
class ReminderDue:
    """A deadline is coming: `days_before` days before `due_on` (the reminder date)."""

    task_id: int
    deadline_id: int
    state: str
    due_on: dt.date
    days_before: int
    at: dt.datetime
    timer_id: int


@dataclass(frozen=True)
class DeadlinePassed:
    task_id: int
    deadline_id: int
    state: str
    due_on: dt.date
    at: dt.datetime
    timer_id: int


@dataclass(frozen=True)
class Escalated:
    """An overdue deadline escalated to a role (`unit_head` first, then `office`)."""

    task_id: int
    deadline_id: int
    state: str
    due_on: dt.date
    to_role: str
    step: int
    days_overdue: int
    at: dt.datetime
    timer_id: int


@dataclass(frozen=True)
class QuotaNotMet:
    """A unit has no task registered for the year at the quota check date."""

    unit_id: int
    year: int
    at: dt.datetime


@dataclass(frozen=True)
class ReportDue:
    """A configured report date arrived (compliance/progress reports to the office)."""

    report: str
    year: int
    at: dt.datetime


TimerEvent = ReminderDue | DeadlinePassed | Escalated | QuotaNotMet | ReportDue

DomainEvent = (
    TaskRegistered | TransitionFired | DeadlineOpened | DeadlineClosed | TimerEvent
)


class Subscriber(Protocol):
    def __call__(self, session: Session, event: DomainEvent) -> None: ...


@dataclass
class EventBus:
    subscribers: list[Subscriber] = field(default_factory=list)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def publish(self, session: Session, events: list[DomainEvent]) -> None:
        for event in events:
            for subscriber in self.subscribers:
                subscriber(session, event)
