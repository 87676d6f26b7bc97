"""The outbox writer: turns domain events into queued e-mails, inside the event's transaction.

Which event makes which kind of mail is decided here and in `kinds.yaml` (workflow events map to
kinds there). Each row's dedupe key names the fact it comes from (the history entry, the timer
firing, the unit and year of a quota check), so a fact re-published after a crash or by a second
daemon queues nothing new. Only the event's own facts are stored; names, titles and recipients
are read from the directory when the mail is first sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.events import (
    DeadlinePassed,
    DomainEvent,
    Escalated,
    QuotaNotMet,
    ReminderDue,
    TaskRegistered,
    TransitionFired,
)
from notifications.catalog import Catalog
from notifications.context import obligation_context
from notifications.outbox import enqueue
from storage.models import Task

OBLIGATION_WORKFLOW = "unit_report"


class OutboxWriter:
    def __init__(self, catalog: Catalog, lang: str = "vi") -> None:
        self.catalog = catalog
        self.lang = lang

    def _is_obligation(self, session: Session, task_id: int, workflow: str | None = None) -> bool:
        if workflow is None:
            task = session.get(Task, task_id)
            workflow = task.workflow if task else None
        if workflow == OBLIGATION_WORKFLOW:
            return True
        return obligation_context(session, task_id, self.catalog, self.lang) is not None

    def plan(self, session: Session, event: DomainEvent) -> tuple[str, str, int | None,
                                                                  dict[str, Any]] | None:
        """(kind, dedupe key, task id, facts) for an event, or None when it sends nothing."""
        facts: dict[str, Any]
        if isinstance(event, TaskRegistered):
            kind = ("obligation_requested" if self._is_obligation(session, event.task_id,
                                                                  event.workflow)
                    else "task_registered")
            return kind, f"registered:{event.task_id}", event.task_id, {}
        if isinstance(event, TransitionFired):
            mapped = self.catalog.kind_for_event(event.event)
            if mapped is None:
                return None
            facts = {"event": event.event, "from_state": event.from_state,
                     "to_state": event.to_state, "actor": event.actor,
                     "actor_role": event.actor_role, "reason": event.reason,
                     "data": dict(event.data), "effective_at": event.effective_at}
            return mapped, f"transition:{event.history_id}", event.task_id, facts
        if isinstance(event, ReminderDue):
            facts = {"deadline_id": event.deadline_id, "state": event.state,
                     "due_on": event.due_on, "days_before": event.days_before}
            return "reminder", f"reminder:{event.timer_id}", event.task_id, facts
        if isinstance(event, DeadlinePassed):
            kind = ("obligation_overdue" if self._is_obligation(session, event.task_id)
                    else "deadline_passed")
            facts = {"deadline_id": event.deadline_id, "state": event.state,
                     "due_on": event.due_on, "days_overdue": 0}
            return kind, f"passed:{event.timer_id}", event.task_id, facts
        if isinstance(event, Escalated):
            kind = "escalation_office" if event.to_role == "office" else "escalation_unit_head"
            facts = {"deadline_id": event.deadline_id, "state": event.state,
                     "due_on": event.due_on, "days_overdue": event.days_overdue,
                     "step": event.step, "to_role": event.to_role}
            key = f"escalated:{event.timer_id}:{event.step}:{event.days_overdue}"
            return kind, key, event.task_id, facts
        if isinstance(event, QuotaNotMet):
            return ("quota_not_met", f"quota:{event.unit_id}:{event.year}", None,
                    {"unit_id": event.unit_id, "quota": {"year": event.year}})
        return None

    def __call__(self, session: Session, event: DomainEvent) -> None:
        planned = self.plan(session, event)
        if planned is None:
            return
        kind, key, task_id, facts = planned
        now = event.recorded_at if isinstance(event, TransitionFired) else event.at
        enqueue(session, kind=kind, now=now, dedupe_key=key, context=facts, task_id=task_id,
                lang=self.lang, catalog=self.catalog)
