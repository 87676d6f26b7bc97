"""How fast the engine drives tasks through their lifecycle, against the bare-SQL floor.

For each backend (SQLite in a temporary file; PostgreSQL in a scratch database created and
dropped here), N unit-level tasks go create → approve_outline → start → accept → publish:

* engine: `Engine.create_task` and `Engine.fire`, one transaction per call, every check made,
  each step computed whole by the core and written by storage;
* floor: the same rows — the task insert and its four version-checked updates, five history rows,
  the four deadlines opened and closed, the timers planted around each deadline and cancelled
  with it, the e-mails queued — written with bare SQLAlchemy Core, one transaction per step,
  their values worked out beforehand (nothing decided or validated while timed).

Rates are whole lifecycles per second. An extra figure times stepping a state through a
`transitions.Machine` built per call against the shared cached one.

    .venv/bin/python bench/transitions.py [--quick] [-n N] [--pg-url URL] [--no-pg]

The last line of output is JSON: {"sqlite": {"engine_per_s": …, "floor_per_s": …}, …}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# This file is named like the `transitions` library: take its own directory off the path (the
# script's directory comes first) and put the repository root there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine as DbEngine  # noqa: E402
from sqlalchemy import delete, func, insert, select, update  # noqa: E402

from bench.scratch import pg_scratch, sqlite_url  # noqa: E402
from engine.app import App, build  # noqa: E402
from engine.directory import UnitInput  # noqa: E402
from engine.settings import load_settings  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Deadline, HistoryEntry, Person, Task, Unit  # noqa: E402
from storage.outbox import OutboxMessage  # noqa: E402
from storage.schema import metadata  # noqa: E402
from storage.timers import Timer  # noqa: E402
from workflows.clock import DEFAULT_TZ  # noqa: E402
from workflows.machine import CompiledWorkflow, compiled  # noqa: E402
from workflows.model import due_on  # noqa: E402
from workflows.registry import Registry  # noqa: E402

OFFICE, COUNCIL, HEAD, PI = ("office@b.vn", "council@b.vn", "head@b.vn", "pi@b.vn")
LIFECYCLE: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("approve_outline", OFFICE, {}), ("start", HEAD, {}), ("accept", COUNCIL, {}),
    ("publish", PI, {"url": "https://bvdk.example.vn/kq"}))
T0 = dt.datetime(2025, 2, 3, 8, tzinfo=DEFAULT_TZ)


def seed(app: App) -> None:
    e = app.engine
    e.add_unit(UnitInput("BVDK", "Bệnh viện Đa khoa tỉnh", "TS.BS Nguyễn Thị Hằng", HEAD), now=T0)
    e.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=T0)
    e.add_person(email=COUNCIL, name="Hội đồng KHCN", role="council", now=T0)
    e.add_person(email=PI, name="ThS.BS Lê Văn Bình", role="pi", unit_code="BVDK", now=T0)


def run_engine(app: App, n: int) -> float:
    e = app.engine
    start = time.perf_counter()
    for i in range(n):
        now = T0 + dt.timedelta(minutes=i)
        task = e.create_task(unit_code="BVDK", level="unit", title=f"Đề tài số {i}",
                             pi_email=PI, year=2025, now=now)
        for step, (event, actor, data) in enumerate(LIFECYCLE, start=1):
            e.fire(task, event, actor_email=actor, data=data,
                   now=now + dt.timedelta(days=step))
    return time.perf_counter() - start


def plan_floor(app: App, n: int) -> list[list[dict[str, Any]]]:
    """Each floor lifecycle's steps, worked out before the clock starts: the state each step
    enters, its deadline (due date, rule) and the timer rows planted around it, its mail."""
    rules, wf = app.rules, app.registry.get("unit_task")
    plans = []
    for i in range(n):
        now = T0 + dt.timedelta(minutes=i)  # the engine's dates: the same timers planned
        steps = []
        for step, (event, _actor, data) in enumerate((("create", "", {}), *LIFECYCLE)):
            at = now + dt.timedelta(days=step)
            dest = wf.initial if event == "create" else wf.events[event].dest
            rule = wf.states[dest].deadline
            opened = None
            if rule is not None:
                opened = rules.open_deadline(wf, dest, due_on(rule, 2025, at.date()),
                                             rule.describe(), at)
            kind = ("task_registered" if event == "create"
                    else rules.mails.catalog.kind_for_event(event))
            steps.append({"event": event, "data": data, "at": at, "dest": dest,
                          "opened": opened, "kind": kind})
        plans.append(steps)
    return plans


def run_floor(db: DbEngine, plans: list[list[dict[str, Any]]]) -> float:
    """The same rows as the engine writes, with bare SQLAlchemy Core and no decisions."""
    with db.connect() as conn:
        unit_id = conn.scalar(select(Unit.id).where(Unit.code == "BVDK"))
        people = dict(conn.execute(select(Person.email, Person.id)).tuples().all())
        definition_id = conn.scalar(select(Task.definition_id).limit(1))
    roles = {OFFICE: "office", HEAD: "unit_head", COUNCIL: "council", PI: "pi"}
    actors = {event: actor for event, actor, _ in LIFECYCLE}

    def open_deadline(conn: Any, task_id: int, step: dict[str, Any]) -> None:
        opened = step["opened"]
        if opened is None:
            return
        deadline_id = conn.scalar(insert(Deadline).values(
            task_id=task_id, state=opened.state, due_on=opened.due_on, rule=opened.rule,
            opened_at=step["at"]).returning(Deadline.id))
        if opened.timers:
            conn.execute(insert(Timer), [{
                "task_id": task_id, "deadline_id": deadline_id, "state": opened.state,
                "kind": p.kind, "slot": p.slot, "occurrence": p.occurrence,
                "due_on": opened.due_on, "legal_end": opened.legal_end, "fire_at": p.fire_at,
                "days": p.days, "to_role": p.to_role, "repeat_every": p.repeat_every,
                "event": p.event, "status": "pending", "created_at": step["at"]}
                for p in opened.timers])

    def mail(conn: Any, task_id: int, step: dict[str, Any], seq: int) -> None:
        if step["kind"] is not None:
            conn.execute(insert(OutboxMessage).values(
                kind=step["kind"], task_id=task_id, dedupe_key=f"floor:{task_id}:{seq}",
                lang="vi", context={"event": step["event"]}, addressed_to=[],
                state="pending", attempts=0, next_attempt_at=step["at"],
                created_at=step["at"]))

    start = time.perf_counter()
    for i, steps in enumerate(plans):
        first = steps[0]
        with db.begin() as conn:
            task_id = int(conn.execute(insert(Task).values(
                definition_id=definition_id, workflow="unit_task", level="unit",
                state=first["dest"], unit_id=unit_id, pi_id=people[PI], year=2025, topic=None,
                title=f"Đề tài số {i}", state_entered_at=first["at"], created_at=first["at"],
                updated_at=first["at"], version=1).returning(Task.id)).scalar_one())
            conn.execute(insert(HistoryEntry).values(
                task_id=task_id, seq=1, event="create", from_state=None, to_state=first["dest"],
                actor_id=None, actor="admin", actor_role="admin", reason=None, data={},
                effective_at=first["at"], recorded_at=first["at"]))
            open_deadline(conn, task_id, first)
            mail(conn, task_id, first, 1)
        state, version = first["dest"], 1
        for seq, step in enumerate(steps[1:], start=2):
            at, dest, actor = step["at"], step["dest"], actors[step["event"]]
            with db.begin() as conn:
                changed = conn.execute(update(Task).where(
                    Task.id == task_id, Task.version == version).values(
                    state=dest, state_entered_at=at, updated_at=at, version=version + 1))
                assert changed.rowcount == 1
                conn.execute(insert(HistoryEntry).values(
                    task_id=task_id, seq=seq, event=step["event"], from_state=state,
                    to_state=dest, actor_id=people[actor], actor=actor, actor_role=roles[actor],
                    reason=None, data=step["data"], effective_at=at, recorded_at=at))
                closed = conn.scalar(update(Deadline).where(
                    Deadline.task_id == task_id, Deadline.closed_at.is_(None)).values(
                    closed_at=at, outcome="on_time").returning(Deadline.id))
                conn.execute(update(Timer).where(
                    Timer.deadline_id == closed, Timer.done_at.is_(None)).values(
                    status="cancelled", done_at=at, reason="deadline closed"))
                open_deadline(conn, task_id, step)
                mail(conn, task_id, step, seq)
            state, version = dest, version + 1
    return time.perf_counter() - start


def check_same_rows(db: DbEngine, n: int) -> None:
    """Both runs wrote the same number of rows of each kind (the floor is a fair floor)."""
    with db.connect() as conn:
        for model in (Task, HistoryEntry, Deadline):
            count = conn.scalar(select(func.count()).select_from(model))
            assert count == 2 * n * {Task: 1, HistoryEntry: 5, Deadline: 4}[model], (model, count)
        first = int(conn.scalar(select(func.min(Task.id))) or 0)
        for column in (Timer.task_id, OutboxMessage.task_id):  # the engine's half, the floor's
            engine_rows = int(conn.scalar(select(func.count()).where(
                column < first + n)) or 0)
            total = int(conn.scalar(select(func.count(column))) or 0)
            assert engine_rows and total == 2 * engine_rows, (column, engine_rows, total)


def machine_figures(steps: int) -> dict[str, float]:
    wf = Registry().get("unit_task")
    path = [("proposed", "approve_outline"), ("outline_approved", "start"),
            ("in_progress", "accept"), ("accepted", "publish")]
    start = time.perf_counter()
    for i in range(steps):
        state, event = path[i % 4]
        CompiledWorkflow(wf).step(state, event)
    per_call = (time.perf_counter() - start) / steps
    start = time.perf_counter()
    for i in range(steps):
        state, event = path[i % 4]
        compiled(wf).step(state, event)
    shared = (time.perf_counter() - start) / steps
    return {"machine_per_call_us": round(per_call * 1e6, 1),
            "machine_shared_us": round(shared * 1e6, 1),
            "machine_build_cost_ratio": round(per_call / shared, 1)}


def bench_backend(url: str, n: int, data_dir: Path) -> dict[str, Any]:
    db = make_engine(url)
    upgrade(db)
    db.dispose()
    app = build(load_settings(env={"NCKH_DATA_DIR": str(data_dir), "NCKH_DATABASE_URL": url}),
                jobs=())
    try:
        seed(app)
        run_engine(app, max(5, n // 20))  # warm up caches and connections, then start over
        with app.db.begin() as conn:
            # Every table that holds a task's rows (the publications register since a `publish`
            # with a URL enters it, …), children first, then the tasks.
            task_rows = [t for t in metadata.sorted_tables
                         if t.name == "task" or any(fk.column.table.name in ("task", "outbox")
                                                    for fk in t.foreign_keys)]
            for table in reversed(task_rows):
                conn.execute(delete(table))
        plans = plan_floor(app, n)
        engine_s = run_engine(app, n)
        floor_s = run_floor(app.db, plans)
        check_same_rows(app.db, n)
    finally:
        app.close()
    return {"engine_per_s": round(n / engine_s, 1), "floor_per_s": round(n / floor_s, 1),
            "ratio": round(engine_s / floor_s, 2), "tasks": n,
            "engine_transitions_per_s": round(5 * n / engine_s, 1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=None, help="tasks per backend (default 1000)")
    parser.add_argument("--quick", action="store_true", help="200 tasks: under a minute")
    parser.add_argument("--pg-url", default=os.environ.get(
        "NCKH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="an admin URL of a PostgreSQL server (a scratch database is created there)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    n = args.n or (200 if args.quick else 1000)
    results: dict[str, Any] = {}
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", sqlite_url)]
    if not args.no_pg:
        backends.append(("postgresql", lambda: pg_scratch(args.pg_url, "transitions")))
    with tempfile.TemporaryDirectory(prefix="nckh-bench-data-") as data:
        for name, make_url in backends:
            with make_url() as url:
                r = results[name] = bench_backend(url, n, Path(data))
            print(f"{name:<10}  engine {r['engine_per_s']:>8.1f} lifecycles/s "
                  f"({r['engine_transitions_per_s']:.0f} writes/s)   "
                  f"floor {r['floor_per_s']:>8.1f}/s   engine/floor time ratio "
                  f"{r['ratio']:.2f}x   ({n} tasks)", flush=True)
    results["machine"] = machine_figures(200 if args.quick else 1000)
    m = results["machine"]
    print(f"machine     built per call {m['machine_per_call_us']} µs/step, shared "
          f"{m['machine_shared_us']} µs/step ({m['machine_build_cost_ratio']}x)")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
