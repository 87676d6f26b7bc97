"""The directory's history: who changed which unit or person, when, and how.

Every change to a unit or a person (added, updated, head_replaced, deactivated, activated) is one
`directory_change` row, written in the transaction of the change itself, so the record and the
change commit or vanish together. Rows are only ever inserted.

The operator is passed in by the shell that ran the command (the CLI reads the OS login); this
module never looks at the process or the environment. A program calling the engine without
naming one is recorded as `api`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import DirectoryChange, Person, Unit

CHANGES = ("added", "updated", "head_replaced", "deactivated", "activated")


@dataclass(frozen=True)
class Operator:
    """Who ran a directory command: the OS login, and the person named with `--as`, if any."""

    login: str
    acting_as: str | None = None

    def describe(self) -> str:
        return self.login + (f" as {self.acting_as}" if self.acting_as else "")


API = Operator("api")


def record(session: Session, *, entity: str, key: str, change: str, details: dict[str, Any],
           operator: Operator, now: dt.datetime) -> None:
    assert entity in ("unit", "person") and change in CHANGES, (entity, change)
    session.add(DirectoryChange(at=now, entity=entity, key=key, change=change, details=details,
                                operator=operator.login, acting_as=operator.acting_as))


def changes(session: Session, entity: str, key: str) -> list[DirectoryChange]:
    return list(session.scalars(select(DirectoryChange).where(
        DirectoryChange.entity == entity, DirectoryChange.key == key)
        .order_by(DirectoryChange.at, DirectoryChange.id)))


def change_row(c: DirectoryChange, tz: dt.tzinfo) -> dict[str, Any]:
    return {"at": c.at.astimezone(tz).isoformat(), "change": c.change, "details": c.details,
            "operator": c.operator, "acting_as": c.acting_as}


def head_periods(session: Session, unit: Unit, log: list[DirectoryChange],
                 tz: dt.tzinfo) -> list[dict[str, Any]]:
    """The unit's heads, oldest first, each with `since`, `until` and `current`.

    Read from the unit's `added` and `head_replaced` entries. A head the log does not know (one
    registered before the directory kept history) starts at their registration; when such a head
    is no longer active, the day they left is not known and `until` is None.
    """
    people = {p.email: p for p in session.scalars(select(Person).where(
        Person.unit_id == unit.id, Person.role == "unit_head"))}
    periods: list[dict[str, Any]] = []

    def period_of(email: str, name: str, since: dt.datetime) -> dict[str, Any]:
        for p in periods:
            if p["email"] == email and p["until"] is None:
                return p
        known = people.get(email)
        p = {"email": email, "name": name, "since": known.created_at if known else since,
             "until": None}
        periods.append(p)
        return p

    for entry in log:
        if entry.change == "added" and entry.details.get("head"):
            head = entry.details["head"]
            period_of(head["email"], head["name"], entry.at)["since"] = entry.at
        elif entry.change == "head_replaced":
            old, new = entry.details.get("old"), entry.details["new"]
            if old:
                period_of(old["email"], old["name"], entry.at)["until"] = entry.at
            periods.append({"email": new["email"], "name": new["name"], "since": entry.at,
                            "until": None})
    for person in people.values():
        if not any(p["email"] == person.email for p in periods):
            periods.append({"email": person.email, "name": person.name,
                            "since": person.created_at, "until": None})
    periods.sort(key=lambda p: p["since"])
    return [{"email": p["email"], "name": people[p["email"]].name if p["email"] in people
             else p["name"], "since": p["since"].astimezone(tz).isoformat(),
             "until": p["until"].astimezone(tz).isoformat() if p["until"] else None,
             "current": p["until"] is None and p["email"] in people
             and people[p["email"]].active}
            for p in periods]
