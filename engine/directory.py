"""The province's directory: units (đơn vị) and people, with their roles.

E-mail addresses are stored lower-cased and are the people's identity on the CLI (`--as`). A unit
head is a person with role `unit_head` and that unit. A CSV import is all-or-nothing: the first bad
row names its line, and nothing of the file is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from engine import inputs
from engine.decide import is_valid_email
from engine.errors import InputError, NotFound
from storage.models import Person, Unit

PERSON_ROLES = ("office", "council", "unit_head", "pi")
UNIT_KINDS = ("public", "private")
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


def normalise_email(text: str, *, what: str = "e-mail") -> str:
    email = text.strip().lower()
    if not is_valid_email(email):
        raise InputError(f"invalid {what} '{text}'")
    return email


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
    if key is None:
        raise NotFound("unit", code)
    unit = session.scalar(select(Unit).where(func.lower(Unit.code) == key.lower()))
    if unit is None:
        raise NotFound("unit", code)
    return unit


def find_person(session: Session, email: str) -> Person:
    key = inputs.lookup_key(email)
    if key is None:
        raise NotFound("person", email)
    person = session.scalar(select(Person).where(Person.email == key.lower())
                            .options(joinedload(Person.unit)))
    if person is None:
        raise NotFound("person", email)
    return person


def upsert_unit(session: Session, data: UnitInput, now: dt.datetime, *, update: bool) -> str:
    """Add (or, when `update`, refresh) a unit and its head. Returns added|updated|unchanged."""
    data = validate_unit(data)
    unit = session.scalar(select(Unit).where(func.lower(Unit.code) == data.code.lower()))
    outcome = "unchanged"
    if unit is None:
        unit = Unit(code=data.code, name=data.name, kind=data.kind,
                    contact_email=data.contact_email, active=True, created_at=now)
        session.add(unit)
        session.flush()
        outcome = "added"
    elif not update:
        raise InputError(f"unit {data.code} already exists")
    elif (unit.name, unit.kind, unit.contact_email) != (data.name, data.kind, data.contact_email):
        unit.name, unit.kind, unit.contact_email = data.name, data.kind, data.contact_email
        outcome = "updated"
    head = session.scalar(select(Person).where(Person.email == data.head_email))
    if head is None:
        session.add(Person(email=data.head_email, name=data.head_name, role="unit_head",
                           unit_id=unit.id, active=True, created_at=now))
        outcome = "updated" if outcome == "unchanged" else outcome
    elif head.role != "unit_head" or head.unit_id != unit.id:
        unit_code = head.unit.code if head.unit else "no unit"
        raise InputError(f"{data.head_email} is already registered as {head.role} ({unit_code})")
    elif head.name != data.head_name:
        head.name = data.head_name
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


def add_person(session: Session, *, email: str, name: str, role: str, unit_code: str | None,
               title: str | None, now: dt.datetime) -> Person:
    email = normalise_email(email)
    if role not in PERSON_ROLES:
        raise InputError(f"invalid role '{role}': expected one of {', '.join(PERSON_ROLES)}")
    name = inputs.clean_text(name, "person name", limit=inputs.LIMITS["person name"])
    title = inputs.optional_text(title, "person title", limit=inputs.LIMITS["person title"])
    if role in ("unit_head", "pi") and not unit_code:
        raise InputError(f"role {role} needs --unit CODE")
    unit = find_unit(session, unit_code) if unit_code else None
    if session.scalar(select(Person.id).where(Person.email == email)) is not None:
        raise InputError(f"person {email} already exists")
    person = Person(email=email, name=name.strip(), title=(title or "").strip() or None,
                    role=role, unit_id=unit.id if unit else None, active=True, created_at=now)
    session.add(person)
    session.flush()
    return person


def parse_units_csv(text: str, file: str) -> list[tuple[int, UnitInput]]:
    """Rows of a unit CSV, each validated; the first bad one raises naming file and line."""
    separator = inputs.csv_separator(text, file, CSV_COLUMNS[:4])
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=separator)
    header = reader.fieldnames or []
    missing = [c for c in ("code", "name", "head_name", "head_email") if c not in header]
    if missing:
        raise InputError(f"{file}:1: missing column(s) {', '.join(missing)}; expected "
                         f"{','.join(CSV_COLUMNS)}")
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise InputError(f"{file}:1: unknown column(s) {', '.join(unknown)}")
    rows: list[tuple[int, UnitInput]] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise InputError(f"{file}:{line}: wrong number of fields")
        try:
            unit = validate_unit(UnitInput(
                code=row["code"], name=row["name"], head_name=row["head_name"],
                head_email=row["head_email"], contact_email=row.get("contact_email") or None,
                kind=(row.get("kind") or "public").strip() or "public",
            ))
        except InputError as exc:
            raise InputError(f"{file}:{line}: {exc.message}") from None
        key = unit.code.lower()
        if key in seen:
            raise InputError(f"{file}:{line}: unit {unit.code} already on line {seen[key]}")
        seen[key] = line
        rows.append((line, unit))
    if not rows:
        raise InputError(f"{file}: no units in the file")
    return rows


def import_units(session: Session, rows: Iterable[tuple[int, UnitInput]], now: dt.datetime,
                 file: str) -> dict[str, int]:
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for line, row in rows:
        try:
            counts[upsert_unit(session, row, now, update=True)] += 1
        except InputError as exc:
            raise InputError(f"{file}:{line}: {exc.message}") from None
    return counts


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
    heads = {p.unit_id: p for p in session.scalars(
        select(Person).where(Person.role == "unit_head").order_by(Person.id))}
    return [unit_row(u, heads.get(u.id)) for u in session.scalars(select(Unit).order_by(Unit.code))]


def list_people(session: Session) -> list[dict[str, Any]]:
    return [person_row(p) for p in session.scalars(select(Person).order_by(Person.email))]
