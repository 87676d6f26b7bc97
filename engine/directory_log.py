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

from storage import directory as rows
from storage.db import Session
from storage.models import DirectoryChange, Unit

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
    rows.record_change(session, entity=entity, key=key, change=change, details=details,
                       operator=operator.login, acting_as=operator.acting_as, at=now)


def changes(session: Session, entity: str, key: str) -> list[DirectoryChange]:
    return rows.changes(session, entity, [key])


def change_row(c: DirectoryChange, tz: dt.tzinfo) -> dict[str, Any]:
    return {"at": c.at.astimezone(tz).isoformat(), "change": c.change, "details": c.details,
            "operator": c.operator, "acting_as": c.acting_as}


def head_periods(session: Session, unit: Unit, log: list[DirectoryChange],
                 tz: dt.tzinfo) -> list[dict[str, Any]]:
    """The unit's heads, oldest first, each with `since`, `until` and `current`.

    Read from the unit's entries (`added`, `head_replaced`) and its heads' own (`added`,
    `deactivated`, `activated`), in the order they were written. A head in office before the
    log began starts at their registration; one who left before it has `until` None and is not
    current.
    """
    people = {p.email: p for p in rows.heads_ever(session, unit.id)}
    entries = sorted([*log, *rows.changes(session, "person", list(people))],
                     key=lambda c: (c.at, c.id))
    periods: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}

    def start(email: str, at: dt.datetime) -> None:
        if email not in open_:
            open_[email] = {"email": email, "since": at, "until": None}
            periods.append(open_[email])

    def end(email: str, at: dt.datetime) -> None:
        if email in open_:
            open_.pop(email)["until"] = at
        elif not any(p["email"] == email for p in periods):  # in office before the log began
            known = people.get(email)
            periods.append({"email": email, "since": known.created_at if known else at,
                            "until": at})

    for entry in entries:
        if entry.entity == "person":
            if entry.change in ("added", "activated"):
                start(entry.key, entry.at)
            elif entry.change == "deactivated":
                end(entry.key, entry.at)
        elif entry.change == "added" and entry.details.get("head"):
            start(entry.details["head"]["email"], entry.at)
        elif entry.change == "head_replaced":
            if entry.details.get("old"):
                end(entry.details["old"]["email"], entry.at)
            start(entry.details["new"]["email"], entry.at)
    for person in people.values():
        if not any(p["email"] == person.email for p in periods):
            periods.append({"email": person.email, "since": person.created_at, "until": None})
    periods.sort(key=lambda p: p["since"])
    return [{"email": p["email"], "name": people[p["email"]].name if p["email"] in people
             else "", "since": p["since"].astimezone(tz).isoformat(),
             "until": p["until"].astimezone(tz).isoformat() if p["until"] else None,
             "current": p["until"] is None and p["email"] in people
             and people[p["email"]].active}
            for p in periods]
