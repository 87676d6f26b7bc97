"""The mail plan, pure: which fact of the programme queues which e-mail, under which key.

The catalog (`kinds.yaml`) says which workflow event sends which kind of mail; the rest is fixed
here: a new task its registration (or, for an obligation, the request to the unit), a reminder,
a deadline passed, an escalation to the unit head or the office, a quota not met, a council
member's appointment. Each mail's
dedupe key names the fact it comes from (the task's history entry, the timer, the unit and
year), so the same fact written again queues nothing new. Only the fact's own data goes into the
mail; names and recipients are read when it is first sent.

No database, no clock: `engine.rules` calls this while it computes a step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications.catalog import Catalog
from workflows.effects import NEW_TASK, Mail, OpenDeadline
from workflows.model import OBLIGATION_LEVEL
from workflows.periods import Period


@dataclass(frozen=True)
class MailPlan:
    catalog: Catalog
    lang: str = "vi"

    def _mail(self, kind: str, key: str, task_id: int | None,
              facts: Mapping[str, Any]) -> Mail:
        self.catalog.kind(kind)  # an unknown kind is a configuration fault, said at once
        return Mail(kind, key, task_id, dict(facts), lang=self.lang)

    def registered(self, level: str, deadline: OpenDeadline | None = None) -> Mail:
        """The registration (or, for an obligation, the request), with the deadline as it
        stands that day: a date already past is said to be past, with its grace period."""
        kind = "obligation_requested" if level == OBLIGATION_LEVEL else "task_registered"
        facts: dict[str, Any] = {}
        if deadline is not None:
            facts = {"state": deadline.state, "due_on": deadline.due_on,
                     "grace_until": deadline.grace_until}
        return self._mail(kind, f"registered:{NEW_TASK}", None, facts)

    def transition(self, task_id: int, seq: int, *, event: str, from_state: str, to_state: str,
                   actor: str, actor_role: str, reason: str | None, data: Mapping[str, Any],
                   effective_at: dt.datetime) -> Mail | None:
        kind = self.catalog.kind_for_event(event)
        if kind is None:
            return None
        facts = {"event": event, "from_state": from_state, "to_state": to_state,
                 "actor": actor, "actor_role": actor_role, "reason": reason,
                 "data": dict(data), "effective_at": effective_at}
        return self._mail(kind, f"transition:{task_id}:{seq}", task_id, facts)

    def reminder(self, task_id: int, timer_id: int, *, deadline_id: int, state: str,
                 due_on: dt.date, days_before: int) -> Mail:
        facts = {"deadline_id": deadline_id, "state": state, "due_on": due_on,
                 "days_before": days_before}
        return self._mail("reminder", f"reminder:{timer_id}", task_id, facts)

    def deadline_passed(self, task_id: int, timer_id: int, *, level: str, deadline_id: int,
                        state: str, due_on: dt.date) -> Mail:
        kind = "obligation_overdue" if level == OBLIGATION_LEVEL else "deadline_passed"
        facts = {"deadline_id": deadline_id, "state": state, "due_on": due_on,
                 "days_overdue": 0}
        return self._mail(kind, f"passed:{timer_id}", task_id, facts)

    def escalation(self, task_id: int, timer_id: int, *, to_role: str, step: int,
                   days_overdue: int, deadline_id: int, state: str, due_on: dt.date,
                   occurrence: int = 0) -> Mail:
        kind = "escalation_office" if to_role == "office" else "escalation_unit_head"
        facts = {"deadline_id": deadline_id, "state": state, "due_on": due_on,
                 "days_overdue": days_overdue, "step": step, "to_role": to_role,
                 "occurrence": occurrence}
        return self._mail(kind, f"escalated:{timer_id}:{step}:{days_overdue}", task_id, facts)

    def session_reminder(self, unit_id: int, period: Period) -> Mail:
        """A unit has no science session recorded in a period about to end: once per unit and
        period."""
        return self._mail("session_reminder", f"session:{unit_id}:{period.key}", None,
                          {"unit_id": unit_id, "session": {
                              "period": period.label("vi"), "period_en": period.label("en"),
                              "period_start": period.start, "period_end": period.end,
                              "kind": period.kind}})

    def council_appointed(self, task_id: int, council_id: int, person_id: int,
                          council: Mapping[str, Any], email: str) -> Mail:
        """A council member told what to review and by when (to their address). The key names
        the member and what they are told (their role, the decision, the day): a council set
        again unchanged tells nobody twice; a corrected one tells each member what changed."""
        told = "|".join(str(council.get(k)) for k in ("role", "stage", "decision_no",
                                                       "decided_on", "review_on"))
        digest = hashlib.sha256(told.encode()).hexdigest()[:16]
        mail = self._mail("council_appointed", f"council:{council_id}:{person_id}:{digest}",
                          task_id, {"council": dict(council)})
        return dataclasses.replace(mail, to=(email,))

    def quota_not_met(self, unit_id: int, year: int, *, recheck: bool = False) -> Mail:
        """No valid research task for the year: at the quota check, and once more at the year's
        re-check (its own dedupe key)."""
        return self._mail("quota_not_met", f"quota:{unit_id}:{year}" + (":recheck" if recheck
                                                                         else ""), None,
                          {"unit_id": unit_id, "quota": {"year": year, "recheck": recheck}})
