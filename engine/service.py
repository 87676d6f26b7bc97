"""The engine's one API: what the CLI, the daemon and the tests call.

Each public method is one transaction. `fire` loads the task, asks `decide` (pure), writes the
state change, its history entry and its deadlines, publishes the domain events to subscribers in
the same transaction, and commits. Two writers on one task: the task's version column makes the
second UPDATE match no row (`StaleDataError`), reported as `Conflict`; nothing of the loser is
written. A refused attempt is recorded in `refusal` afterwards, in a transaction of its own.
The read methods (`list_*`, `task_detail`, `allowed_events`) run in read-only transactions
(`transaction(read_only=True)`): on SQLite they take no write lock, so they never wait for one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine import directory, queries
from engine import directory_changes as changes
from engine.directory_changes import check_operator
from engine.directory_log import API, Operator
from engine.events import (
    DeadlineClosed,
    DeadlineOpened,
    DomainEvent,
    EventBus,
    TaskRegistered,
    TransitionFired,
)
from storage.db import reader_factory
from storage.faults import database_error
from storage.models import Deadline, HistoryEntry, Person, Refusal, Task, Unit, WorkflowDefinition
from workflows import inputs
from workflows.clock import DEFAULT_TZ
from workflows.decide import (
    SYSTEM,
    Actor,
    Decision,
    TaskView,
    allowed_events,
    check_registration,
    decide,
)
from workflows.errors import Conflict, InputError, NckhError, NotAllowed, NotFound, Refused
from workflows.machine import compiled
from workflows.model import EventDef, Workflow, WorkingDays
from workflows.registry import Registry, from_snapshot

LEVELS = ("unit", "province", "initiative")
DetailHook = Callable[[Session, int, dt.datetime], dict[str, list[str]]]


@dataclass(frozen=True)
class Fired:
    task_id: int
    event: str
    from_state: str
    to_state: str
    version: int
    history_id: int


class Engine:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: Registry | None = None,
        *,
        tz: dt.tzinfo = DEFAULT_TZ,
        bus: EventBus | None = None,
        working_days: WorkingDays | None = None,
    ) -> None:
        self.sessions = sessions
        self.readers = reader_factory(sessions)
        self.registry = registry or Registry()
        self.tz = tz
        self.bus = bus or EventBus()
        self.working_days = working_days
        self._definitions: dict[int, Workflow] = {}
        # Extra sections for `task show` (e.g. the scheduler's timers): (session, task id, now)
        # -> {section title: lines}. Components append here; the engine stays unaware of them.
        self.detail_hooks: list[DetailHook] = []

    # --- plumbing ----------------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """One unit of work; storage failures surface as `StorageError`/`Conflict`.
        `read_only` for work that never writes: no write lock to wait for on SQLite."""
        try:
            with (self.readers if read_only else self.sessions)() as session, session.begin():
                yield session
        except StaleDataError as exc:
            raise Conflict(f"the task was changed by someone else meanwhile: reload and retry "
                           f"({exc.args[0].split(';')[0] if exc.args else 'stale row'})") from None
        except IntegrityError as exc:
            # The driver's text may go on with DETAIL lines; an error is one line.
            first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "?"
            raise Conflict(f"concurrent change refused by the database: {first}") from None
        except OperationalError as exc:
            raise database_error(exc) from None

    def workflow_of(self, session: Session, task: Task) -> Workflow:
        wf = self._definitions.get(task.definition_id)
        if wf is None:
            snap = session.get(WorkflowDefinition, task.definition_id)
            assert snap is not None
            wf = self._definitions[task.definition_id] = from_snapshot(snap.source,
                                                                       snap.source_path)
        return wf

    def _snapshot(self, session: Session, wf: Workflow, now: dt.datetime) -> int:
        found = session.scalar(select(WorkflowDefinition.id).where(
            WorkflowDefinition.name == wf.name, WorkflowDefinition.sha256 == wf.sha256))
        if found is not None:
            return found
        snap = WorkflowDefinition(name=wf.name, version=wf.version, sha256=wf.sha256,
                                  source=wf.source, source_path=wf.path, loaded_at=now)
        session.add(snap)
        session.flush()
        return snap.id

    def _publish(self, session: Session, events: list[DomainEvent]) -> None:
        self.bus.publish(session, events)

    # --- directory -----------------------------------------------------------------------------
    # Each change is checked and recorded with its operator (who ran the command, and the office
    # person named with --as) in the change's own transaction; see engine/directory_changes.py.
    def add_unit(self, data: directory.UnitInput, *, now: dt.datetime,
                 operator: Operator = API) -> None:
        with self.transaction() as s:
            directory.upsert_unit(s, data, now, update=False,
                                  operator=check_operator(s, operator))

    def import_units(self, text: str, file: str, *, now: dt.datetime,
                     operator: Operator = API) -> dict[str, Any]:
        rows = directory.parse_units_csv(text, file)
        with self.transaction() as s:
            return directory.import_units(s, rows, now, file, check_operator(s, operator))

    def add_person(self, *, email: str, name: str, role: str, unit_code: str | None = None,
                   title: str | None = None, now: dt.datetime, operator: Operator = API) -> None:
        with self.transaction() as s:
            directory.add_person(s, email=email, name=name, role=role, unit_code=unit_code,
                                 title=title, now=now, operator=check_operator(s, operator))

    def set_head(self, unit_code: str, *, name: str, email: str, title: str | None = None,
                 now: dt.datetime, operator: Operator = API) -> directory.HeadChange:
        """Make `email` the unit's head; the head it replaces is deactivated."""
        with self.transaction() as s:
            op = check_operator(s, operator)
            unit = directory.find_unit(s, unit_code)
            return directory.set_head(s, unit, email=email, name=name, title=title, now=now,
                                      operator=op)

    def deactivate_person(self, email: str, *, reason: str, now: dt.datetime,
                          operator: Operator = API) -> list[dict[str, Any]]:
        """Deactivate a person; returns the open tasks they lead (these stay open)."""
        with self.transaction() as s:
            person = changes.deactivate_person(s, email, reason, now=now,
                                               operator=check_operator(s, operator))
            return self._open_tasks(s, Task.pi_id == person.id)

    def activate_person(self, email: str, *, now: dt.datetime, operator: Operator = API) -> None:
        with self.transaction() as s:
            changes.activate_person(s, email, now=now, operator=check_operator(s, operator))

    def deactivate_unit(self, unit_code: str, *, reason: str, now: dt.datetime,
                        operator: Operator = API) -> list[dict[str, Any]]:
        """Deactivate a unit; returns its open tasks (these run to their end)."""
        with self.transaction() as s:
            unit = changes.deactivate_unit(s, unit_code, reason, now=now,
                                           operator=check_operator(s, operator))
            return self._open_tasks(s, Task.unit_id == unit.id)

    def activate_unit(self, unit_code: str, *, now: dt.datetime, operator: Operator = API) -> None:
        with self.transaction() as s:
            changes.activate_unit(s, unit_code, now=now, operator=check_operator(s, operator))

    def unit_detail(self, unit_code: str) -> dict[str, Any]:
        with self.transaction() as s:
            return changes.unit_detail(s, unit_code, self.tz)

    def person_detail(self, email: str) -> dict[str, Any]:
        with self.transaction() as s:
            detail = changes.person_detail(s, email, self.tz)
            person = directory.find_person(s, email)
            return {**detail, "open_tasks": self._open_tasks(s, Task.pi_id == person.id)}

    def _open_tasks(self, s: Session, where: ColumnElement[bool]) -> list[dict[str, Any]]:
        """Tasks matching `where` that are not in a final state of their own workflow."""
        tasks = s.scalars(select(Task).where(where).options(joinedload(Task.unit))
                          .order_by(Task.id))
        return [{"id": t.id, "unit": t.unit.code, "state": t.state, "title": t.title}
                for t in tasks if not self.workflow_of(s, t).states[t.state].final]

    def list_units(self) -> list[dict[str, Any]]:
        with self.transaction(read_only=True) as s:
            return directory.list_units(s)

    def list_people(self) -> list[dict[str, Any]]:
        with self.transaction(read_only=True) as s:
            return directory.list_people(s)

    # --- tasks -------------------------------------------------------------------------------
    def create_task(
        self, *, unit_code: str, level: str, title: str, pi_email: str,
        pi_name: str | None = None, year: int | None = None, topic: int | None = None,
        actor_email: str | None = None, now: dt.datetime, operator: Operator = API,
    ) -> int:
        """Register a task. With `actor_email` the person's registration scope applies (see
        `check_registration`); without, it is an administrator's registration. A refusal is
        recorded in `refusal` (event `create`, no task) and nothing else is written."""
        if level not in LEVELS:
            raise InputError(f"invalid level '{level}': expected one of {', '.join(LEVELS)}")
        title = inputs.clean_text(title, "task title", limit=inputs.LIMITS["task title"])
        year = inputs.check_year(now.astimezone(self.tz).year if year is None else year)
        if topic is not None and not 1 <= topic <= 5:
            raise InputError(f"invalid topic group {topic}: expected 1–5 (seed 003, §2.3)")
        email = directory.normalise_email(pi_email, what="--pi-email")
        wf = self.registry.for_level(level)
        try:
            with self.transaction() as s:
                unit = directory.find_unit(s, unit_code)
                actor = self._actor(s, actor_email) if actor_email else None
                if actor is not None:
                    check_registration(actor, unit_id=unit.id, unit_code=unit.code,
                                       pi_email=email)
                if not unit.active:
                    raise NotAllowed(f"unit {unit.code} is inactive and gets no new tasks")
                pi = s.scalar(select(Person).where(Person.email == email))
                if pi is None:
                    if not pi_name or not pi_name.strip():
                        raise InputError(f"unknown person {email}: give --pi-name to register "
                                         "them")
                    pi = directory.add_person(
                        s, email=email, name=pi_name, role="pi", unit_code=unit.code,
                        title=None, now=now,
                        operator=Operator(operator.login, actor.email if actor else None))
                elif not pi.active:
                    raise NotAllowed(f"{pi.email} is inactive and may not lead a new task")
                due = None
                if wf.states[wf.initial].deadline is not None:
                    due = wf.deadline_due_on(wf.initial, year, now.astimezone(self.tz).date(),
                                             self.working_days)
                return self._register(s, wf, unit_id=unit.id, pi_id=pi.id, year=year,
                                      topic=topic, title=title, actor=actor,
                                      creator="admin", due_on=due, rule=None, now=now)
        except Refused as refusal:
            if not isinstance(refusal, Conflict):
                self._record_refusal(None, "create", actor_email or "admin", refusal, now)
            raise

    def _register(self, s: Session, wf: Workflow, *, unit_id: int, pi_id: int, year: int,
                  topic: int | None, title: str, actor: Actor | None, creator: str,
                  due_on: dt.date | None, rule: str | None, now: dt.datetime) -> int:
        """Insert a task in its initial state with its first history entry and, when `due_on`
        is given, its first deadline; publish what happened. Two flushes: the task's id, then
        the rest."""
        task = Task(
            definition_id=self._snapshot(s, wf, now), workflow=wf.name, level=wf.level,
            state=wf.initial, unit_id=unit_id, pi_id=pi_id, year=year, topic=topic,
            title=title, state_entered_at=now, created_at=now, updated_at=now,
        )
        s.add(task)
        s.flush()
        s.add(HistoryEntry(
            task_id=task.id, seq=1, event="create", from_state=None, to_state=wf.initial,
            actor_id=actor.id if actor else None,
            actor=actor.email if actor else creator, actor_role=actor.role if actor else creator,
            reason=None, data={}, effective_at=now, recorded_at=now,
        ))
        deadline = None
        if due_on is not None:
            state_rule = wf.states[wf.initial].deadline
            deadline = Deadline(task_id=task.id, state=wf.initial, due_on=due_on,
                                rule=rule or (state_rule.describe() if state_rule else
                                              "obligation"), opened_at=now)
            s.add(deadline)
        s.flush()
        events: list[DomainEvent] = [TaskRegistered(task.id, wf.name, wf.initial, unit_id, now)]
        if deadline is not None:
            events.append(DeadlineOpened(task.id, deadline.id, deadline.state, deadline.due_on,
                                         deadline.rule, now))
        self._publish(s, events)
        return task.id

    def _actor(self, s: Session, email: str) -> Actor:
        if email.strip().lower() == "system":
            raise InputError("'system' is reserved for the scheduler; act as a person")
        person = directory.find_person(s, email)
        return Actor(id=person.id, email=person.email, role=person.role, unit_id=person.unit_id,
                     unit_code=person.unit.code if person.unit else None, active=person.active)

    def _view(self, s: Session, task: Task) -> tuple[TaskView, Deadline | None, int]:
        """What `decide` needs to know about a task, its open deadline, and its last history
        sequence number (the next entry's is one more)."""
        open_deadline = s.scalar(select(Deadline).where(
            Deadline.task_id == task.id, Deadline.closed_at.is_(None)).order_by(Deadline.id.desc()))
        last = s.execute(select(func.max(HistoryEntry.seq), func.max(HistoryEntry.effective_at))
                         .where(HistoryEntry.task_id == task.id)).one()
        view = TaskView(
            id=task.id, state=task.state, unit_id=task.unit_id, unit_code=task.unit.code,
            pi_id=task.pi_id, year=task.year,
            open_due_on=open_deadline.due_on if open_deadline else None,
            last_effective_at=_utc(last[1]),
        )
        return view, open_deadline, int(last[0] or 0)

    def _load_task(self, s: Session, task_id: int) -> Task:
        task = s.get(Task, inputs.check_id("task", task_id), options=[joinedload(Task.unit)])
        if task is None:
            raise NotFound("task", task_id)
        return task

    def fire(
        self, task_id: int, event: str, *, actor_email: str | None, reason: str | None = None,
        data: Mapping[str, str] | None = None, at: dt.datetime | None = None,
        now: dt.datetime, expected_version: int | None = None,
    ) -> Fired:
        """Fire `event` on a task as a person (or as the scheduler when `actor_email` is None)."""
        try:
            with self.transaction() as s:
                return self._fire(s, task_id, event, actor_email, reason, dict(data or {}),
                                  at or now, now, expected_version)
        except Refused as refusal:
            if not isinstance(refusal, Conflict):
                self._record_refusal(task_id, event, actor_email or "system", refusal, now)
            raise
        except NotFound as unknown:
            # Someone not in the directory tried to act on a task that exists: the caller's
            # mistake (exit 2), and still an attempt worth auditing like any refusal.
            if unknown.kind == "person" and actor_email is not None:
                self._record_refusal(task_id, event, actor_email, unknown, now)
            raise

    def _fire(self, s: Session, task_id: int, event: str, actor_email: str | None,
              reason: str | None, data: dict[str, str], at: dt.datetime, now: dt.datetime,
              expected_version: int | None) -> Fired:
        task = self._load_task(s, task_id)
        if expected_version is not None and task.version != expected_version:
            raise Conflict(f"task {task_id} changed since version {expected_version} "
                           f"(now {task.version}): reload and retry")
        actor = SYSTEM if actor_email is None else self._actor(s, actor_email)
        wf = self.workflow_of(s, task)
        view, open_deadline, last_seq = self._view(s, task)
        d = decide(wf, compiled(wf), view, event, actor, reason=reason, data=data,
                   effective_at=at, now=now, tz=self.tz, working_days=self.working_days)
        return self._apply(s, task, wf, d, actor, open_deadline, last_seq + 1, now)

    def _apply(self, s: Session, task: Task, wf: Workflow, d: Decision, actor: Actor,
               open_deadline: Deadline | None, seq: int, now: dt.datetime) -> Fired:
        """Write a decided transition. Core statements, built once, rather than the ORM's unit of
        work, whose bookkeeping cost more than the writes themselves; the loaded objects are
        then brought up to date so subscribers in this transaction read the new state."""
        conn = s.connection()
        entered = d.effective_at if d.to_state != d.from_state else task.state_entered_at
        moved = conn.execute(_MOVE_TASK, {
            "tid": task.id, "seen": task.version, "to": d.to_state, "entered": entered,
            "at": now, "next": task.version + 1})
        if moved.rowcount != 1:  # a concurrent transition committed first
            raise Conflict(f"the task was changed by someone else meanwhile: reload and retry "
                           f"(task {task.id}, version {task.version})")
        for key, value in (("state", d.to_state), ("state_entered_at", entered),
                           ("updated_at", now), ("version", task.version + 1)):
            set_committed_value(task, key, value)
        entry_id = conn.execute(_ADD_HISTORY, {
            "task_id": task.id, "seq": seq, "event": d.event, "from_state": d.from_state,
            "to_state": d.to_state, "actor_id": actor.id, "actor": actor.email,
            "actor_role": d.acting_role, "reason": d.reason, "data": dict(d.data),
            "effective_at": d.effective_at, "recorded_at": now}).scalar_one()
        events: list[DomainEvent] = [TransitionFired(
            task.id, wf.name, d.event, d.from_state, d.to_state, actor.email, d.acting_role,
            d.reason, d.data, d.effective_at, now, entry_id)]
        if open_deadline is not None and d.close_outcome is not None:
            conn.execute(_CLOSE_DEADLINE, {"did": open_deadline.id, "at": now,
                                           "how": d.close_outcome})
            set_committed_value(open_deadline, "closed_at", now)
            set_committed_value(open_deadline, "outcome", d.close_outcome)
            events.append(DeadlineClosed(task.id, open_deadline.id, open_deadline.state,
                                         d.close_outcome, now))
        if d.new_deadline is not None:
            new = d.new_deadline
            deadline_id = conn.execute(_OPEN_DEADLINE, {
                "task_id": task.id, "state": new.state, "due_on": new.due_on, "rule": new.rule,
                "opened_at": now}).scalar_one()
            events.append(DeadlineOpened(task.id, deadline_id, new.state, new.due_on, new.rule,
                                         now, d.close_outcome == "extended"))
        self._publish(s, events)
        return Fired(task.id, d.event, d.from_state, d.to_state, task.version, entry_id)

    def fire_in(self, s: Session, task_id: int, event: str, *, reason: str | None = None,
                now: dt.datetime) -> Fired:
        """Fire `event` as role `system` inside the caller's transaction (the scheduler's
        automatic events, committed with the timer that caused them). Raises like `fire`."""
        return self._fire(s, task_id, event, None, reason, {}, now, now, None)

    def create_task_in(
        self, s: Session, *, workflow: str, unit_id: int, pi_id: int, year: int, title: str,
        now: dt.datetime, due_on: dt.date | None = None, rule: str | None = None,
    ) -> int:
        """Register a task of any workflow (e.g. a calendar obligation's `unit_report`) inside
        the caller's transaction, its initial deadline on `due_on` if given. No permission
        checks: only the scheduler calls this."""
        wf = self.registry.get(workflow)
        state_rule = wf.states[wf.initial].deadline
        if due_on is None and state_rule is not None:
            due_on = wf.deadline_due_on(wf.initial, year, now.astimezone(self.tz).date(),
                                        self.working_days)
        return self._register(s, wf, unit_id=unit_id, pi_id=pi_id, year=year, topic=None,
                              title=" ".join(title.split()), actor=None, creator="system",
                              due_on=due_on, rule=rule, now=now)

    def _record_refusal(self, task_id: int | None, event: str, actor: str, refusal: NckhError,
                        now: dt.datetime) -> None:
        # What the caller typed is shown escaped and cut to the columns (event 60, actor 320):
        # an unknown person's event and address have not been checked by anything yet.
        with self.transaction() as s:
            exists = (task_id is not None and inputs.id_in_range(task_id)
                      and s.get(Task, task_id) is not None)
            s.add(Refusal(task_id=task_id if exists else None,
                          event=inputs.printable(event)[:60], actor=inputs.printable(actor)[:320],
                          kind=type(refusal).__name__, message=inputs.printable(refusal.message),
                          attempted_at=now))

    def allowed_events(self, task_id: int, actor_email: str | None = None) -> list[EventDef]:
        with self.transaction(read_only=True) as s:
            task = self._load_task(s, task_id)
            wf = self.workflow_of(s, task)
            view, _, _ = self._view(s, task)
            actor = self._actor(s, actor_email) if actor_email else None
            return allowed_events(wf, view, actor)

    def task_detail(self, task_id: int, *, now: dt.datetime, lang: str = "vi") -> dict[str, Any]:
        with self.transaction(read_only=True) as s:
            task = self._load_task(s, task_id)
            detail = queries.task_detail(s, task, self.workflow_of(s, task), now, self.tz, lang)
            for hook in self.detail_hooks:
                detail.setdefault("extra", {}).update(hook(s, task.id, now))
            return detail

    def list_tasks(self, *, now: dt.datetime, unit: str | None = None, state: str | None = None,
                   year: int | None = None, overdue: bool = False,
                   lang: str = "vi") -> list[dict[str, Any]]:
        if year is not None:
            inputs.check_year(year)
        with self.transaction(read_only=True) as s:
            unit_row: Unit | None = directory.find_unit(s, unit) if unit is not None else None
            if state is not None:
                state = self._known_state(s, state)
            return queries.list_tasks(
                s, now=now, tz=self.tz, unit_id=unit_row.id if unit_row else None, state=state,
                year=year, overdue=overdue, lang=lang, workflow_of=self.workflow_of)

    def _known_state(self, s: Session, state: str) -> str:
        """A state name as `--state` takes it (the name, not its label); an unknown one is
        refused with the states of the workflows in force (and any still held by a task)."""
        states = {name for wf in map(self.registry.get, self.registry.names())
                  for name in wf.states}
        states.update(s.scalars(select(Task.state).distinct()))
        if state not in states:
            raise InputError(f"unknown state '{state}'; states: {', '.join(sorted(states))}")
        return state


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


__all__: Sequence[str] = ("LEVELS", "Engine", "Fired")


_TASKS = cast(Table, Task.__table__)
_HISTORY = cast(Table, HistoryEntry.__table__)
_DEADLINES = cast(Table, Deadline.__table__)
_MOVE_TASK = (update(_TASKS)
              .where(_TASKS.c.id == bindparam("tid"), _TASKS.c.version == bindparam("seen"))
              .values(state=bindparam("to"), state_entered_at=bindparam("entered"),
                      updated_at=bindparam("at"), version=bindparam("next")))
_ADD_HISTORY = insert(_HISTORY).returning(_HISTORY.c.id)
_CLOSE_DEADLINE = (update(_DEADLINES).where(_DEADLINES.c.id == bindparam("did"))
                   .values(closed_at=bindparam("at"), outcome=bindparam("how")))
_OPEN_DEADLINE = insert(_DEADLINES).returning(_DEADLINES.c.id)
