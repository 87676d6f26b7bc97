"""Tasks as storage sees them: read what the core needs, write a step or a registration whole.

`load_view` reads a task, its open deadline and its last history entry (three statements); the
core (`engine.rules`) turns that into a `Step`, and `write_step` writes the step in the caller's
transaction: the version-checked UPDATE of the task (a concurrent step makes it match no row:
`Conflict`, nothing written), its history entry, the deadline it closes with that deadline's
pending timers cancelled, the deadline it opens with its timers, and its e-mails. The statements
are built once: a transition runs them thousands of times in a year's replay, and the ORM's
unit of work costs more than the writes themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update

from storage.mailfacts import snapshot
from storage.models import Deadline, HistoryEntry, Refusal, Task, Unit, WorkflowDefinition
from storage.outbox import insert_mail
from storage.timers import cancel_timers, plant_timers
from workflows.decide import TaskView
from workflows.effects import NEW_TASK, History, Mail, OpenDeadline, Registration, Step
from workflows.errors import Conflict, NotFound
from workflows.model import Workflow
from workflows.registry import from_snapshot

_TASKS = cast(Table, Task.__table__)
_HISTORY = cast(Table, HistoryEntry.__table__)
_DEADLINES = cast(Table, Deadline.__table__)
_UNITS = cast(Table, Unit.__table__)

_LOAD_TASK = (select(_TASKS.c.id, _TASKS.c.state, _TASKS.c.unit_id, _UNITS.c.code,
                     _TASKS.c.pi_id, _TASKS.c.year, _TASKS.c.version,
                     _TASKS.c.state_entered_at, _TASKS.c.level, _TASKS.c.definition_id,
                     _TASKS.c.ends_on)
              .join(_UNITS, _UNITS.c.id == _TASKS.c.unit_id)
              .where(_TASKS.c.id == bindparam("tid")))
_OPEN_DEADLINE_OF = (select(_DEADLINES.c.id, _DEADLINES.c.state, _DEADLINES.c.due_on)
                     .where(_DEADLINES.c.task_id == bindparam("tid"),
                            _DEADLINES.c.closed_at.is_(None))
                     .order_by(_DEADLINES.c.id.desc()).limit(1))
_LAST_HISTORY = (select(func.max(_HISTORY.c.seq), func.max(_HISTORY.c.effective_at))
                 .where(_HISTORY.c.task_id == bindparam("tid")))
_MOVE_TASK = (update(_TASKS)
              .where(_TASKS.c.id == bindparam("tid"), _TASKS.c.version == bindparam("seen"))
              .values(state=bindparam("to"), state_entered_at=bindparam("entered"),
                      updated_at=bindparam("at"), version=bindparam("next")))
_ADD_HISTORY = insert(_HISTORY).returning(_HISTORY.c.id)
_CLOSE_DEADLINE = (update(_DEADLINES).where(_DEADLINES.c.id == bindparam("did"))
                   .values(closed_at=bindparam("at"), outcome=bindparam("how")))
_ADD_DEADLINE = insert(_DEADLINES).returning(_DEADLINES.c.id)
_ADD_TASK = insert(_TASKS).returning(_TASKS.c.id)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def load_view(conn: Connection, task_id: int) -> tuple[TaskView, int]:
    """The task as the core sees it, and its workflow definition's id; `NotFound` if none."""
    row = conn.execute(_LOAD_TASK, {"tid": task_id}).first()
    if row is None:
        raise NotFound("task", task_id)
    deadline = conn.execute(_OPEN_DEADLINE_OF, {"tid": task_id}).first()
    last_seq, last_at = conn.execute(_LAST_HISTORY, {"tid": task_id}).one()
    view = TaskView(
        id=row.id, state=row.state, unit_id=row.unit_id, unit_code=row.code, pi_id=row.pi_id,
        year=row.year, open_due_on=deadline.due_on if deadline else None,
        last_effective_at=_utc(last_at), version=row.version,
        state_entered_at=_utc(row.state_entered_at),
        open_deadline_id=deadline.id if deadline else None,
        open_deadline_state=deadline.state if deadline else None,
        last_seq=int(last_seq or 0), level=row.level, ends_on=row.ends_on)
    return view, int(row.definition_id)


def _history_values(task_id: int, h: History) -> dict[str, Any]:
    return {"task_id": task_id, "seq": h.seq, "event": h.event, "from_state": h.from_state,
            "to_state": h.to_state, "actor_id": h.actor_id, "actor": h.actor,
            "actor_role": h.actor_role, "reason": h.reason, "data": dict(h.data),
            "effective_at": h.effective_at, "recorded_at": h.recorded_at,
            "recorded_by": h.recorded_by, "operator": h.operator}


