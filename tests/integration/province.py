"""A small province for the engine tests, and helpers that drive tasks from the definition data.

Nothing here knows a state or event name: paths, actors and event data are derived from the
workflow files, so a new event or state is covered by the generated tests without edits.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from engine.app import App
from engine.directory import UnitInput
from engine.service import Engine
from storage.models import Deadline, HistoryEntry, Refusal, Task
from tests.conftest import local
from workflows.model import EventDef, Workflow, due_on

TASK_WORKFLOWS = ("unit_task", "province_task", "initiative")
LEVEL_OF = {"unit_task": "unit", "province_task": "province", "initiative": "initiative"}
START = local(2025, 1, 6, 9)
BY_DEFINITION = "<the first role the event names>"

OFFICE = "office@syt.example.vn"
COUNCIL = "council@syt.example.vn"
HEAD_A = "head@bvdk.example.vn"
HEAD_B = "head@ttyt.example.vn"
PI = "pi@bvdk.example.vn"
OTHER_PI = "pi2@bvdk.example.vn"

# Who acts for each role on a task of unit A whose investigator is PI (None: the scheduler).
ACTOR_FOR_ROLE: dict[str, str | None] = {
    "office": OFFICE, "council": COUNCIL, "unit_head": HEAD_A, "pi": PI, "system": None,
}
# Every kind of actor, with the roles they hold on such a task.
ACTORS: dict[str, tuple[str | None, frozenset[str]]] = {
    "office": (OFFICE, frozenset({"office"})),
    "council": (COUNCIL, frozenset({"council"})),
    "own-unit-head": (HEAD_A, frozenset({"unit_head"})),
    "other-unit-head": (HEAD_B, frozenset()),
    "the-pi": (PI, frozenset({"pi"})),
    "another-pi": (OTHER_PI, frozenset()),
    "system": (None, frozenset({"system"})),
}


def seed(engine: Engine, now: dt.datetime = START - dt.timedelta(days=5)) -> None:
    engine.add_unit(UnitInput("BVDK", "Bệnh viện Đa khoa tỉnh", "TS.BS Nguyễn Thị Hằng",
                              HEAD_A, "khth@bvdk.example.vn"), now=now)
    engine.add_unit(UnitInput("TTYT-DH", "Trung tâm Y tế huyện Đồng Hỷ", "BS.CKII Hoàng Văn Đức",
                              HEAD_B), now=now)
    engine.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=now)
    engine.add_person(email=COUNCIL, name="Hội đồng KHCN", role="council", now=now)
    engine.add_person(email=PI, name="ThS.BS Lê Văn Bình", role="pi", unit_code="BVDK", now=now)
    engine.add_person(email=OTHER_PI, name="BS. Phạm Thu", role="pi", unit_code="BVDK", now=now)


def paths(wf: Workflow) -> dict[str, list[tuple[str, str]]]:
    """The shortest (event, source) path from the initial state to every state."""
    found: dict[str, list[tuple[str, str]]] = {wf.initial: []}
    queue = deque([wf.initial])
    while queue:
        state = queue.popleft()
        for ev in wf.events_from(state):
            if ev.dest not in found:
                found[ev.dest] = [*found[state], (ev.name, state)]
                queue.append(ev.dest)
    return found


def transitions(wf: Workflow) -> list[tuple[str, str]]:
    """Every (event, source state) pair of a workflow."""
    return [(ev.name, src) for ev in wf.events.values() for src in ev.sources]


def default_actor(ev: EventDef) -> str | None:
    """A person allowed to fire `ev` (the scheduler only if no person may)."""
    people = sorted(ev.roles - {"system"})
    return ACTOR_FOR_ROLE[people[0]] if people else None


def event_input(ev: EventDef, effective: dt.datetime, open_due: dt.date | None,
                ) -> tuple[str | None, dict[str, str]]:
    """A valid reason and data for `ev`: every required field, the first of each one_of group."""
    reason = f"Lý do: {ev.labels.vi.lower()}" if ev.reason == "required" else None
    wanted = {f.name for f in ev.fields if f.required} | {g[0] for g in ev.one_of}
    if ev.deadline_from:
        wanted.add(ev.deadline_from)
    data: dict[str, str] = {}
    for spec in ev.fields:
        if spec.name not in wanted:
            continue
        if spec.type == "date":
            later = max(effective.date() + dt.timedelta(days=200),
                        (open_due or effective.date()) + dt.timedelta(days=60))
            data[spec.name] = later.isoformat()
        elif spec.type == "url":
            data[spec.name] = "https://bvdk.example.vn/nckh/ket-qua"
        elif spec.type == "int":
            data[spec.name] = "3"
        elif spec.type == "email":
            data[spec.name] = "thu.ky@bvdk.example.vn"
        else:
            data[spec.name] = "Số 15/QĐ-SYT"
    return reason, data


# --- the whole recorded state of a task --------------------------------------------------------
def snapshot(app: App, task_id: int) -> dict[str, Any]:
    """Every column of the task, its history and its deadlines, as stored."""
    with app.sessions() as s:
        task = s.get(Task, task_id)
        assert task is not None
        return {
            "task": {c.key: getattr(task, c.key) for c in Task.__table__.columns},
            "history": [row_dict(h) for h in s.scalars(
                select(HistoryEntry).where(HistoryEntry.task_id == task_id)
                .order_by(HistoryEntry.seq))],
            "deadlines": [row_dict(d) for d in s.scalars(
                select(Deadline).where(Deadline.task_id == task_id).order_by(Deadline.id))],
        }


def row_dict(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in type(row).__table__.columns}


def refusals(app: App) -> list[dict[str, Any]]:
    with app.sessions() as s:
        return [row_dict(r) for r in s.scalars(select(Refusal).order_by(Refusal.id))]


@dataclass
class Expected:
    """The task as the definition says it must be: updated step by step, compared whole."""

    wf: Workflow
    snap: dict[str, Any]
    tz: dt.tzinfo
    fired: list[str] = field(default_factory=list)

    def fire(self, ev: EventDef, actor: str | None, role: str, reason: str | None,
             data: dict[str, str], effective: dt.datetime, now: dt.datetime) -> None:
        task, history, deadlines = self.snap["task"], self.snap["history"], self.snap["deadlines"]
        source = task["state"]
        assert source in ev.sources
        last = history[-1]
        history.append({
            "id": None, "task_id": task["id"], "seq": last["seq"] + 1, "event": ev.name,
            "from_state": source, "to_state": ev.dest, "actor_id": None,
            "actor": actor or "system", "actor_role": role, "reason": reason, "data": data,
            "effective_at": effective, "recorded_at": now, "recorded_by": None,
            "operator": None,
        })
        open_rows = [d for d in deadlines if d["closed_at"] is None]
        assert len(open_rows) <= 1
        day = effective.astimezone(self.tz).date()
        extension = ev.deadline_from is not None and ev.deadline_from in data
        if ev.keeps_deadline:  # a request: the open deadline runs on, none opens
            open_rows = []
        if open_rows:
            row = open_rows[0]
            row["closed_at"] = now
            row["outcome"] = ("extended" if extension and ev.dest == source
                              else "on_time" if day <= row["due_on"] else "late")
        rule = self.wf.states[ev.dest].deadline
        if extension:
            assert ev.deadline_from is not None
            until = data[ev.deadline_from]
            deadlines.append({"id": None, "task_id": task["id"], "state": ev.dest,
                              "due_on": dt.date.fromisoformat(until),
                              "rule": f"{ev.name} to {until}", "opened_at": now,
                              "closed_at": None, "outcome": None})
        elif rule is not None and not ev.keeps_deadline:
            deadlines.append({"id": None, "task_id": task["id"], "state": ev.dest,
                              "due_on": due_on(rule, task["year"], day), "rule": rule.describe(),
                              "opened_at": now, "closed_at": None, "outcome": None})
        task["state"] = ev.dest
        if ev.dest != source:
            task["state_entered_at"] = effective
        task["updated_at"] = now
        task["version"] += 1
        self.fired.append(ev.name)

    def matches(self, actual: dict[str, Any]) -> None:
        """Compare everything but database-assigned ids (and the actor's person id)."""
        def strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{k: v for k, v in r.items() if k not in ("id", "actor_id")} for r in rows]

        assert actual["task"] == self.snap["task"], self.fired
        assert strip(actual["history"]) == strip(self.snap["history"]), self.fired
        assert strip(actual["deadlines"]) == strip(self.snap["deadlines"]), self.fired
        for row in actual["history"]:
            assert (row["actor_id"] is None) == (row["actor"] == "system" or row["seq"] == 1)


