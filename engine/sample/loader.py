"""Loading the sample province through the engine, as if each step had happened on its day.

Every unit, person, task and transition goes through the public `Engine` API — the same checks,
history, deadlines and timers as real use — with each step recorded at the moment it took effect
(09:00 on its day), so the scheduler sees the year as it would have lived it. Steps later than
`now` are left for later. Loading is idempotent: units and people already present are kept, and
a task already registered (same unit, year and title) is skipped with its steps, so a second run
adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from engine.councils import CouncilInput, OutcomeInput, RecognitionInput, parse_member
from engine.directory import UnitInput
from engine.directory_log import API, Operator
from engine.publications import PublicationInput
from engine.sample.data import (
    Province,
    SampleCouncil,
    SamplePublication,
    SampleRecognition,
    SampleTask,
    Step,
)
from engine.service import Engine
from workflows import inputs
from workflows.errors import InputError

ROLE_PREFERENCE = ("pi", "council", "unit_head", "office")


@dataclass
class Loaded:
    units: int = 0
    people: int = 0
    tasks: int = 0
    transitions: int = 0
    skipped_tasks: int = 0  # already loaded
    pending_steps: int = 0  # registrations and steps dated later than now
    publications: int = 0  # articles of the tasks entered in the register
    councils: int = 0  # councils set (each member told what to review and by when)
    recognitions: int = 0


def check_year(year: int, now: dt.datetime, tz: dt.tzinfo) -> None:
    inputs.check_year(year)
    if year > now.astimezone(tz).year:
        raise InputError(f"year {year} has not begun yet: the sample plays a past or the "
                         "current year")


def _actor(engine: Engine, province: Province, task: SampleTask, step: Step) -> str:
    wf = engine.registry.for_level(task.level)
    event = wf.events.get(step.event)
    if event is None:
        raise InputError(f"sample task '{task.title}': unknown event '{step.event}'")
    people = {"pi": task.pi.email, "unit_head": province.unit(task.unit).head.email,
              "office": province.office.email,
              "council": province.council[0].email if province.council else None}
    roles = [step.role] if step.role else [r for r in ROLE_PREFERENCE if r in event.roles]
    for role in roles:
        if people.get(role):
            return str(people[role])
    raise InputError(f"sample task '{task.title}': nobody in the sample may fire '{step.event}'")


@dataclass(frozen=True)
class Action:
    """One dated thing the sample does: register a task, fire one of its steps (or record its
    acceptance council's outcome), record one of its publications, set one of its councils, or
    record its recognition."""

    at: dt.datetime
    task: SampleTask
    step: Step | None = None
    publication: SamplePublication | None = None
    council: SampleCouncil | None = None
    recognition: SampleRecognition | None = None

    @property
    def is_record(self) -> bool:
        """A record beside the workflow (not a registration or a step)."""
        return any(x is not None for x in (self.publication, self.council, self.recognition))


def script(province: Province, year: int, tz: dt.tzinfo) -> list[Action]:
    """Every registration and step of the year, in time order (file order within a moment)."""
    actions = []
    for task in province.tasks:
        actions.append(Action(task.registered_at(year, tz), task))
        actions.extend(Action(step.at(year, tz), task, step) for step in task.steps)
        actions.extend(Action(p.at(year, tz), task, publication=p) for p in task.publications)
        actions.extend(Action(c.at(year, tz), task, council=c) for c in task.councils)
        if task.recognition is not None:
            actions.append(Action(task.recognition.at(year, tz), task,
                                  recognition=task.recognition))
    return sorted(actions, key=lambda a: a.at)


class Player:
    """Plays the sample through the engine: the directory first, then actions one by one."""

    def __init__(self, engine: Engine, province: Province, year: int,
                 operator: Operator = API) -> None:
        self.engine, self.province, self.year = engine, province, year
        self.operator = operator
        self.done = Loaded()
        self.task_ids: dict[tuple[str, str], int] = {}
        self.skipped: set[tuple[str, str]] = set()
        self.emails: set[str] = set()

    def setup(self, now: dt.datetime) -> None:
        """Units, heads, contacts, the office and the council (those not there yet)."""
        engine, province = self.engine, self.province
        units = {u["code"] for u in engine.list_units()}
        self.emails = {p["email"] for p in engine.list_people()}
        for unit in province.units:
            if unit.code not in units:
                engine.add_unit(UnitInput(unit.code, unit.name, unit.head.name, unit.head.email,
                                          unit.contact, unit.kind), now=now,
                                operator=self.operator)
                self.done.units += 1
                self.done.people += unit.head.email not in self.emails
                self.emails.add(unit.head.email)
        staff = [(province.office, "office"), *[(p, "council") for p in province.council]]
        for person, role in staff:
            if person.email not in self.emails:
                engine.add_person(email=person.email, name=person.name, role=role,
                                  title=person.title, now=now, operator=self.operator)
                self.emails.add(person.email)
                self.done.people += 1
        self.skipped = {(t["unit"], t["title"]) for t in engine.list_tasks(now=now,
                                                                           year=self.year)}
        self.done.skipped_tasks = sum(1 for t in province.tasks
                                      if (t.unit, t.title) in self.skipped)

    def play(self, action: Action) -> None:
        task, key, at = action.task, (action.task.unit, action.task.title), action.at
        if key in self.skipped:
            return
        if action.publication is not None:
            pub = action.publication
            self.engine.add_publication(PublicationInput(
                unit_code=task.unit, task_id=self.task_ids[key], title=pub.title,
                authors=pub.authors or task.pi.name, venue_kind=pub.kind,
                published_on=at.date(), venue_name=pub.venue, url=pub.url, doi=pub.doi),
                now=at, operator=self.operator)
            self.done.publications += 1
            return
        if action.council is not None:
            self._council(action.council, self.task_ids[key], at)
            return
        if action.recognition is not None:
            rec = action.recognition
            self.engine.recognise(RecognitionInput(self.task_ids[key], rec.decision_no,
                                                   dt.date(self.year, *rec.on), rec.issuer),
                                  now=at, operator=self.operator)
            self.done.recognitions += 1
            return
        if action.step is None:
            if task.pi.email not in self.emails:
                self.engine.add_person(email=task.pi.email, name=task.pi.name, role="pi",
                                       unit_code=task.unit, title=task.pi.title, now=at,
                                       operator=self.operator)
                self.emails.add(task.pi.email)
                self.done.people += 1
            self.task_ids[key] = self.engine.create_task(
                unit_code=task.unit, level=task.level, title=task.title, pi_email=task.pi.email,
                year=self.year, topic=task.topic, actor_email=self.province.office.email, now=at,
                operator=self.operator)
            self.done.tasks += 1
            return
        step = action.step
        actor = _actor(self.engine, self.province, task, step)
        if step.result is not None:  # the council's verdict fires the workflow's own event
            self.engine.record_outcome(
                OutcomeInput(self.task_ids[key], step.result, grade=step.grade,
                             held_on=at.date(), reason=step.reason),
                actor_email=actor, now=at, operator=self.operator)
        else:
            self.engine.fire(self.task_ids[key], step.event, actor_email=actor,
                             reason=step.reason, data=step.data_for(self.year), at=at, now=at)
        self.done.transitions += 1

    def _council(self, council: SampleCouncil, task_id: int, at: dt.datetime) -> None:
        meeting = dt.date(self.year, *council.meeting) if council.meeting else None
        self.engine.set_council(CouncilInput(
            task_id, council.decision_no, dt.date(self.year, *council.decided),
            tuple(parse_member(m) for m in council.members), stage=council.stage,
            meeting_on=meeting), now=at, operator=self.operator)
        self.done.councils += 1


def load(engine: Engine, province: Province, year: int, *, now: dt.datetime,
         on_action: Callable[[Action], None] | None = None, operator: Operator = API) -> Loaded:
    """Load the sample as of `now`: what is dated later waits (and is counted as pending)."""
    check_year(year, now, engine.tz)
    player = Player(engine, province, year, operator)
    player.setup(min(now, dt.datetime(year, 1, 2, 7, 30, tzinfo=engine.tz)))
    for action in script(province, year, engine.tz):
        if on_action is not None:
            on_action(action)
        if action.at > now:
            if (action.task.unit, action.task.title) not in player.skipped \
                    and not action.is_record:  # a step or a registration waits
                player.done.pending_steps += 1
            continue
        player.play(action)
    return player.done