def _open(conn: Connection, task_id: int, opened: OpenDeadline, at: dt.datetime) -> int:
    deadline_id = int(conn.execute(_ADD_DEADLINE, {
        "task_id": task_id, "state": opened.state, "due_on": opened.due_on,
        "rule": opened.rule, "opened_at": at}).scalar_one())
    plant_timers(conn, task_id=task_id, deadline_id=deadline_id, state=opened.state,
                 due_on=opened.ladder_due_on, legal_end=opened.ladder_legal_end,
                 timers=opened.timers, created_at=at)
    return deadline_id


def queue_mails(conn: Connection, mails: tuple[Mail, ...], task_id: int | None,
                at: dt.datetime) -> None:
    """Queue the mails of one event, each with the facts of its task as they stand in this
    transaction (`as_of`: see `mailfacts.snapshot`)."""
    snapshots: dict[int, dict[str, Any] | None] = {}
    for mail in mails:
        about = mail.task_id if mail.task_id is not None else task_id
        facts = dict(mail.facts)
        if about is not None:
            if about not in snapshots:
                snapshots[about] = snapshot(conn, about)
            facts["as_of"] = snapshots[about]
        insert_mail(conn, kind=mail.kind, dedupe_key=mail.dedupe_key.replace(
            NEW_TASK, str(task_id)), task_id=about, lang=mail.lang, context=facts,
            addressed_to=mail.to, now=at)


def write_step(conn: Connection, step: Step) -> int:
    """Write one transition (see the module's note); returns its history entry's id."""
    at = step.history.recorded_at
    moved = conn.execute(_MOVE_TASK, {
        "tid": step.task_id, "seen": step.seen_version, "to": step.to_state,
        "entered": step.state_entered_at, "at": at, "next": step.seen_version + 1})
    if moved.rowcount != 1:  # a concurrent transition committed first
        raise Conflict(f"the task was changed by someone else meanwhile: reload and retry "
                       f"(task {step.task_id}, version {step.seen_version})")
    entry_id = int(conn.execute(_ADD_HISTORY, _history_values(step.task_id, step.history))
                   .scalar_one())
    if step.close is not None:
        conn.execute(_CLOSE_DEADLINE, {"did": step.close.deadline_id, "at": at,
                                       "how": step.close.outcome})
        cancel_timers(conn, step.close.deadline_id, at=at,
                      reason=f"deadline closed ({step.close.outcome}) when the task left "
                             f"{step.close.state}")
    if step.open is not None:
        _open(conn, step.task_id, step.open, at)
    queue_mails(conn, step.mails, step.task_id, at)
    return entry_id


def write_registration(conn: Connection, reg: Registration, definition_id: int) -> int:
    """Insert a new task with its first history entry, deadline, timers and e-mails."""
    at = reg.history.recorded_at
    task_id = int(conn.execute(_ADD_TASK, {
        "definition_id": definition_id, "workflow": reg.workflow, "level": reg.level,
        "state": reg.state, "unit_id": reg.unit_id, "pi_id": reg.pi_id, "year": reg.year,
        "topic": reg.topic, "title": reg.title, "state_entered_at": at, "created_at": at,
        "updated_at": at, "version": 1}).scalar_one())
    conn.execute(_ADD_HISTORY, _history_values(task_id, reg.history))
    if reg.open is not None:
        _open(conn, task_id, reg.open, at)
    queue_mails(conn, reg.mails, task_id, at)
    return task_id


def definition_id(conn: Connection, *, name: str, version: int, sha256: str, source: str,
                  path: str, now: dt.datetime) -> int:
    """The stored snapshot of this exact definition, added the first time a task uses it."""
    table = cast(Table, WorkflowDefinition.__table__)
    found = conn.execute(select(table.c.id).where(table.c.name == name,
                                                  table.c.sha256 == sha256)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(insert(table).returning(table.c.id), {
        "name": name, "version": version, "sha256": sha256, "source": source,
        "source_path": path, "loaded_at": now}).scalar_one())


def workflow_of(conn: Connection, definition: int) -> Workflow:
    """The workflow a task runs on: its stored definition snapshot, parsed (once per text)."""
    table = cast(Table, WorkflowDefinition.__table__)
    row = conn.execute(select(table.c.source, table.c.source_path)
                       .where(table.c.id == definition)).one()
    return from_snapshot(str(row.source), str(row.source_path))


def task_exists(conn: Connection, task_id: int) -> bool:
    return conn.execute(select(_TASKS.c.id).where(_TASKS.c.id == task_id)).first() is not None


def add_refusal(conn: Connection, *, task_id: int | None, event: str, actor: str, kind: str,
                message: str, at: dt.datetime) -> None:
    conn.execute(insert(cast(Table, Refusal.__table__)), {
        "task_id": task_id, "event": event, "actor": actor, "kind": kind, "message": message,
        "attempted_at": at})