class Driver:
    """Moves tasks of one workflow along its definition, checking the full state after each step.

    Time moves forward one day per step; every call happens at `now` with the effective time
    equal to it, unless a test says otherwise.
    """

    def __init__(self, app: App, workflow: str) -> None:
        self.app = app
        self.engine = app.engine
        self.wf = app.engine.registry.get(workflow)
        self.paths = paths(self.wf)
        self.now = START
        self.year = 2025

    def tick(self, days: int = 1) -> dt.datetime:
        self.now += dt.timedelta(days=days)
        return self.now

    def new_task(self, title: str = "Đánh giá thực trạng nhiễm khuẩn bệnh viện") -> Expected:
        task_id = self.engine.create_task(
            unit_code="BVDK", level=LEVEL_OF[self.wf.name], title=title, pi_email=PI,
            year=self.year, topic=1, now=self.tick())
        snap = snapshot(self.app, task_id)
        assert snap["task"]["state"] == self.wf.initial
        assert [h["event"] for h in snap["history"]] == ["create"]
        return Expected(self.wf, snap, self.engine.tz)

    def open_due(self, exp: Expected) -> dt.date | None:
        rows = [d["due_on"] for d in exp.snap["deadlines"] if d["closed_at"] is None]
        return rows[0] if rows else None

    def step(self, exp: Expected, event: str, actor: str | None = BY_DEFINITION,
             role: str | None = None) -> None:
        """Fire `event` validly and check the task is exactly as the definition says."""
        ev = self.wf.events[event]
        who = default_actor(ev) if actor == BY_DEFINITION else actor
        if role is None:
            held = {a: r for a, r in ACTORS.values()}[who]
            role = sorted(ev.roles & held)[0]
        now = self.tick()
        reason, data = event_input(ev, now, self.open_due(exp))
        fired = self.engine.fire(exp.snap["task"]["id"], event, actor_email=who, reason=reason,
                                 data=data, now=now)
        exp.fire(ev, who, role, reason, data, now, now)
        assert (fired.event, fired.to_state, fired.version) == (
            event, ev.dest, exp.snap["task"]["version"])
        exp.matches(snapshot(self.app, fired.task_id))

    def task_in(self, state: str) -> Expected:
        exp = self.new_task()
        for event, _source in self.paths[state]:
            self.step(exp, event)
        assert exp.snap["task"]["state"] == state
        return exp


def all_tables(app: App) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Every row of every core table (for "nothing changed" checks)."""
    from sqlalchemy import text

    from storage.schema import metadata

    with app.db.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "refusal":
                continue
            order = ", ".join(c.name for c in table.primary_key.columns) or "1"
            yield table.name, [tuple(r) for r in conn.execute(
                text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))]
