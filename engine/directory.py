"""The province's directory: units (đơn vị) and people, with their roles.

E-mail addresses are stored lower-cased and are the people's identity on the CLI (`--as`). A unit
head is a person with role `unit_head` and that unit; a unit has at most one active head, and
naming another head (`unit set-head`, or an import row) replaces the current one, who is
deactivated. A CSV import is all-or-nothing: the first bad row names its line, and nothing of the
file is written. Every change is recorded through `directory_log` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.directory_log import API, Operator, record
from storage import directory as rows
from storage.db import Session
from storage.models import Person, Unit
from workflows import addresses, inputs
from workflows.errors import InputError, NotFound, Refused
from workflows.model import PERSON_ROLES, UNIT_KINDS

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
CSV_COLUMNS = ("code", "name", "head_name", "head_email", "contact_email", "kind")


@dataclass(frozen=True)
class UnitInput:
    code: str
    name: str
    head_name: str
    head_email: str
    contact_email: str | None = None
    kind: str = "public"


def normalise_email(text: str, *, what: str = "e-mail", field: str | None = None) -> str:
    return addresses.normalise(text, what=what, field=field)


def validate_unit(data: UnitInput) -> UnitInput:
    code = data.code.strip()
    if not CODE_RE.match(code):
        raise InputError(f"invalid unit code '{data.code}': letters, digits, '.', '-', '_' "
                         "(at most 40)")
    name = inputs.clean_text(data.name, f"unit {code}: name", limit=inputs.LIMITS["unit name"])
    head_name = inputs.clean_text(data.head_name, f"unit {code}: head name",
                                  limit=inputs.LIMITS["person name"])
    if data.kind not in UNIT_KINDS:
        raise InputError(f"unit {code}: invalid kind '{data.kind}', expected public or private")
    contact = data.contact_email.strip() if data.contact_email else None
    return UnitInput(
        code=code, name=name, head_name=head_name,
        head_email=normalise_email(data.head_email, what=f"head e-mail of unit {code}"),
        contact_email=normalise_email(contact, what=f"contact e-mail of unit {code}")
        if contact else None,
        kind=data.kind,
    )


def find_unit(session: Session, code: str) -> Unit:
    key = inputs.lookup_key(code)
    unit = rows.unit_by_code(session, key) if key is not None else None
    if unit is None:
        raise NotFound("unit", code)
    return unit


def find_person(session: Session, email: str) -> Person:
    key = inputs.lookup_key(email)
    person = rows.person_by_email(session, key) if key is not None else None
    if person is None:
        raise NotFound("person", email)
    return person


@dataclass(frozen=True)
class HeadChange:
    """What putting a head in place did: `unchanged`, `updated` (name or title) or `replaced`
    (`old` is the head deactivated, None when the unit had no active head)."""

    unit: str
    outcome: str
    new: str
    old: str | None = None


def active_heads(session: Session, unit: Unit) -> list[Person]:
    return rows.active_heads(session, unit.id)


def upsert_unit(session: Session, data: UnitInput, now: dt.datetime, *, update: bool,
                operator: Operator = API) -> tuple[str, HeadChange | None]:
    """Add (or, when `update`, refresh) a unit and its head: (added|updated|unchanged, the head
    change when a different head was named and replaced the current one)."""
    data = validate_unit(data)
    unit = rows.unit_by_code(session, data.code)
    if unit is None:
        unit = Unit(code=data.code, name=data.name, kind=data.kind,
                    contact_email=data.contact_email, active=True, created_at=now)
        rows.add(session, unit)
        head = _seat_head(session, unit, email=data.head_email, name=data.head_name, title=None,
                          now=now, operator=operator)
        record(session, entity="unit", key=unit.code, change="added", now=now,
               operator=operator, details={
                   "name": unit.name, "kind": unit.kind, "contact_email": unit.contact_email,
                   "head": {"email": head.email, "name": head.name}})
        return "added", None
    if not update:
        raise InputError(f"unit {data.code} already exists")
    changed = {}
    for key in ("name", "kind", "contact_email"):
        old, new = getattr(unit, key), getattr(data, key)
        if old != new:
            changed[key] = [old, new]
            setattr(unit, key, new)
    if changed:
        record(session, entity="unit", key=unit.code, change="updated", details=changed,
               operator=operator, now=now)
    change = set_head(session, unit, email=data.head_email, name=data.head_name, title=None,
                      now=now, operator=operator)
    outcome = "updated" if changed or change.outcome != "unchanged" else "unchanged"
    return outcome, change if change.outcome == "replaced" else None


def set_head(session: Session, unit: Unit, *, email: str, name: str, title: str | None,
             now: dt.datetime, operator: Operator = API) -> HeadChange:
    """Make `email` the unit's one active head. A different current head is deactivated (never
    deleted: their tasks, history and refusals keep pointing at them). The new head is a new
    person with role unit_head, or a former head of this unit made active again. `title` None
    keeps the person's title."""
    email = normalise_email(email, what=f"head e-mail of unit {unit.code}")
    name = name.strip()
    if not name:
        raise InputError(f"unit {unit.code}: head name is empty")
    current = active_heads(session, unit)
    if [p.email for p in current] == [email]:
        head = current[0]
        changed = _refresh(head, name, title)
        if not changed:
            return HeadChange(unit.code, "unchanged", email)
        record(session, entity="person", key=email, change="updated", details=changed,
               operator=operator, now=now)
        return HeadChange(unit.code, "updated", email)
    _check_can_head(session, unit, email)
    for old in current:
        old.active = False
        record(session, entity="person", key=old.email, change="deactivated", now=now,
               operator=operator,
               details={"reason": f"replaced as head of unit {unit.code} by {email}"})
    # The partial unique index allows one active head: the old one leaves before the new arrives.
    rows.flush(session)
    head = _seat_head(session, unit, email=email, name=name, title=title, now=now,
                      operator=operator)
    old_head = current[-1] if current else None
    record(session, entity="unit", key=unit.code, change="head_replaced", now=now,
           operator=operator, details={
               "old": {"email": old_head.email, "name": old_head.name} if old_head else None,
               "new": {"email": head.email, "name": head.name}})
    return HeadChange(unit.code, "replaced", email, old_head.email if old_head else None)


