"""A task's extras the seeds name — the rules: its start and end dates (a multi-year task), its
funding (source and amount) and its co-investigators (thành viên tham gia).

Everything arrives as text, as the CLI and the web form hand it in, and is checked here so both
say the same thing. Rules, each refused in one line naming the field, with the database
unchanged:
- dates are dd/mm/yyyy; the end is not before the start, not before the task's registration
  year, and at most `MAX_YEARS` after the start (or after 1 January of that year);
- the funding source is one of `FUNDING_SOURCES` (typed as the stored word or its Vietnamese
  name without marks: ngan-sach-su-nghiep, quy-khcn-tinh, don-vi, khac); an amount needs a
  source;
- the amount is a whole number of đồng, 0 or more, written plainly or with '.' between
  thousands ("150.000.000", an ending "đ" or "VND" allowed); shown as "150.000.000 đ";
- a member is `Name <e-mail>:role` or `Name:role`; the e-mail, when given, is a valid address
  listed once, and links the registered person who has it; setting members replaces the team;
- set later (`Engine.set_extras`) by the office, the head of the task's unit or its
  investigator, active.

The end date matters beyond the record: a workflow whose acceptance deadline says
`or_task_end: true` (unit_task, province_task) puts that deadline on the task's end date when
the task starts (`workflows/decide.py`). Setting the dates of a task already under way does not
move its open deadline: that is what `extend` is for.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from engine.directory import find_person, normalise_email
from engine.directory_log import Operator
from storage import directory as people
from storage import taskextras as rows
from storage.db import Connection, Session
from storage.models import Person, Task
from workflows import inputs
from workflows.dates import parse_day, shown
from workflows.errors import InvalidData, NotAllowed, NotFound
from workflows.funding import FUNDING_SOURCES as FUNDING_SOURCES  # the shells' list
from workflows.funding import LABELS as LABELS
from workflows.funding import shown_amount
from workflows.model import RESEARCH_LEVELS, add_months

MAX_YEARS = 5
MAX_AMOUNT = 10**13  # ten thousand billion đồng: anything beyond is a typing slip
MAX_MEMBERS = 30
NAME_LIMIT = 300
ROLE_LIMIT = 100
SOURCE_NAMES = {"recurrent": "recurrent", "ngan-sach-su-nghiep": "recurrent",
                "provincial_fund": "provincial_fund", "provincial-fund": "provincial_fund",
                "quy-khcn-tinh": "provincial_fund", "unit": "unit", "don-vi": "unit",
                "don-vi-tu-chu": "unit", "other": "other", "khac": "other"}
_AMOUNT = re.compile(r"\d{1,3}(?:\.\d{3})+|\d+")
_MEMBER = re.compile(r"(?P<name>[^<>:]+?)\s*(?:<(?P<email>[^<>]*)>)?\s*:\s*(?P<role>[^:]+)")
MEMBER_FORM = "expected 'Name <e-mail>:role' or 'Name:role'"


@dataclass(frozen=True)
class ExtrasInput:
    """As typed; None leaves a field as it is (a new task: unset). `members` None leaves the
    team as it is; a tuple (even empty) replaces it."""

    starts: str | None = None
    ends: str | None = None
    funding_source: str | None = None
    funding_amount: str | None = None
    members: tuple[str, ...] | None = None

    def given(self) -> bool:
        return any(v is not None for v in (self.starts, self.ends, self.funding_source,
                                           self.funding_amount, self.members))


@dataclass(frozen=True)
class Member:
    name: str
    email: str | None
    role: str


@dataclass(frozen=True)
class Extras:
    """Checked values; `fields` holds only the columns to set."""

    fields: dict[str, Any]
    members: tuple[Member, ...] | None


def parse_amount(text: str) -> int:
    raw = text.strip()
    for unit in ("VNĐ", "VND", "đồng", "đ"):
        if raw.lower().endswith(unit.lower()):
            raw = raw[: -len(unit)].strip()
            break
    if not _AMOUNT.fullmatch(raw):
        raise InvalidData(f"funding amount '{inputs.printable(text)[:40]}': expected a whole "
                          "number of đồng, 0 or more (e.g. 150.000.000)", field="funding_amount")
    amount = int(raw.replace(".", ""))
    if amount > MAX_AMOUNT:
        raise InvalidData(f"funding amount {shown_amount(amount)} is more than "
                          f"{shown_amount(MAX_AMOUNT)}", field="funding_amount")
    return amount


def parse_source(text: str) -> str:
    key = text.strip().lower().replace(" ", "-")
    if key not in SOURCE_NAMES:
        raise InvalidData(f"funding source '{inputs.printable(text)[:40]}': expected one of "
                          f"{', '.join(FUNDING_SOURCES)} (ngan-sach-su-nghiep, quy-khcn-tinh, "
                          "don-vi, khac)", field="funding_source")
    return SOURCE_NAMES[key]


def parse_member(text: str) -> Member:
    m = _MEMBER.fullmatch(text.strip())
    if m is None:
        raise InvalidData(f"member '{inputs.printable(text)[:80]}': {MEMBER_FORM}",
                          field="members")
    name = inputs.clean_text(m["name"], "member name", limit=NAME_LIMIT, field="members")
    role = inputs.clean_text(m["role"], "member role", limit=ROLE_LIMIT, field="members")
    email = (normalise_email(m["email"], what="member e-mail", field="members")
             if m["email"] is not None else None)
    return Member(name, email, role)


def _day(text: str, what: str, field: str) -> dt.date:
    try:
        day = parse_day(text)
    except ValueError:
        raise InvalidData(f"{what} '{inputs.printable(text)[:40]}': expected DD/MM/YYYY",
                          field=field) from None
    return inputs.check_date(day, what, shown=shown(day), field=field)


def check(data: ExtrasInput, *, year: int, starts_on: dt.date | None = None,
          ends_on: dt.date | None = None, funding_source: str | None = None) -> Extras:
    """The checked extras of a task of `year`, given what it already holds (the stored
    values a partial change is checked against). Pure: no session."""
    fields: dict[str, Any] = {}
    if data.starts is not None:
        fields["starts_on"] = starts_on = _day(data.starts, "start date", "starts")
    if data.ends is not None:
        fields["ends_on"] = ends_on = _day(data.ends, "end date", "ends")
    if ends_on is not None:
        if starts_on is not None and ends_on < starts_on:
            raise InvalidData(f"end date {shown(ends_on)} is before the start date "
                              f"{shown(starts_on)}", field="ends")
        if ends_on.year < year:
            raise InvalidData(f"end date {shown(ends_on)} is before the task's year {year}",
                              field="ends")
        latest = add_months(starts_on or dt.date(year, 1, 1), 12 * MAX_YEARS)
        if ends_on > latest:
            raise InvalidData(f"end date {shown(ends_on)} is more than {MAX_YEARS} years after "
                              f"{shown(starts_on or dt.date(year, 1, 1))}", field="ends")
    if data.funding_source is not None:
        fields["funding_source"] = funding_source = parse_source(data.funding_source)
    if data.funding_amount is not None:
        fields["funding_amount"] = parse_amount(data.funding_amount)
        if funding_source is None:
            raise InvalidData("funding amount needs its source (--funding-source)",
                              field="funding_source")
    members = None
    if data.members is not None:
        members = tuple(parse_member(text) for text in data.members)
        if len(members) > MAX_MEMBERS:
            raise InvalidData(f"{len(members)} members: at most {MAX_MEMBERS}", field="members")
        emails = [m.email for m in members if m.email is not None]
        if twice := next((e for e in emails if emails.count(e) > 1), None):
            raise InvalidData(f"member {twice} is listed twice", field="members")
    return Extras(fields, members)


def write(session: Session, task_id: int, extras: Extras, *, now: dt.datetime,
          operator: Operator) -> None:
    """Write the checked extras, with who set them (the login, the person named) and when."""
    conn = session.connection()
    rows.set_fields(conn, task_id, {**extras.fields, "extras_at": now,
                                    "extras_by": operator.login[:120],
                                    "extras_acting_as": operator.acting_as})
    if extras.members is not None:
        linked = []
        for m in extras.members:
            person = people.person_by_email(session, m.email) if m.email else None
            linked.append((m.name, m.email, person.id if person else None, m.role))
        rows.replace_members(conn, task_id, linked)


def research_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, inputs.check_id("task", task_id))
    if task is None:
        raise NotFound("task", task_id)
    if task.level not in RESEARCH_LEVELS:
        raise InvalidData(f"task {task_id} is a report obligation, not a research task: it has "
                          "no dates, funding or team of its own")
    return task


def may_edit(person: Person, task: Task) -> bool:
    """The office, the head of the task's unit, or its investigator."""
    return (person.role == "office" or person.id == task.pi_id
            or (person.role == "unit_head" and person.unit_id == task.unit_id))


