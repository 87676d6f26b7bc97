"""What an e-mail needs to know from the database, as plain values: the read side of the mail.

The notifications package renders and sends; it never queries. It asks here for a task's facts
(title, state, unit, investigator), a deadline, the obligation a `unit_report` task stands for,
the people who hold a role (a unit's heads, the office's staff, the council), and the figures of
the office's digest. Every function takes the caller's connection (one transaction) and returns
frozen values or plain dicts — never ORM objects, whose attributes would reach the database
later from wherever they are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, bindparam, func, select

from storage.models import Deadline, HistoryEntry, Person, Task, Unit, WorkflowDefinition
from storage.outbox import OutboxMessage
from storage.timers import Obligation
from workflows.concerns import Step, Topic, TopicLine, concerned
from workflows.model import RESEARCH_LEVELS
from workflows.registry import from_snapshot

_TASKS = cast(Table, Task.__table__)
_UNITS = cast(Table, Unit.__table__)
_PEOPLE = cast(Table, Person.__table__)
_DEADLINES = cast(Table, Deadline.__table__)


@dataclass(frozen=True)
class UnitFacts:
    id: int
    code: str
    name: str
    contact_email: str | None


@dataclass(frozen=True)
class PersonFacts:
    id: int
    email: str
    name: str
    title: str | None
    role: str
    unit_name: str
    active: bool


@dataclass(frozen=True)
class TaskFacts:
    id: int
    title: str
    year: int
    level: str
    state: str
    definition_id: int
    unit: UnitFacts
    pi: PersonFacts


@dataclass(frozen=True)
class DeadlineFacts:
    id: int
    state: str
    due_on: dt.date
    rule: str
    closed: bool


def _unit(row: Any) -> UnitFacts:
    return UnitFacts(row.id, row.code, row.name, row.contact_email)


def unit_facts(conn: Connection, unit_id: int) -> UnitFacts | None:
    row = conn.execute(select(_UNITS.c.id, _UNITS.c.code, _UNITS.c.name, _UNITS.c.contact_email)
                       .where(_UNITS.c.id == unit_id)).first()
    return _unit(row) if row else None


def _task_query(*extra: Any) -> Any:
    """Task, unit and investigator (and `extra` columns), for one task id (`:task_id`)."""
    pi = _PEOPLE.alias("pi")
    return (select(_TASKS.c.id, _TASKS.c.title, _TASKS.c.year, _TASKS.c.level, _TASKS.c.state,
                   _TASKS.c.definition_id, _UNITS.c.id.label("unit_id"), _UNITS.c.code,
                   _UNITS.c.name.label("unit_name"), _UNITS.c.contact_email,
                   pi.c.id.label("pi_id"), pi.c.email, pi.c.name.label("pi_name"),
                   pi.c.title.label("pi_title"), pi.c.role, pi.c.active, *extra)
            .join(_UNITS, _UNITS.c.id == _TASKS.c.unit_id).join(pi, pi.c.id == _TASKS.c.pi_id)
            .where(_TASKS.c.id == bindparam("task_id")))


# Built once: constructing the aliases and joins per call cost more than running the query
# (12 of 18 s for 2,000 timers fired on SQLite, in bench/timers.py).
_TASK_FACTS = _task_query()


def task_facts(conn: Connection, task_id: int) -> TaskFacts | None:
    row = conn.execute(_TASK_FACTS, {"task_id": task_id}).first()
    if row is None:
        return None
    unit = UnitFacts(row.unit_id, row.code, row.unit_name, row.contact_email)
    return TaskFacts(row.id, row.title, row.year, row.level, row.state, row.definition_id,
                     unit, PersonFacts(row.pi_id, row.email, row.pi_name, row.pi_title,
                                       row.role, row.unit_name, bool(row.active)))


def _snapshot_query() -> Any:
    d = _DEADLINES.alias("d")
    ob = cast(Table, Obligation.__table__)
    open_deadline = (select(func.max(_DEADLINES.c.id)).where(
        _DEADLINES.c.task_id == _TASKS.c.id, _DEADLINES.c.closed_at.is_(None))
        .scalar_subquery())
    return (_task_query(
        d.c.id.label("d_id"), d.c.state.label("d_state"), d.c.due_on.label("d_due"),
        d.c.rule.label("d_rule"), ob.c.key.label("o_key"), ob.c.year.label("o_year"),
        ob.c.period.label("o_period"), ob.c.due_on.label("o_due"),
        ob.c.concerns.label("o_concerns"))
        .outerjoin(d, d.c.id == open_deadline).outerjoin(ob, ob.c.task_id == _TASKS.c.id))


_SNAPSHOT = _snapshot_query()


def snapshot(conn: Connection, task_id: int) -> dict[str, Any] | None:
    """What a mail about the task says, as it stands now (in the transaction that queues it):
    the task, its unit and investigator, its open deadline and the obligation it stands for —
    one query. Stored with the mail, so a mail rendered later (a downtime, a retry) still says
    what was true on the day of its event."""
    row = conn.execute(_SNAPSHOT, {"task_id": task_id}).first()
    if row is None:
        return None
    return {
        "task": {"id": row.id, "title": row.title, "year": row.year, "level": row.level,
                 "state": row.state, "definition_id": row.definition_id},
        "unit": {"id": row.unit_id, "code": row.code, "name": row.unit_name,
                 "contact_email": row.contact_email},
        "pi": {"id": row.pi_id, "email": row.email, "name": row.pi_name, "title": row.pi_title,
               "role": row.role, "active": bool(row.active)},
        "deadline": None if row.d_id is None else {
            "id": row.d_id, "state": row.d_state, "due_on": row.d_due, "rule": row.d_rule},
        "obligation": None if row.o_key is None else {
            "key": row.o_key, "year": row.o_year, "period": row.o_period, "due_on": row.o_due,
            "concerns": row.o_concerns},
    }


def subject_of(snap: dict[str, Any]) -> tuple[TaskFacts, DeadlineFacts | None,
                                               dict[str, Any] | None]:
    """A stored snapshot (JSON: dates as ISO strings) as the facts it was read as."""
    t, u, p = snap["task"], snap["unit"], snap["pi"]
    unit = UnitFacts(u["id"], u["code"], u["name"], u["contact_email"])
    task = TaskFacts(t["id"], t["title"], t["year"], t["level"], t["state"], t["definition_id"],
                     unit, PersonFacts(p["id"], p["email"], p["name"], p["title"], p["role"],
                                       u["name"], bool(p["active"])))
    d = snap.get("deadline")
    deadline = None if d is None else DeadlineFacts(
        d["id"], d["state"], _date(d["due_on"]), d["rule"], False)
    o = snap.get("obligation")
    obligation = None if o is None else {**o, "due_on": _date(o["due_on"])}
    return task, deadline, obligation


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _deadline(row: Any) -> DeadlineFacts:
    return DeadlineFacts(row.id, row.state, row.due_on, row.rule, row.closed_at is not None)


def deadline_facts(conn: Connection, deadline_id: int) -> DeadlineFacts | None:
    row = conn.execute(select(_DEADLINES).where(_DEADLINES.c.id == deadline_id)).first()
    return _deadline(row) if row else None


def open_deadline_facts(conn: Connection, task_id: int) -> DeadlineFacts | None:
    row = conn.execute(select(_DEADLINES).where(_DEADLINES.c.task_id == task_id,
                                                _DEADLINES.c.closed_at.is_(None))
                       .order_by(_DEADLINES.c.id.desc()).limit(1)).first()
    return _deadline(row) if row else None


def latest_deadline_facts(conn: Connection, task_id: int) -> DeadlineFacts | None:
    """The open deadline, else the last one (what a preview shows)."""
    row = conn.execute(select(_DEADLINES).where(_DEADLINES.c.task_id == task_id)
                       .order_by(_DEADLINES.c.closed_at.is_(None).desc(),
                                 _DEADLINES.c.id.desc()).limit(1)).first()
    return _deadline(row) if row else None


def obligation_row(conn: Connection, task_id: int) -> dict[str, Any] | None:
    """The calendar obligation a `unit_report` task stands for: key, year, period, due date."""
    t = cast(Table, Obligation.__table__)
    row = conn.execute(select(t.c.key, t.c.year, t.c.period, t.c.due_on, t.c.concerns)
                       .where(t.c.task_id == task_id)).mappings().first()
    return dict(row) if row else None


def unit_topics(conn: Connection, unit_id: int, tz: dt.tzinfo) -> list[Topic]:
    """The unit's research topics with their open deadline and their steps: what a unit report
    places against its milestone (`workflows.concerns`). Two queries, whatever the count."""
    history = cast(Table, HistoryEntry.__table__)
    definitions = cast(Table, WorkflowDefinition.__table__)
    open_due = (select(func.min(_DEADLINES.c.due_on)).where(
        _DEADLINES.c.task_id == _TASKS.c.id, _DEADLINES.c.closed_at.is_(None))
        .scalar_subquery())
    tasks = conn.execute(
        select(_TASKS.c.id, _TASKS.c.title, _TASKS.c.level, _TASKS.c.state,
               _PEOPLE.c.name, _PEOPLE.c.title.label("pi_title"), open_due.label("due_on"),
               definitions.c.source, definitions.c.source_path)
        .join(_PEOPLE, _PEOPLE.c.id == _TASKS.c.pi_id)
        .join(definitions, definitions.c.id == _TASKS.c.definition_id)
        .where(_TASKS.c.unit_id == unit_id, _TASKS.c.level.in_(RESEARCH_LEVELS))).all()
    steps: dict[int, list[Step]] = {}
    if tasks:
        for h in conn.execute(
                select(history.c.task_id, history.c.event, history.c.from_state,
                       history.c.to_state, history.c.effective_at, history.c.data)
                .where(history.c.task_id.in_([t.id for t in tasks]))
                .order_by(history.c.task_id, history.c.seq)):
            steps.setdefault(h.task_id, []).append(Step(
                h.event, h.from_state, h.to_state, h.effective_at.astimezone(tz).date(),
                h.data or {}))
    return [Topic(t.id, " ".join(t.title.split()), t.level, t.state,
                  " ".join(f"{t.pi_title or ''} {t.name}".split()),
                  from_snapshot(str(t.source), str(t.source_path)),
                  _date(t.due_on) if t.due_on else None, tuple(steps.get(t.id, ())))
            for t in tasks]


def report_topics(conn: Connection, obligation: Mapping[str, Any] | None, unit_id: int,
                  tz: dt.tzinfo) -> list[TopicLine] | None:
    """The topics a unit's report of results lists, as they stand now (`workflows.concerns`);
    None when `obligation` (its row or snapshot) is no report that lists topics."""
    if obligation is None or not obligation.get("concerns"):
        return None
    return concerned(unit_topics(conn, unit_id, tz), str(obligation["concerns"]),
                     int(obligation["year"]))


def latest_history(conn: Connection, task_id: int, events: list[str]) -> dict[str, Any] | None:
    """The task's most recent history entry of one of `events` (what a preview shows)."""
    t = cast(Table, HistoryEntry.__table__)
    row = conn.execute(select(t.c.event, t.c.reason, t.c.data, t.c.actor, t.c.actor_role,
                              t.c.effective_at)
                       .where(t.c.task_id == task_id, t.c.event.in_(events))
                       .order_by(t.c.seq.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


# --- people by role ------------------------------------------------------------------------------
def _active_people() -> Select[Any]:
    return (select(_PEOPLE.c.id, _PEOPLE.c.email, _PEOPLE.c.name, _PEOPLE.c.title,
                   _PEOPLE.c.role, _PEOPLE.c.active, _UNITS.c.name.label("unit"))
            .outerjoin(_UNITS, _UNITS.c.id == _PEOPLE.c.unit_id)
            .where(_PEOPLE.c.active.is_(True)).order_by(_PEOPLE.c.id))


# Built once: the dispatcher looks people up for every message it renders, and building a
# statement (and its cache key) anew cost more than running it.
_BY_ROLE = _active_people().where(_PEOPLE.c.role == bindparam("role"))
_HEADS = _active_people().where(_PEOPLE.c.unit_id == bindparam("unit_id"),
                                _PEOPLE.c.role == "unit_head")
_BY_EMAIL = _active_people().where(_PEOPLE.c.email.in_(bindparam("emails", expanding=True)))


def _people(conn: Connection, query: Select[Any], **params: Any) -> list[PersonFacts]:
    return [PersonFacts(r.id, r.email, r.name, r.title, r.role, r.unit or "", True)
            for r in conn.execute(query, params)]


class People:
    """The active people who hold a role, read from the directory when a mail is written."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def heads(self, unit_id: int) -> list[PersonFacts]:
        return _people(self.conn, _HEADS, unit_id=unit_id)

    def office(self) -> list[PersonFacts]:
        return _people(self.conn, _BY_ROLE, role="office")

    def council(self) -> list[PersonFacts]:
        return _people(self.conn, _BY_ROLE, role="council")

    def by_email(self, emails: list[str]) -> dict[str, PersonFacts]:
        """The active people registered under these addresses (lower-cased keys): an address a
        caller gave (a report's recipients) is written to as the person it belongs to."""
        wanted = sorted({e.strip().lower() for e in emails if e})
        if not wanted:
            return {}
        return {p.email.lower(): p for p in _people(self.conn, _BY_EMAIL, emails=wanted)}


# --- the office's digest -------------------------------------------------------------------------
def tasks_by_state(conn: Connection, year: int, *,
                   exclude_level: str) -> list[tuple[int, str, int]]:
    """(definition id, state, count) of the year's tasks, obligations left out."""
    rows = conn.execute(
        select(_TASKS.c.definition_id, _TASKS.c.state, func.count())
        .where(_TASKS.c.year == year, _TASKS.c.level != exclude_level)
        .group_by(_TASKS.c.definition_id, _TASKS.c.state)
        .order_by(_TASKS.c.definition_id, _TASKS.c.state))
    return [(int(d), str(s), int(n)) for d, s, n in rows]


def overdue_deadlines(conn: Connection, today: dt.date, limit: int,
                      legal_end: Callable[[dt.date], dt.date] | None = None,
                      ) -> tuple[int, list[dict[str, Any]]]:
    """How many open deadlines are late on `today`, and the `limit` oldest with their task.
    Late means past the deadline's `legal_end` (when given; else past its date): the date is
    a bound in SQL, the legal end is worked out here for those that pass it."""
    late = (select(_DEADLINES.c.state, _DEADLINES.c.due_on, _TASKS.c.id.label("task_id"),
                   _TASKS.c.title, _TASKS.c.definition_id, _UNITS.c.name.label("unit_name"))
            .join(_TASKS, _TASKS.c.id == _DEADLINES.c.task_id)
            .join(_UNITS, _UNITS.c.id == _TASKS.c.unit_id)
            .where(_DEADLINES.c.closed_at.is_(None), _DEADLINES.c.due_on < today))
    if legal_end is None:
        total = conn.scalar(select(func.count()).select_from(late.subquery())) or 0
        rows = conn.execute(late.order_by(_DEADLINES.c.due_on).limit(limit)).mappings()
        return int(total), [dict(r) for r in rows]
    found = [dict(r) for r in conn.execute(
        late.order_by(_DEADLINES.c.due_on, _TASKS.c.id)).mappings()
        if legal_end(r["due_on"]) < today]
    return len(found), found[:limit]


def mail_counts(conn: Connection, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """(sent in [start, end), dead in all)."""
    t = cast(Table, OutboxMessage.__table__)
    sent = conn.scalar(select(func.count()).select_from(t).where(
        t.c.state == "sent", t.c.sent_at >= start, t.c.sent_at < end)) or 0
    dead = conn.scalar(select(func.count()).select_from(t).where(t.c.state == "dead")) or 0
    return int(sent), int(dead)


def is_queued(conn: Connection, dedupe_key: str) -> bool:
    t = cast(Table, OutboxMessage.__table__)
    return conn.scalar(select(t.c.id).where(t.c.dedupe_key == dedupe_key)) is not None

