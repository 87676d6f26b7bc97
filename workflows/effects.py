"""What a step of the programme causes, as frozen values: the core decides, storage writes.

A `Step` is everything one transition causes: the task's new state, its history entry, the
deadline it closes (whose pending timers are cancelled with it) and the one it opens (with the
timers to plant around it), and the e-mails to queue. A `Registration` is the same for a new task,
a `Firing` for a timer that has come due, and `Mail` for each notification. Nothing here touches
the database or the clock: `engine.rules` computes these values from what it is shown, and
`storage.tasks` / `storage.timers` / `storage.outbox` write one of them in one transaction, so
"what does approve_outline do?" is answered — and tested — without a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.timerplan import PlannedTimer

NEW_TASK = "{task_id}"  # in a registration's dedupe keys: the id the new task gets


@dataclass(frozen=True)
class Mail:
    """A notification to queue: its kind (kinds.yaml), the key that makes it once-only, the task
    it is about, and the facts of its event (plain JSON-able data, dates allowed)."""

    kind: str
    dedupe_key: str
    task_id: int | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    to: tuple[str, ...] = ()  # explicit addresses, on top of the kind's roles
    lang: str = "vi"


@dataclass(frozen=True)
class OpenDeadline:
    """A deadline and the timers planned around it. When it opens already past (a task
    registered, or an obligation created, after its date) the ladder runs against a grace
    period instead (`grace_until`): one notice that the date has passed, then the normal
    reminders and escalations, never a retroactive escalation."""

    state: str
    due_on: dt.date
    rule: str
    legal_end: dt.date  # Civil Code art. 148: a due day that is a day off ends on the next one
    timers: tuple[PlannedTimer, ...] = ()
    grace_until: dt.date | None = None
    grace_legal_end: dt.date | None = None

    @property
    def ladder_due_on(self) -> dt.date:
        """The date the timers count from: the grace period's end, else the deadline."""
        return self.grace_until or self.due_on

    @property
    def ladder_legal_end(self) -> dt.date:
        return self.grace_legal_end or self.legal_end


@dataclass(frozen=True)
class CloseDeadline:
    deadline_id: int
    state: str
    outcome: str  # on_time | late | extended


@dataclass(frozen=True)
class History:
    seq: int
    event: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    actor: str
    actor_role: str
    reason: str | None
    data: Mapping[str, Any]
    effective_at: dt.datetime
    recorded_at: dt.datetime
    # Acting for someone, said so: the office person who recorded it on the unit's behalf, and
    # the OS login of the CLI command that fired it (None from the web and the scheduler).
    recorded_by: str | None = None
    operator: str | None = None


@dataclass(frozen=True)
class Step:
    """One transition of one task, written only if the task is still at `seen_version`."""

    task_id: int
    seen_version: int
    to_state: str
    state_entered_at: dt.datetime
    history: History
    close: CloseDeadline | None = None
    open: OpenDeadline | None = None
    mails: tuple[Mail, ...] = ()

    @property
    def event(self) -> str:
        return self.history.event


@dataclass(frozen=True)
class Registration:
    """A new task in its initial state. Its mails' dedupe keys and task ids refer to the new
    task through `NEW_TASK`, filled in by storage once the task has its id."""

    workflow: str
    level: str
    definition_sha256: str
    state: str
    unit_id: int
    pi_id: int
    year: int
    topic: int | None
    title: str
    history: History
    open: OpenDeadline | None = None
    mails: tuple[Mail, ...] = ()


@dataclass(frozen=True)
class DueTimer:
    """A timer that has come due, as storage read it (and marked it fired, pending its
    effects), with what it must re-check: its task's state and its deadline's."""

    id: int
    task_id: int
    deadline_id: int
    state: str  # the state the task was in when the timer was planted
    kind: str  # reminder | deadline | escalation | auto_event
    slot: int
    occurrence: int
    due_on: dt.date
    legal_end: dt.date
    days: int
    to_role: str | None
    repeat_every: int | None
    event: str | None
    repeat_until: dt.date | None
    task_state: str
    task_level: str
    deadline_outcome: str | None  # None while the deadline is open
    later_due: bool = False  # a later step of the same ladder is due too (after a downtime)


def automatic_reason(days: int, since: dt.date) -> str:
    """The reason recorded for an automatic step; `notifications.context.reason_text` puts it
    into a mail's language for people."""
    return f"automatic: {days} days overdue since {since.isoformat()}"


@dataclass(frozen=True)
class Firing:
    """What a due timer does: `fired` (with its mails, the next occurrence of a repeating
    escalation, and the automatic event to fire, if any) or `skipped` with the reason."""

    timer_id: int
    outcome: str  # fired | skipped
    reason: str | None = None
    mails: tuple[Mail, ...] = ()
    next: PlannedTimer | None = None
    auto_event: str | None = None
    auto_reason: str | None = None