def set_extras(session: Session, task: Task, data: ExtrasInput, *, now: dt.datetime,
               operator: Operator) -> None:
    """Change a task's extras; checked against what it holds. With `acting_as`, that person
    must be allowed (`may_edit`); without, it is an administrator's change."""
    if not data.given():
        raise InvalidData("nothing to change: give --starts, --ends, --funding-source, "
                          "--funding-amount, --member or --no-members")
    held = rows.fields_of(session.connection(), task.id)
    extras = check(data, year=task.year, starts_on=held.starts_on, ends_on=held.ends_on,
                   funding_source=held.funding_source)
    if operator.acting_as is not None:
        person = find_person(session, operator.acting_as)
        if not person.active:
            raise NotAllowed(f"{person.email} is inactive")
        if not may_edit(person, task):
            raise NotAllowed(f"{person.email} is neither of the office, the head of unit "
                             f"{task.unit.code} nor the investigator of task {task.id}")
    write(session, task.id, extras, now=now, operator=operator)


def detail(conn: Connection, task_id: int, tz: dt.tzinfo,
           lang: str = "vi") -> dict[str, Any]:
    """What the item page, `task show` and the JSON say about the extras."""
    held = rows.fields_of(conn, task_id)
    starts_on, ends_on, source, amount = (held.starts_on, held.ends_on, held.funding_source,
                                          held.funding_amount)
    at = held.extras_at
    if at is not None and at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return {
        "recorded_at": at.astimezone(tz).isoformat() if at else None,
        "recorded_on": shown(at.astimezone(tz).date()) if at else None,
        "recorded_by": held.extras_by, "acting_as": held.extras_acting_as,
        "starts_on": shown(starts_on) if starts_on else None,
        "ends_on": shown(ends_on) if ends_on else None,
        "funding_source": source,
        "funding_label": LABELS[source].get(lang) if source in LABELS else source,
        "funding_amount": amount,
        "funding_shown": shown_amount(amount) if amount is not None else None,
        "members": [{"name": n, "email": e, "person_id": p, "role": r}
                    for n, e, p, r in rows.members_of(conn, task_id)],
    }


def lines(d: dict[str, Any]) -> list[str]:
    """`task show`'s lines for the extras; none when nothing is recorded."""
    out = []
    if d["starts_on"] or d["ends_on"]:
        out.append(f"dates: {d['starts_on'] or '?'} – {d['ends_on'] or '?'}")
    if d["funding_source"] or d["funding_amount"] is not None:
        out.append(f"funding: {d['funding_label'] or '?'}"
                   + (f", {d['funding_shown']}" if d["funding_shown"] else ""))
    for m in d["members"]:
        email = f" <{m['email']}>" if m["email"] else ""
        out.append(f"member: {m['name']}{email} — {m['role']}")
    if out and d["recorded_on"]:
        who = d["recorded_by"] + (f" for {d['acting_as']}" if d["acting_as"] else "")
        out.append(f"recorded: {d['recorded_on']} by {who}")
    return out
