"""The core's one face: every step of the programme computed as a value, without a database.

`Rules` joins the pure parts: `decide` (may this actor fire this event now, and where to), the
business calendar and the timer planner (which deadline opens, with which reminders and
escalations), and the mail plan (which e-mails the step queues). Each method takes what storage
read and returns what storage must write — a `Step`, a `Registration`, a `Firing` (see
`workflows.effects`) — so the whole effect of any event on any task can be asserted in a unit
test. The engine's API (`engine.service`) loads, calls one method, and writes the result in one
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from notifications.plan import MailPlan
from workflows.calendar import BusinessCalendar
from workflows.decide import SYSTEM, Actor, TaskView, decide
from workflows.effects import (
    CloseDeadline,
    DueTimer,
    Firing,
    History,
    Mail,
    OpenDeadline,
    Registration,
    Step,
    automatic_reason,
)
from workflows.errors import InputError, Refused
from workflows.machine import compiled
from workflows.model import EscalationStep, TimerPolicy, Workflow
from workflows.timerplan import Planner

PolicyOf = Callable[[Workflow, str], TimerPolicy | None]


def workflow_policy(wf: Workflow, state: str) -> TimerPolicy | None:
    return wf.timers_for(state)


@dataclass(frozen=True)
class Rules:
    tz: dt.tzinfo
    calendar: BusinessCalendar
    planner: Planner
    mails: MailPlan
    policy: PolicyOf = workflow_policy  # the scheduler's config may override a workflow's
    grace_days: int = 10  # working days to act when a deadline opens already past

    def _local(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.tz).date()

    def open_deadline(self, wf: Workflow, state: str, due_on: dt.date, rule: str,
                      opened: dt.datetime, *, not_before: dt.datetime | None = None,
                      policy: TimerPolicy | None = None) -> OpenDeadline:
        """A deadline with the timers the state's ladder plants around it; reminders dated
        before `opened` are not planted. A deadline whose legal end has passed when it opens
        gets a grace period of `grace_days` working days, and the ladder counts from its end:
        no retroactive reminder or escalation. `not_before`: timers due before it are not
        planted (a backdated registration: its past steps are history, not mail)."""
        opened_on = self._local(not_before or opened)
        legal = self.calendar.legal_end(due_on)
        grace = grace_legal = None
        if legal < opened_on:
            grace = self.calendar.add(opened_on, self.grace_days)
            grace_legal = self.calendar.legal_end(grace)
        timers = self.planner.plan(grace or due_on, policy or self.policy(wf, state),
                                   self._local(opened))
        if not_before is not None:
            timers = [t for t in timers if t.fire_at > not_before]
        return OpenDeadline(state, due_on, rule, legal, tuple(timers), grace, grace_legal)

    # --- a transition --------------------------------------------------------------------------
    def transition(self, wf: Workflow, view: TaskView, event: str, actor: Actor, *,
                   reason: str | None, data: Mapping[str, str], at: dt.datetime,
                   now: dt.datetime) -> Step:
        d = decide(wf, compiled(wf), view, event, actor, reason=reason, data=data,
                   effective_at=at, now=now, tz=self.tz, working_days=self.calendar)
        seq = view.last_seq + 1
        entered = (d.effective_at if d.to_state != d.from_state
                   else view.state_entered_at or d.effective_at)
        close = None
        if view.open_deadline_id is not None and d.close_outcome is not None:
            close = CloseDeadline(view.open_deadline_id, view.open_deadline_state or d.from_state,
                                  d.close_outcome)
        opened = None
        if d.new_deadline is not None:
            new = d.new_deadline
            opened = self.open_deadline(wf, new.state, new.due_on, new.rule, now)
        history = History(seq, d.event, d.from_state, d.to_state, actor.id, actor.email,
                          d.acting_role, d.reason, d.data, d.effective_at, now)
        mail = self.mails.transition(view.id, seq, event=d.event, from_state=d.from_state,
                                     to_state=d.to_state, actor=actor.email,
                                     actor_role=d.acting_role, reason=d.reason, data=d.data,
                                     effective_at=d.effective_at)
        return Step(view.id, view.version, d.to_state, entered, history, close, opened,
                    (mail,) if mail else ())

    # --- a new task ----------------------------------------------------------------------------
    def register(self, wf: Workflow, *, unit_id: int, pi_id: int, year: int, topic: int | None,
                 title: str, actor: Actor | None, creator: str, now: dt.datetime,
                 due_on: dt.date | None = None, rule: str | None = None,
                 since: dt.datetime | None = None, policy: TimerPolicy | None = None,
                 announce: bool = True) -> Registration:
        """A task in the workflow's initial state; its first deadline on `due_on`, or by the
        initial state's rule when it has one. `since`: the task really began then (a backdated
        registration, `--backdate`): it is recorded as of that day, and neither its
        registration nor its past steps are mailed. `policy`: the first deadline's ladder
        instead of the workflow's (a calendar obligation's own); `announce`: whether the
        registration (an obligation's request) is mailed."""
        began = since or now
        state_rule = wf.states[wf.initial].deadline
        if due_on is None and state_rule is not None:
            due_on = wf.deadline_due_on(wf.initial, year, self._local(began), self.calendar)
        opened = None
        if due_on is not None:
            text = rule or (state_rule.describe() if state_rule else "obligation")
            opened = self.open_deadline(wf, wf.initial, due_on, text, began,
                                        not_before=now if since is not None else None,
                                        policy=policy)
        who = actor.email if actor else creator
        history = History(1, "create", None, wf.initial, actor.id if actor else None, who,
                          actor.role if actor else creator, None, {}, began, now)
        mails = (() if since is not None or not announce
                 else (self.mails.registered(wf.level, opened),))
        return Registration(wf.name, wf.level, wf.sha256, wf.initial, unit_id, pi_id, year,
                            topic, title, history, opened, mails)

    # --- a timer that has come due -----------------------------------------------------------
    def fire_timer(self, t: DueTimer, now: dt.datetime) -> Firing:
        """What a due timer does. A closed deadline or a task that moved on makes it `skipped`
        (the reason recorded); an automatic event is named, for the caller to fire as the
        system in the same transaction (`auto_step`)."""
        if t.deadline_outcome is not None:
            return Firing(t.id, "skipped",
                          f"deadline closed ({t.deadline_outcome}) before the timer fired")
        if t.task_state != t.state:
            return Firing(t.id, "skipped", f"task is in {t.task_state}, no longer in {t.state}")
        if t.kind == "reminder" and self._local(now) > t.due_on:
            return Firing(t.id, "skipped", "its date has passed: the overdue notice says so")
        if t.kind != "auto_event" and t.later_due:
            return Firing(t.id, "skipped", "superseded: a later step of its ladder is due too")
        mails: tuple[Mail, ...]
        if t.kind == "reminder":
            mails = (self.mails.reminder(t.task_id, t.id, deadline_id=t.deadline_id,
                                         state=t.state, due_on=t.due_on, days_before=t.days),)
            return Firing(t.id, "fired", mails=mails)
        if t.kind == "deadline":
            mails = (self.mails.deadline_passed(t.task_id, t.id, level=t.task_level,
                                                deadline_id=t.deadline_id, state=t.state,
                                                due_on=t.due_on),)
            return Firing(t.id, "fired", mails=mails)
        if t.kind == "escalation":
            assert t.to_role is not None
            overdue = (self._local(now) - t.legal_end).days
            mails = (self.mails.escalation(t.task_id, t.id, to_role=t.to_role, step=t.slot + 1,
                                           days_overdue=overdue, deadline_id=t.deadline_id,
                                           state=t.state, due_on=t.due_on,
                                           occurrence=t.occurrence),)
            nxt = None
            if t.repeat_every:
                step = EscalationStep(t.days, t.to_role, t.repeat_every)
                found = self.planner.next_occurrence(t.legal_end, step, t.occurrence, now,
                                                     t.repeat_until)
                if found is not None:
                    nxt = self.planner.escalation_timer(t.slot, step, *found, t.repeat_until)
            return Firing(t.id, "fired", mails=mails, next=nxt)
        assert t.event is not None
        return Firing(t.id, "fired", auto_event=t.event,
                      auto_reason=automatic_reason(t.days, t.legal_end))

    def auto_step(self, wf: Workflow, view: TaskView, firing: Firing,
                  now: dt.datetime) -> Step | Firing:
        """The automatic event of `firing` as the system's transition, or the firing turned
        `skipped` when the workflow refuses it (the task cannot be suspended from where it is)."""
        assert firing.auto_event is not None
        try:
            return self.transition(wf, view, firing.auto_event, SYSTEM,
                                   reason=firing.auto_reason, data={}, at=now, now=now)
        except (Refused, InputError) as refusal:
            return Firing(firing.timer_id, "skipped", f"automatic event refused: {refusal}")
