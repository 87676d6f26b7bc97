"""Taking people and units out of service and back, and reading a unit's or a person's record.

Nothing here deletes: a deactivated person keeps their tasks, history entries and refusals, and a
deactivated unit keeps its tasks. What deactivation means elsewhere:
- a person: may fire no event (`decide`), is given no new task, receives no mail (recipients are
  resolved among active people only). Tasks they lead stay open; the head of their unit acts on
  them (every task event a PI may fire, the unit head may fire too).
- a unit: gets no new task (`Engine.create_task`) and no calendar obligation (the scheduler asks
  for active units only). Its open tasks run to their end.
Two rules keep every active unit with exactly one active head: the head of an active unit cannot
be deactivated (`unit set-head` replaces them, which deactivates them), and a unit cannot be made
active again without an active head.

Directory commands may name the office person they act for (`--as`); that person must be
registered, active and of the office. Every change is recorded through `directory_log`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.directory import active_heads, find_person, find_unit, person_row
from engine.directory_log import Operator, change_row, changes, head_periods, record
from storage.db import Session
from storage.models import Person, Unit
from workflows.errors import InputError, NotAllowed, Refused


def set_head_hint(code: str) -> str:
    return f"`nckh unit set-head {code} --name NAME --email EMAIL`"


def check_operator(session: Session, operator: Operator) -> Operator:
    """The person named with `--as` on a directory command: registered, active, the office."""
    if operator.acting_as is None:
        return operator
    person = find_person(session, operator.acting_as)
    if not person.active:
        raise NotAllowed(f"{person.email} is inactive and may not change the directory")
    if person.role != "office":
        raise NotAllowed(f"{person.email} (role {person.role}) may not change the directory; "
                         "only the office may")
    return Operator(operator.login, person.email)


def _reason(reason: str, what: str) -> str:
    clean = " ".join(reason.split())
    if not clean:
        raise InputError(f"--reason is empty: say why the {what} is deactivated")
    return clean


def deactivate_person(session: Session, email: str, reason: str, *, now: dt.datetime,
                      operator: Operator) -> Person:
    person = find_person(session, email)
    why = _reason(reason, "person")
    if not person.active:
        raise Refused(f"person {person.email} is already inactive")
    unit = person.unit
    if person.role == "unit_head" and unit is not None and unit.active:
        raise Refused(f"{person.email} is the only active head of unit {unit.code}: name the new "
                      f"head with {set_head_hint(unit.code)}, which deactivates {person.email}")
    person.active = False
    record(session, entity="person", key=person.email, change="deactivated",
           details={"reason": why}, operator=operator, now=now)
    return person


def activate_person(session: Session, email: str, *, now: dt.datetime,
                    operator: Operator) -> Person:
    person = find_person(session, email)
    if person.active:
        raise Refused(f"person {person.email} is already active")
    unit = person.unit
    if person.role == "unit_head" and unit is not None and (heads := active_heads(session, unit)):
        raise Refused(f"unit {unit.code} already has an active head ({heads[0].email}); to make "
                      f"{person.email} its head again use {set_head_hint(unit.code)}")
    person.active = True
    session.flush()
    record(session, entity="person", key=person.email, change="activated", details={},
           operator=operator, now=now)
    return person


def deactivate_unit(session: Session, code: str, reason: str, *, now: dt.datetime,
                    operator: Operator) -> Unit:
    unit = find_unit(session, code)
    why = _reason(reason, "unit")
    if not unit.active:
        raise Refused(f"unit {unit.code} is already inactive")
    unit.active = False
    record(session, entity="unit", key=unit.code, change="deactivated", details={"reason": why},
           operator=operator, now=now)
    return unit


def activate_unit(session: Session, code: str, *, now: dt.datetime, operator: Operator) -> Unit:
    unit = find_unit(session, code)
    if unit.active:
        raise Refused(f"unit {unit.code} is already active")
    if not active_heads(session, unit):
        raise Refused(f"unit {unit.code} has no active head: name one first with "
                      f"{set_head_hint(unit.code)}")
    unit.active = True
    record(session, entity="unit", key=unit.code, change="activated", details={},
           operator=operator, now=now)
    return unit


def unit_detail(session: Session, code: str, tz: dt.tzinfo) -> dict[str, Any]:
    """A unit's fields, its active head, every head it had (with dates) and its history."""
    unit = find_unit(session, code)
    log = changes(session, "unit", unit.code)
    heads = head_periods(session, unit, log, tz)
    current = active_heads(session, unit)
    return {
        "code": unit.code, "name": unit.name, "kind": unit.kind,
        "contact_email": unit.contact_email, "active": unit.active,
        "created_at": unit.created_at.astimezone(tz).isoformat(),
        "head": person_row(current[0]) if current else None,
        "past_heads": [h for h in heads if not h["current"]],
        "history": [change_row(c, tz) for c in log],
    }


def person_detail(session: Session, email: str, tz: dt.tzinfo) -> dict[str, Any]:
    person = find_person(session, email)
    return {
        **person_row(person), "created_at": person.created_at.astimezone(tz).isoformat(),
        "history": [change_row(c, tz) for c in changes(session, "person", person.email)],
    }