def _check_can_head(session: Session, unit: Unit, email: str) -> None:
    person = rows.person_by_email(session, email)
    if person is not None and (person.role != "unit_head" or person.unit_id != unit.id):
        unit_code = person.unit.code if person.unit else "no unit"
        raise InputError(f"{email} is already registered as {person.role} ({unit_code})")


def _refresh(person: Person, name: str, title: str | None) -> dict[str, list[str | None]]:
    changed: dict[str, list[str | None]] = {}
    if person.name != name:
        changed["name"] = [person.name, name]
        person.name = name
    clean_title = (title or "").strip() or None
    if title is not None and person.title != clean_title:
        changed["title"] = [person.title, clean_title]
        person.title = clean_title
    return changed


def _seat_head(session: Session, unit: Unit, *, email: str, name: str, title: str | None,
               now: dt.datetime, operator: Operator) -> Person:
    """Register the unit's new head, or make a former head of this unit active again."""
    _check_can_head(session, unit, email)
    person = rows.person_by_email(session, email)
    if person is None:
        person = Person(email=email, name=name, title=(title or "").strip() or None,
                        role="unit_head", unit_id=unit.id, active=True, created_at=now)
        rows.add(session, person)
        record(session, entity="person", key=email, change="added", operator=operator, now=now,
               details={"name": person.name, "title": person.title, "role": "unit_head",
                        "unit": unit.code})
    else:
        changed = _refresh(person, name, title)
        person.active = True
        record(session, entity="person", key=email, change="activated", operator=operator,
               now=now, details={"reason": f"head of unit {unit.code} again", **changed})
    rows.flush(session)
    return person


def add_person(session: Session, *, email: str, name: str, role: str, unit_code: str | None,
               title: str | None, now: dt.datetime, operator: Operator = API) -> Person:
    email = normalise_email(email)
    if role not in PERSON_ROLES:
        raise InputError(f"invalid role '{role}': expected one of {', '.join(PERSON_ROLES)}")
    name = inputs.clean_text(name, "person name", limit=inputs.LIMITS["person name"])
    title = inputs.optional_text(title, "person title", limit=inputs.LIMITS["person title"])
    if role in ("unit_head", "pi") and not unit_code:
        raise InputError(f"role {role} needs --unit CODE")
    unit = find_unit(session, unit_code) if unit_code else None
    if rows.person_exists(session, email):
        raise InputError(f"person {email} already exists")
    if role == "unit_head" and unit is not None and (heads := active_heads(session, unit)):
        raise Refused(f"unit {unit.code} already has an active head ({heads[0].email}); "
                      f"replace them with `nckh unit set-head {unit.code} --name NAME "
                      "--email EMAIL`")
    person = Person(email=email, name=name.strip(), title=(title or "").strip() or None,
                    role=role, unit_id=unit.id if unit else None, active=True, created_at=now)
    rows.add(session, person)
    record(session, entity="person", key=email, change="added", operator=operator, now=now,
           details={"name": person.name, "title": person.title, "role": role,
                    "unit": unit.code if unit else None})
    return person


def import_units(session: Session, rows: Iterable[tuple[int, UnitInput]], now: dt.datetime,
                 file: str, operator: Operator = API) -> dict[str, Any]:
    """Counts of added, updated and unchanged units, and the heads replaced (a row naming
    another head than the unit's current one replaces them)."""
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    replaced: list[dict[str, str | None]] = []
    for line, row in rows:
        try:
            outcome, head = upsert_unit(session, row, now, update=True, operator=operator)
        except InputError as exc:
            raise InputError(f"{file}:{line}: {exc.message}") from None
        counts[outcome] += 1
        if head is not None:
            replaced.append({"unit": head.unit, "old": head.old, "new": head.new})
    return {**counts, "heads_replaced": replaced}


def unit_row(unit: Unit, head: Person | None) -> dict[str, Any]:
    return {
        "code": unit.code, "name": unit.name, "kind": unit.kind,
        "head_name": head.name if head else None, "head_email": head.email if head else None,
        "contact_email": unit.contact_email, "active": unit.active,
    }


def person_row(person: Person) -> dict[str, Any]:
    return {
        "email": person.email, "name": person.name, "title": person.title, "role": person.role,
        "unit": person.unit.code if person.unit else None, "active": person.active,
    }


def list_units(session: Session) -> list[dict[str, Any]]:
    heads = rows.active_heads_by_unit(session)
    return [unit_row(u, heads.get(u.id)) for u in rows.all_units(session)]


def list_people(session: Session) -> list[dict[str, Any]]:
    return [person_row(p) for p in rows.all_people(session)]
