"""The engine's decisions, pure: may this actor fire this event on this task now, and what follows.

No database, no clock: callers pass a `TaskView`, an `Actor` and the effective time, and get back
a `Decision` value (or a typed error). Storage persists decisions; it never second-guesses them.
Checks run in the order a person would want them explained: does the event exist, can it fire
from here, may this actor fire it, is the data complete and well-formed.

"May this actor fire it" has two parts, both read from the workflow's data: the actor holds one
of the event's `roles` on this task, and holds none of its `not_by` roles (separation of duties:
a council member who is also the task's PI may not approve or accept their own task). Who may
register a task for a unit (`check_registration`) is decided here too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflows import addresses, dates, inputs
from workflows.errors import InputError, InvalidData, InvalidTransition, NotAllowed
from workflows.machine import CompiledWorkflow, MachineError
from workflows.model import EventDef, FieldSpec, Workflow, WorkingDays, due_on

URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Actor:
    id: int | None
    email: str
    role: str
    unit_id: int | None
    unit_code: str | None = None
    active: bool = True

    @property
    def is_system(self) -> bool:
        return self.role == "system"


SYSTEM = Actor(id=None, email="system", role="system", unit_id=None)


@dataclass(frozen=True)
class TaskView:
    """What the core needs to know about a task (storage reads it; the core never queries)."""

    id: int
    state: str
    unit_id: int
    unit_code: str
    pi_id: int
    year: int
    open_due_on: dt.date | None = None
    last_effective_at: dt.datetime | None = None
    # For writing the step: the version it must still be at, when it entered its state, its
    # open deadline, its last history number, and its workflow's level.
    version: int = 1
    state_entered_at: dt.datetime | None = None
    open_deadline_id: int | None = None
    open_deadline_state: str | None = None
    last_seq: int = 0
    level: str = ""
    ends_on: dt.date | None = None  # the end date the task declares, if any (its extras)


@dataclass(frozen=True)
class NewDeadline:
    state: str
    due_on: dt.date
    rule: str


@dataclass(frozen=True)
class Decision:
    event: str
    from_state: str
    to_state: str
    acting_role: str
    reason: str | None
    data: Mapping[str, Any]
    effective_at: dt.datetime
    close_outcome: str | None  # how the open deadline closes, if there is one
    new_deadline: NewDeadline | None


def is_valid_email(text: str) -> bool:
    return addresses.is_valid(text)


def acting_roles(actor: Actor, task: TaskView) -> list[str]:
    """The workflow roles this actor holds on this task (scope included)."""
    if actor.is_system:
        return ["system"]
    roles: list[str] = []
    if actor.role in ("office", "council"):
        roles.append(actor.role)
    if actor.role == "unit_head" and actor.unit_id == task.unit_id:
        roles.append("unit_head")
    if actor.id is not None and actor.id == task.pi_id:
        roles.append("pi")
    return roles


def allowed_events(wf: Workflow, task: TaskView, actor: Actor | None = None) -> list[EventDef]:
    events = wf.events_from(task.state)
    if actor is None:
        return events
    if not actor.active:
        return []
    held = set(acting_roles(actor, task))
    return [ev for ev in events if ev.roles & held and not ev.not_by & held]


def check_registration(actor: Actor, *, unit_id: int, unit_code: str, pi_email: str) -> None:
    """May this person register a task for this unit, naming this PI? The office registers for
    any unit; a unit head for their own unit; a PI for their own unit, naming themselves; the
    council registers nothing. Raises `NotAllowed` with the rule that refused."""
    who = actor.email
    if not actor.active:
        raise NotAllowed(f"{who} is inactive and may not register tasks")
    if actor.role == "office":
        return
    if actor.role in ("unit_head", "pi"):
        title = "unit head" if actor.role == "unit_head" else "an investigator"
        if actor.unit_id != unit_id:
            raise NotAllowed(f"{who} is {title} of {actor.unit_code or 'no unit'} and may "
                             f"register tasks only for that unit, not for {unit_code}")
        if actor.role == "pi" and pi_email != who:
            raise NotAllowed(f"{who} may register only tasks they lead themselves "
                             f"(--pi-email {who}), not one for {pi_email}")
        return
    raise NotAllowed(f"{who} (role {actor.role}) may not register tasks; the office, the unit "
                     "head or the investigator registers them")


def decide(
    wf: Workflow,
    machine: CompiledWorkflow,
    task: TaskView,
    event_name: str,
    actor: Actor,
    *,
    reason: str | None,
    data: Mapping[str, str],
    effective_at: dt.datetime,
    now: dt.datetime,
    tz: dt.tzinfo,
    working_days: WorkingDays | None = None,
) -> Decision:
    ev = wf.events.get(event_name)
    if ev is None:
        raise InputError(
            f"unknown event '{event_name}' in workflow {wf.name}; events: {', '.join(wf.events)}"
        )
    if task.state not in ev.sources:
        raise InvalidTransition(task.id, event_name, task.state,
                                [e.name for e in wf.events_from(task.state)])
    _check_actor(ev, task, actor)
    clean_reason = inputs.optional_text(reason, "reason", limit=inputs.LIMITS["reason"],
                                        multiline=True, field="reason")
    if ev.reason == "required" and clean_reason is None:
        raise InvalidData(f"event '{ev.name}' needs a reason (--reason TEXT)", field="reason")
    values = _parse_data(ev, data)
    if effective_at > now:
        raise InvalidData(f"effective time {effective_at.isoformat()} is in the future "
                          f"(now is {now.isoformat()})", field="at")
    if task.last_effective_at is not None and effective_at < task.last_effective_at:
        raise InvalidData(f"effective time {effective_at.isoformat()} is before the task's last "
                          f"transition ({task.last_effective_at.isoformat()})", field="at")
    try:
        to_state = machine.step(task.state, ev.name)
    except MachineError as exc:  # the workflow data and the machine disagree: a bug, not input
        raise AssertionError(exc.value) from exc

    entered_on = effective_at.astimezone(tz).date()
    new_deadline: NewDeadline | None = None
    extension = False
    if ev.deadline_from is not None and ev.deadline_from in values:
        until: dt.date = values[ev.deadline_from]
        extension = to_state == task.state
        if until <= entered_on:
            raise InvalidData(f"{ev.deadline_from} {until.isoformat()} must be after "
                              f"{entered_on.isoformat()}", field=ev.deadline_from)
        if extension and task.open_due_on is not None and until <= task.open_due_on:
            raise InvalidData(
                f"{ev.deadline_from} {until.isoformat()} must be later than the current "
                f"deadline {task.open_due_on.isoformat()}", field=ev.deadline_from)
        new_deadline = NewDeadline(to_state, until, f"{ev.name} to {until.isoformat()}")
    else:
        rule = wf.states[to_state].deadline
        if rule is not None and rule.or_task_end and task.ends_on is not None:
            new_deadline = NewDeadline(to_state, task.ends_on,
                                       f"task ends {task.ends_on.isoformat()}")
        elif rule is not None:
            new_deadline = NewDeadline(
                to_state, due_on(rule, task.year, entered_on, working_days), rule.describe())
    close_outcome = None
    if ev.keeps_deadline:  # a request: the task stays, its deadline and timers run on
        new_deadline = None
    elif task.open_due_on is not None:
        close_outcome = ("extended" if extension else
                         "on_time" if entered_on <= task.open_due_on else "late")
    stored = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items()}
    acting = next(r for r in sorted(ev.roles) if r in acting_roles(actor, task))
    return Decision(
        event=ev.name, from_state=task.state, to_state=to_state, acting_role=acting,
        reason=clean_reason, data=stored, effective_at=effective_at,
        close_outcome=close_outcome, new_deadline=new_deadline,
    )


def _check_actor(ev: EventDef, task: TaskView, actor: Actor) -> None:
    who = actor.email
    if not actor.active:
        raise NotAllowed(f"{who} is inactive and may not fire events")
    held = acting_roles(actor, task)
    if ev.roles & set(held):
        barred = sorted(ev.not_by & set(held))
        if barred:
            raise NotAllowed(_barred_message(who, barred[0], ev, task))
        return
    allowed = ", ".join(sorted(ev.roles))
    if actor.role == "unit_head" and "unit_head" in ev.roles and actor.unit_id != task.unit_id:
        raise NotAllowed(
            f"{who} is unit head of {actor.unit_code or 'another unit'} and may act only on "
            f"that unit's tasks; task {task.id} belongs to {task.unit_code}"
        )
    if actor.role == "pi" and "pi" in ev.roles:
        raise NotAllowed(f"{who} is not the principal investigator of task {task.id}")
    raise NotAllowed(
        f"{who} (role {actor.role}) may not fire '{ev.name}' on task {task.id}; "
        f"allowed roles: {allowed}"
    )


def _barred_message(who: str, role: str, ev: EventDef, task: TaskView) -> str:
    action = ev.labels.en[:1].lower() + ev.labels.en[1:]
    if role == "pi":
        return (f"{who} is the principal investigator of task {task.id} and may not "
                f"{action} ({ev.name}) on their own task")
    if role == "unit_head":
        return (f"{who} is the head of unit {task.unit_code}, which task {task.id} belongs to, "
                f"and may not {action} ({ev.name}) on it")
    return f"{who} holds role {role} and may not {action} ({ev.name}) on task {task.id}"


def _parse_data(ev: EventDef, data: Mapping[str, str]) -> dict[str, Any]:
    known = ", ".join(f.name for f in ev.fields) or "none"
    values: dict[str, Any] = {}
    for key, raw in data.items():
        spec = ev.field(key)
        if spec is None:
            raise InvalidData(f"event '{ev.name}' has no field '{key}'; fields: {known}", field=key)
        text = inputs.clean_text(raw, f"field '{key}' of event '{ev.name}'",
                                 limit=inputs.LIMITS["event field"], field=key)
        values[key] = parse_field(spec, text, ev.name)
    for spec in ev.fields:
        if spec.required and spec.name not in values:
            hint = "DD/MM/YYYY" if spec.type == "date" else spec.type.upper()
            raise InvalidData(f"event '{ev.name}' needs --set {spec.name}={hint}", field=spec.name)
    for group in ev.one_of:
        if not any(name in values for name in group):
            options = " or ".join(f"--set {name}=…" for name in group)
            raise InvalidData(f"event '{ev.name}' needs {options}", field=group[0])
    return values


def parse_field(spec: FieldSpec, text: str, event: str) -> Any:
    where = f"field '{spec.name}' of event '{event}'"
    if spec.type == "date":
        try:
            day = dates.parse_day(text)
        except ValueError:
            raise InvalidData(f"{where}: invalid date '{text}', expected {dates.EXPECTED_DAY}",
                              field=spec.name) from None
        return inputs.check_date(day, f"{where}: date", field=spec.name)
    if spec.type == "int":
        try:
            return int(text)
        except ValueError:
            raise InvalidData(f"{where}: '{text}' is not a whole number", field=spec.name) from None
    if spec.type == "url" and not URL_RE.match(text):
        raise InvalidData(f"{where}: '{text}' is not an http(s) URL", field=spec.name)
    if spec.type == "email" and (reason := addresses.problem(text.lower())) is not None:
        raise InvalidData(f"{where}: '{text}' is not an e-mail address: {reason}",
                          field=spec.name)
    return text
