"""The engine's one API: what the CLI, the daemon and the tests call.

Each public method is one transaction. `fire` loads the task (`storage.tasks.load_view`), asks
the core for the whole step (`engine.rules`: the new state, its history entry, the deadlines it
closes and opens with their timers, its e-mails) and writes that step (`storage.tasks.write_step`)
before it commits. Two writers on one task: the task's version makes the second UPDATE match no
row, reported as `Conflict`; nothing of the loser is written. A refused attempt is recorded in
`refusal` afterwards, in a transaction of its own.
The read methods (`list_*`, `task_detail`, `allowed_events`) run in read-only transactions
(`transaction(read_only=True)`): on SQLite they take no write lock, so they never wait for one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

from engine import applications, councils, directory, queries, registers, taskextras, unitreports
from engine import directory_changes as changes
from engine.applications import ApplicationInput
from engine.councils import CouncilInput, OutcomeInput, RecognitionInput
from engine.directory_changes import check_operator
from engine.directory_log import API, Operator
from engine.publications import KeptFile, PublicationInput
from engine.rules import Rules
from engine.sessions import SessionInput
from engine.taskextras import ExtrasInput
from engine.unitcsv import parse_units_csv
from storage import directory as rows
from storage import readmodels
from storage import tasks as stored
from storage.db import Connection, DbEngine, Session, read, unit_of_work
from storage.letters import task_mails
from storage.models import Task, Unit
from storage.timers import timers_of
from storage.webmodels import StoredFile
from workflows import inputs
from workflows.clock import DEFAULT_TZ
from workflows.decide import SYSTEM, Actor, allowed_events, check_registration
from workflows.errors import (
    Conflict,
    InputError,
    InvalidData,
    NckhError,
    NotAllowed,
    NotFound,
    Refused,
)
from workflows.model import RESEARCH_LEVELS, EventDef, TimerPolicy, Workflow
from workflows.periods import SessionPlan
from workflows.registry import Registry

PUBLISHED = "published"  # the milestone whose URL enters the publications register


@dataclass(frozen=True)
class Fired:
    task_id: int
    event: str
    from_state: str
    to_state: str
    version: int
    history_id: int


class Engine:
    def __init__(self, db: DbEngine, registry: Registry | None = None, *,
                 rules: Callable[[], Rules], tz: dt.tzinfo = DEFAULT_TZ) -> None:
        self.db = db
        self.registry = registry or Registry()
        self.tz = tz
        self._rules = rules  # built on first use: `nckh unit list` never needs the calendar
        self._definitions: dict[int, Workflow] = {}

    @property
    def rules(self) -> Rules:
        return self._rules()

    # --- plumbing ----------------------------------------------------------------------------
    def transaction(self, *, read_only: bool = False) -> AbstractContextManager[Session]:
        """One unit of work; storage failures surface as `StorageError`/`Conflict`.
        `read_only` for work that never writes: no write lock to wait for on SQLite."""
        return unit_of_work(self.db, read_only_=read_only)

    def plain_read(self) -> AbstractContextManager[Connection]:
        """A read-only transaction on a Core connection, for a hot read of plain rows (the
        dashboard): no ORM session to set up and commit."""
        return read(self.db)

    def workflow(self, conn: Connection, definition: int) -> Workflow:
        """The workflow a task runs on: its stored snapshot, parsed once per process."""
        wf = self._definitions.get(definition)
        if wf is None:
            wf = self._definitions[definition] = stored.workflow_of(conn, definition)
        return wf

    def workflow_of(self, session: Session, task: Task) -> Workflow:
        return self.workflow(session.connection(), task.definition_id)

    def _definition(self, conn: Connection, wf: Workflow, now: dt.datetime) -> int:
        return stored.definition_id(conn, name=wf.name, version=wf.version, sha256=wf.sha256,
                                    source=wf.source, path=wf.path, now=now)

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
        rows = parse_units_csv(text, file)
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
            return self._open_tasks(s, rows.tasks_of(s, pi_id=person.id))

    def activate_person(self, email: str, *, now: dt.datetime, operator: Operator = API) -> None:
        with self.transaction() as s:
            changes.activate_person(s, email, now=now, operator=check_operator(s, operator))

    def deactivate_unit(self, unit_code: str, *, reason: str, now: dt.datetime,
                        operator: Operator = API) -> list[dict[str, Any]]:
        """Deactivate a unit; returns its open tasks (these run to their end)."""
        with self.transaction() as s:
            unit = changes.deactivate_unit(s, unit_code, reason, now=now,
                                           operator=check_operator(s, operator))
            return self._open_tasks(s, rows.tasks_of(s, unit_id=unit.id))

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
            return {**detail, "open_tasks": self._open_tasks(
                s, rows.tasks_of(s, pi_id=person.id))}

    def _open_tasks(self, s: Session, tasks: list[Task]) -> list[dict[str, Any]]:
        """The tasks that are not in a final state of their own workflow."""
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
        backdate: dt.date | None = None, extras: ExtrasInput | None = None,
    ) -> int:
        """Register a task. With `actor_email` the person's registration scope applies (see
        `check_registration`); without, it is an administrator's registration. `backdate`: the
        task really began that day (a province going live mid-year records what is already
        under way): it is recorded as of then and nothing of its past is mailed; its deadlines
        still fall where its workflow puts them, with the grace period if already past.
        `extras`: its dates, funding and team (engine/taskextras.py), written with it. A
        refusal is recorded in `refusal` (event `create`, no task) and nothing else is
        written."""
        # Each refusal of the input names its form field (`field`), for the web to show beside.
        if level not in RESEARCH_LEVELS:
            raise InvalidData(f"invalid level '{level}': expected one of "
                              f"{', '.join(RESEARCH_LEVELS)}", field="level")
        title = inputs.clean_text(title, "task title", limit=inputs.LIMITS["task title"],
                                  field="title")
        since = self._backdate(backdate, now)
        began = (since or now).astimezone(self.tz)
        year = inputs.check_year(began.year if year is None else year, field="year")
        if topic is not None and not 1 <= topic <= 5:
            raise InputError(f"invalid topic group {topic}: expected 1–5 (seed 003, §2.3)")
        email = directory.normalise_email(pi_email, what="--pi-email", field="pi_email")
        checked = taskextras.check(extras, year=year) if extras is not None else None
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
                pi = rows.person_by_email(s, email)
                if pi is None:
                    if not pi_name or not pi_name.strip():
                        raise InvalidData(f"unknown person {email}: give --pi-name to register "
                                          "them", field="pi_name")
                    pi_name = inputs.clean_text(pi_name, "person name", field="pi_name",
                                                limit=inputs.LIMITS["person name"])
                    pi = directory.add_person(
                        s, email=email, name=pi_name, role="pi", unit_code=unit.code,
                        title=None, now=now,
                        operator=Operator(operator.login, actor.email if actor else None))
                elif not pi.active:
                    raise NotAllowed(f"{pi.email} is inactive and may not lead a new task")
                reg = self.rules.register(wf, unit_id=unit.id, pi_id=pi.id, year=year,
                                          topic=topic, title=title, actor=actor,
                                          creator="admin", now=now, since=since)
                conn = s.connection()
                task_id = stored.write_registration(conn, reg, self._definition(conn, wf, now))
                if checked is not None:
                    taskextras.write(s, task_id, checked, now=now, operator=Operator(
                        operator.login, actor.email if actor else operator.acting_as))
                return task_id
        except Refused as refusal:
            if not isinstance(refusal, Conflict):
                self._record_refusal(None, "create", actor_email or "admin", refusal, now)
            raise

    def actor(self, s: Session, email: str) -> Actor:
        """A registered person as the core sees them, inside the caller's transaction."""
        return self._actor(s, email)

    def _actor(self, s: Session, email: str) -> Actor:
        if email.strip().lower() == "system":
            raise InputError("'system' is reserved for the scheduler; act as a person")
        person = directory.find_person(s, email)
        return Actor(id=person.id, email=person.email, role=person.role, unit_id=person.unit_id,
                     unit_code=person.unit.code if person.unit else None, active=person.active)

    def fire(
        self, task_id: int, event: str, *, actor_email: str | None, reason: str | None = None,
        data: Mapping[str, str] | None = None, at: dt.datetime | None = None,
        now: dt.datetime, expected_version: int | None = None,
        recorded_by: str | None = None, operator: str | None = None,
        then: Callable[[Session, Fired], None] | None = None,
    ) -> Fired:
        """Fire `event` on a task as a person (or as the scheduler when `actor_email` is None).

        `recorded_by`: an office person records it on the actor's behalf (a paper letter from
        the unit arrived); the history says so. `operator`: the OS login of a CLI command.
        `then` runs in the same transaction after the step is written (a submission's record)."""
        try:
            with self.transaction() as s:
                office = self._recorder(s, recorded_by) if recorded_by else None
                fired = self._fire(s, task_id, event, actor_email, reason, dict(data or {}),
                                   at or now, now, expected_version, office, operator)
                self._register_published(s, fired, dict(data or {}), at or now, now,
                                         office or actor_email or "system")
                if then is not None:
                    then(s, fired)
                return fired
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

    def _recorder(self, s: Session, email: str) -> str:
        """Who records on a unit's behalf: an active person of the office, no one else."""
        person = self._actor(s, email)
        if person.role != "office" or not person.active:
            raise NotAllowed(f"{person.email} is not an active member of the office: only the "
                             "office records documents on a unit's behalf")
        return person.email

    def _fire(self, s: Session, task_id: int, event: str, actor_email: str | None,
              reason: str | None, data: dict[str, str], at: dt.datetime, now: dt.datetime,
              expected_version: int | None, recorded_by: str | None = None,
              operator: str | None = None) -> Fired:
        conn = s.connection()
        view, definition = stored.load_view(conn, inputs.check_id("task", task_id))
        if expected_version is not None and view.version != expected_version:
            raise Conflict(f"task {task_id} changed since version {expected_version} "
                           f"(now {view.version}): reload and retry")
        actor = SYSTEM if actor_email is None else self._actor(s, actor_email)
        step = self.rules.transition(self.workflow(conn, definition), view, event, actor,
                                     reason=reason, data=data, at=at, now=now)
        if recorded_by or operator:
            step = replace(step, history=replace(step.history, recorded_by=recorded_by,
                                                 operator=operator))
        entry_id = stored.write_step(conn, step)
        h = step.history
        return Fired(task_id, h.event, str(h.from_state), h.to_state, view.version + 1,
                     entry_id)

    def _register_published(self, s: Session, fired: Fired, data: Mapping[str, str],
                            at: dt.datetime, now: dt.datetime, by: str) -> None:
        """An event that reaches the `published` milestone with a URL also enters the
        publications register, in the step's transaction (engine/publications.py
        `from_publish`); one with only a citation does not: it names no venue kind nor day."""
        url = data.get("url")
        if not url:
            return
        task = s.get(Task, fired.task_id)
        assert task is not None
        spec = self.workflow_of(s, task).events.get(fired.event)
        if spec is None or spec.milestone != PUBLISHED:
            return
        from engine import publications

        publications.from_publish(s, task.id, url=url.strip(), on=at.astimezone(self.tz).date(),
                                  now=now, recorded_by=by)

    def _backdate(self, day: dt.date | None, now: dt.datetime) -> dt.datetime | None:
        """The start of a backdated task's first working hour, `day` checked: not in the
        future, and no earlier than the year before (a task older than that is not under way
        in this programme's sense: register it with its real plan year instead)."""
        if day is None:
            return None
        today = now.astimezone(self.tz).date()
        inputs.check_date(day, "--backdate")
        if day > today:
            raise InputError(f"invalid --backdate {day:%d/%m/%Y}: it is after today "
                             f"({today:%d/%m/%Y})")
        if day.year < today.year - 1:
            raise InputError(f"invalid --backdate {day:%d/%m/%Y}: at most back to "
                             f"01/01/{today.year - 1}")
        return dt.datetime.combine(day, dt.time(8, 0), tzinfo=self.tz)

    def register_in(self, s: Session, *, workflow: str, unit_id: int, pi_id: int, year: int,
                    title: str, now: dt.datetime, due_on: dt.date | None = None,
                    rule: str | None = None, policy: TimerPolicy | None = None,
                    announce: bool = True) -> int:
        """Register a task of any workflow (a calendar obligation's `unit_report`) inside the
        caller's transaction, its first deadline on `due_on` if given. No permission checks:
        only the scheduler calls this."""
        wf = self.registry.get(workflow)
        reg = self.rules.register(wf, unit_id=unit_id, pi_id=pi_id, year=year, topic=None,
                                  title=" ".join(title.split()), actor=None, creator="system",
                                  now=now, due_on=due_on, rule=rule, policy=policy,
                                  announce=announce)
        conn = s.connection()
        return stored.write_registration(conn, reg, self._definition(conn, wf, now))

    def _record_refusal(self, task_id: int | None, event: str, actor: str, refusal: NckhError,
                        now: dt.datetime) -> None:
        # What the caller typed is shown escaped and cut to the columns (event 60, actor 320):
        # an unknown person's event and address have not been checked by anything yet.
        with self.transaction() as s:
            conn = s.connection()
            exists = (task_id is not None and inputs.id_in_range(task_id)
                      and stored.task_exists(conn, task_id))
            stored.add_refusal(conn, task_id=task_id if exists else None,
                               event=inputs.printable(event)[:60],
                               actor=inputs.printable(actor)[:320], kind=type(refusal).__name__,
                               message=inputs.printable(refusal.message), at=now)

    def allowed_events(self, task_id: int, actor_email: str | None = None) -> list[EventDef]:
        with self.transaction(read_only=True) as s:
            conn = s.connection()
            view, definition = stored.load_view(conn, inputs.check_id("task", task_id))
            actor = self._actor(s, actor_email) if actor_email else None
            return allowed_events(self.workflow(conn, definition), view, actor)

    def _load_task(self, s: Session, task_id: int) -> Task:
        task = readmodels.task_for_show(s, inputs.check_id("task", task_id))
        if task is None:
            raise NotFound("task", task_id)
        return task

    def task_detail(self, task_id: int, *, now: dt.datetime, lang: str = "vi") -> dict[str, Any]:
        with self.transaction(read_only=True) as s:
            task = self._load_task(s, task_id)
            detail = queries.task_detail(s, task, self.workflow_of(s, task), now, self.tz, lang)
            timers = timers_of(s.connection(), task.id)
            detail["extra"] = queries.timer_sections(timers, self.tz)
            detail["timers"] = queries.pending_timers(timers, self.tz)
            detail["mails"] = queries.mail_rows(task_mails(s.connection(), task.id), self.tz)
            detail["council"] = councils.detail(s, task.id, lang)
            if shown := councils.lines(detail["council"]):
                detail["extra"]["Councils and recognition"] = shown
            detail["extras"] = taskextras.detail(s.connection(), task.id, self.tz, lang)
            if shown := taskextras.lines(detail["extras"]):
                detail["extra"]["Dates, funding and team"] = shown
            detail["applications"] = applications.of_task(s, task.id, lang)
            if shown := applications.lines(detail["applications"]):
                detail["extra"]["Application of results"] = shown
            detail["topics"] = unitreports.topics_of(s.connection(), task.id, task.unit_id,
                                                     self.tz, lang)
            if detail["topics"] is not None:
                detail["extra"]["Topics this report covers"] = unitreports.lines(
                    detail["topics"])
            return detail

    def set_extras(self, task_id: int, data: ExtrasInput, *, now: dt.datetime,
                   operator: Operator = API) -> None:
        """Change a research task's dates, funding or team (engine/taskextras.py), as
        `operator.acting_as` when named."""
        with self.transaction() as s:
            taskextras.set_extras(s, taskextras.research_task(s, task_id), data, now=now,
                                  operator=operator)

    def list_tasks(self, *, now: dt.datetime, unit: str | None = None, state: str | None = None,
                   year: int | None = None, overdue: bool = False, lang: str = "vi",
                   pi_email: str | None = None) -> list[dict[str, Any]]:
        """Tasks as `task list` shows them, filtered; `pi_email`: those that person leads."""
        if year is not None:
            inputs.check_year(year)
        with self.transaction(read_only=True) as s:
            unit_row: Unit | None = directory.find_unit(s, unit) if unit is not None else None
            if state is not None:
                state = self._known_state(s, state)
            return queries.list_tasks(
                s, now=now, tz=self.tz, unit_id=unit_row.id if unit_row else None, state=state,
                year=year, overdue=overdue, lang=lang, pi_email=pi_email,
                workflow=lambda definition: self.workflow(s.connection(), definition))

    def unit_named(self, unit_code: str) -> dict[str, Any]:
        """{code, name} of the unit of that code (any case); `NotFound` as `find_unit` says."""
        from engine import unitpage

        with self.plain_read() as conn:
            _, code, name = unitpage.named(conn, unit_code)
        return {"code": code, "name": name}

    def unit_page(self, unit_code: str, *, year: int, now: dt.datetime,
                  lang: str) -> dict[str, Any]:
        """A unit's page in one read (engine/unitpage.py): the unit, its tasks, the people a
        task may be registered for, its science sessions; of `year`."""
        from engine import unitpage

        inputs.check_year(year)
        with self.transaction(read_only=True) as s:
            return unitpage.read(s, unit_code, year=year, now=now, tz=self.tz, lang=lang,
                                 workflow=lambda definition: self.workflow(s.connection(),
                                                                           definition))

    def search_tasks(self, query: str, *, now: dt.datetime, unit: str | None = None,
                     pi_email: str | None = None, lang: str = "vi") -> dict[str, Any]:
        """The tasks (of one unit, or one investigator, if given) whose title, investigator,
        unit or decision number hold every word of `query` (engine/search.py); none for a
        blank query."""
        from engine import search
        from storage import search as found

        words = search.terms(query)
        if not words:
            return {"query": query, "terms": [], "rows": [], "total": 0, "limit": search.LIMIT}
        events = search.decision_events(self.registry.get(n) for n in self.registry.names())
        with self.transaction(read_only=True) as s:
            unit_id = directory.find_unit(s, unit).id if unit is not None else None
            pi_id = directory.find_person(s, pi_email).id if pi_email is not None else None
            rows = found.tasks(s, unit_id=unit_id, pi_id=pi_id)
            decisions = found.recorded_values(s, events=events, field=search.DECISION_FIELD,
                                              unit_id=unit_id, pi_id=pi_id)
            conn = s.connection()
            return {"query": query, **search.results(
                rows, decisions, words, workflow=lambda d: self.workflow(conn, d),
                today=now.astimezone(self.tz).date(), lang=lang)}

    # --- science sessions (engine/sessions.py) ----------------------------------------------
    def add_session(self, data: SessionInput, *, now: dt.datetime,
                    operator: Operator = API) -> int:
        """Record a session a unit held; its id. `now` dates the record and says what "the
        future" is for the session's day."""
        from engine import sessions

        open_states = {st.name for wf in self.registry.current().values()
                       if wf.level in RESEARCH_LEVELS for st in wf.states.values()
                       if not st.final}
        with self.transaction() as s:
            return sessions.record(s, data, today=now.astimezone(self.tz).date(), now=now,
                                   operator=operator, open_states=open_states).id

    def list_sessions(self, plan: SessionPlan, *, unit_code: str | None = None,
                      year: int | None = None) -> list[dict[str, Any]]:
        from engine import sessions

        with self.transaction(read_only=True) as s:
            return sessions.listed(s, plan, unit_code=unit_code, year=year)

    # --- publications (engine/publications.py) ----------------------------------------------
    def add_publication(self, data: PublicationInput, *, now: dt.datetime,
                        operator: Operator = API, kept: KeptFile | None = None) -> int:
        """Record a publication of a unit (optionally of one of its tasks); its id. With
        `operator.acting_as`, that person's scope applies (their own unit only). `kept`: its
        file, already in the file store (`publications.keep_file`)."""
        from engine import publications

        with self.transaction() as s:
            return publications.record(s, data, today=now.astimezone(self.tz).date(), now=now,
                                       operator=operator, kept=kept).id

    def list_publications(self, *, unit_code: str | None = None, year: int | None = None,
                          viewer_email: str | None = None,
                          lang: str = "vi") -> list[dict[str, Any]]:
        """Publications, oldest first; with `viewer_email`, only that person's unit's (the
        office: all)."""
        from engine import publications

        with self.transaction(read_only=True) as s:
            return publications.listed(s, unit_code=unit_code, year=year,
                                       viewer_email=viewer_email, lang=lang)

    def publication_file(self, file_id: int, *, viewer_email: str) -> tuple[str, str, str]:
        """(name, type, sha256) of a publication's file, for the office or the person's own
        unit; else `NotFound`, as for no such file."""
        from storage import publications as pubrows

        with self.transaction(read_only=True) as s:
            found = pubrows.file_with_unit(s, inputs.check_id("file", file_id))
            own = registers.viewer_unit(s, viewer_email)
            if found is None or (own is not None and found[1] != own):
                raise NotFound("file", file_id)
            return found[0].name, found[0].content_type, found[0].sha256

    # --- councils, acceptance outcomes, recognition (engine/councils.py) ------------------
    def set_council(self, data: CouncilInput, *, now: dt.datetime,
                    operator: Operator = API) -> int:
        """Record the council of a task's outline review or acceptance (its decision, members
        and meeting day) and queue each member's notice; a council still awaiting its outcome
        is corrected in place. Its id."""
        with self.transaction() as s:
            task = councils.research_task(s, data.task_id)
            council = councils.set_council(s, self.workflow_of(s, task), data,
                                           today=now.astimezone(self.tz).date(), now=now,
                                           operator=operator)
            # Its members' notices, in the council's own transaction: sent once each, in
            # their daily letters (a council set again unchanged queues nothing new).
            stored.queue_mails(s.connection(), councils.notices(s, self.rules.mails, council),
                               task.id, now)
            return council.id

    def record_outcome(self, data: OutcomeInput, *, actor_email: str, now: dt.datetime,
                       operator: Operator = API, kept: KeptFile | None = None) -> Fired:
        """The acceptance council's verdict: fires the workflow's event for it (`accept` with
        the grade, or the failing event the state allows) as `actor_email`, and records the
        outcome beside that history entry, in one transaction. Refused as `fire` refuses (and
        audited the same way); nothing is written on any refusal."""
        event = "council_outcome"
        try:
            with self.transaction() as s:
                task = councils.research_task(s, data.task_id)
                plan = councils.plan_outcome(s, self.workflow_of(s, task), data,
                                             today=now.astimezone(self.tz).date())
                event = plan.event
                fired = self._fire(s, task.id, plan.event, actor_email, plan.reason, plan.data,
                                   now, now, None, operator=operator.login)
                minutes = None if kept is None else StoredFile(
                    sha256=kept.sha256, name=kept.name, content_type=kept.content_type,
                    size=kept.size, uploaded_by=directory.find_person(s, actor_email).id,
                    uploaded_at=now)
                councils.write_outcome(s, plan, task_id=task.id, history_id=fired.history_id,
                                       now=now, operator=operator, minutes=minutes)
                return fired
        except Refused as refusal:
            if not isinstance(refusal, Conflict):
                self._record_refusal(data.task_id, event, actor_email, refusal, now)
            raise
        except NotFound as unknown:
            if unknown.kind == "person":
                self._record_refusal(data.task_id, event, actor_email, unknown, now)
            raise

    def recognise(self, data: RecognitionInput, *, now: dt.datetime,
                  operator: Operator = API) -> int:
        """Record the recognition decision (công nhận) of an accepted task; its id."""
        with self.transaction() as s:
            task = councils.research_task(s, data.task_id)
            return councils.recognise(s, self.workflow_of(s, task), data,
                                      today=now.astimezone(self.tz).date(), now=now,
                                      tz=self.tz, operator=operator).id

    # --- application of accepted results (engine/applications.py) -------------------------
    def add_application(self, data: ApplicationInput, *, now: dt.datetime,
                        operator: Operator = API) -> int:
        """Record where an accepted task's result is applied, transferred or shared under an
        agreement, and since when; its id."""
        with self.transaction() as s:
            task = councils.research_task(s, data.task_id)
            return applications.record(s, self.workflow_of(s, task), data,
                                       today=now.astimezone(self.tz).date(), now=now,
                                       tz=self.tz, operator=operator).id

    def list_applications(self, *, unit_code: str | None = None, year: int | None = None,
                          viewer_email: str | None = None,
                          lang: str = "vi") -> list[dict[str, Any]]:
        """Applications, oldest first, of one unit's tasks or all (`year`: applied since
        that year); with `viewer_email`, only that person's unit's (the office: all)."""
        with self.transaction(read_only=True) as s:
            return applications.listed(s, unit_code=unit_code, year=year,
                                       viewer_email=viewer_email, lang=lang)

    def void_states(self) -> frozenset[tuple[str, str]]:
        """(workflow, state) pairs where a task never counted (rejected, cancelled), as the
        workflows in force declare them (`void: true`)."""
        return frozenset((wf.name, st.name) for wf in self.registry.current().values()
                         for st in wf.states.values() if st.void)

    def _known_state(self, s: Session, state: str) -> str:
        """A state as `--state` takes it: its name, or its label as the tables show it
        ("Đang thực hiện", with or without marks, any case); an unknown one is refused with the
        states of the workflows in force (and any still held by a task)."""
        from engine.search import fold

        workflows = [self.registry.get(n) for n in self.registry.names()]
        states = {name for wf in workflows for name in wf.states}
        states.update(readmodels.states_in_use(s))
        if state in states:
            return state
        named = {name for wf in workflows for name, st in wf.states.items()
                 for label in (st.labels.vi, st.labels.en) if fold(label) == fold(state)}
        if len(named) == 1:
            return named.pop()
        if named:
            raise InputError(f"the state label '{state}' names several states "
                             f"({', '.join(sorted(named))}): give its name")
        raise InputError(f"unknown state '{state}'; states: {', '.join(sorted(states))}")


__all__: Sequence[str] = ("Engine", "Fired")
