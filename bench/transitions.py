"""How fast the engine drives tasks through their lifecycle, against the bare-SQL floor.

For each backend (SQLite in a temporary file; PostgreSQL in a scratch database created and
dropped here), N unit-level tasks go create → approve_outline → start → accept → publish:

* engine: `Engine.create_task` and `Engine.fire`, one transaction per call, every check made
  (the core engine only: no scheduler or mail subscribers, whose rows the floor would not write);
* floor: the same rows — the task insert and its four version-checked updates, five history rows,
  the four deadlines opened and closed — written with bare SQLAlchemy Core, one transaction
  per step, with nothing decided or validated.

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


def run_floor(db: DbEngine, n: int) -> float:
    """The same rows as the engine writes, with bare SQLAlchemy Core and no decisions."""
    wf = Registry().get("unit_task")
    with db.connect() as conn:
        unit_id = conn.scalar(select(Unit.id).where(Unit.code == "BVDK"))
        people = dict(conn.execute(select(Person.email, Person.id)).tuples().all())
        definition_id = conn.scalar(select(Task.definition_id).limit(1))
    roles = {OFFICE: "office", HEAD: "unit_head", COUNCIL: "council", PI: "pi"}
    start = time.perf_counter()
    for i in range(n):
        now = T0 + dt.timedelta(minutes=i) + dt.timedelta(days=400)
        with db.begin() as conn:
            task_id = conn.scalar(insert(Task).values(
                definition_id=definition_id, workflow="unit_task", level="unit",
                state="proposed", unit_id=unit_id, pi_id=people[PI], year=2025, topic=None,
                title=f"Đề tài số {i}", state_entered_at=now, created_at=now, updated_at=now,
                version=1).returning(Task.id))
            conn.execute(insert(HistoryEntry).values(
                task_id=task_id, seq=1, event="create", from_state=None, to_state="proposed",
                actor_id=None, actor="admin", actor_role="admin", reason=None, data={},
                effective_at=now, recorded_at=now))
            conn.execute(insert(Deadline).values(
                task_id=task_id, state="proposed", due_on=dt.date(2025, 4, 30),
                rule="before 30/04", opened_at=now))
        state, version = "proposed", 1
        for step, (event, actor, data) in enumerate(LIFECYCLE, start=1):
            at = now + dt.timedelta(days=step)
            dest = wf.events[event].dest
            with db.begin() as conn:
                changed = conn.execute(update(Task).where(
                    Task.id == task_id, Task.version == version).values(
                    state=dest, state_entered_at=at, updated_at=at, version=version + 1))
                assert changed.rowcount == 1
                conn.execute(insert(HistoryEntry).values(
                    task_id=task_id, seq=step + 1, event=event, from_state=state,
                    to_state=dest, actor_id=people[actor], actor=actor, actor_role=roles[actor],
                    reason=None, data=data, effective_at=at, recorded_at=at))
                conn.execute(update(Deadline).where(
                    Deadline.task_id == task_id, Deadline.closed_at.is_(None)).values(
                    closed_at=at, outcome="on_time"))
                rule = wf.states[dest].deadline
                if rule is not None:
                    conn.execute(insert(Deadline).values(
                        task_id=task_id, state=dest, due_on=due_on(rule, 2025, at.date()),
                        rule=rule.describe(), opened_at=at))
            state, version = dest, version + 1
    return time.perf_counter() - start


def check_same_rows(db: DbEngine, n: int) -> None:
    """Both runs wrote the same number of rows of each kind (the floor is a fair floor)."""
    with db.connect() as conn:
        for model in (Task, HistoryEntry, Deadline):
            count = conn.scalar(select(func.count()).select_from(model))
            assert count == 2 * n * {Task: 1, HistoryEntry: 5, Deadline: 4}[model], (model, count)


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
            for model in (Deadline, HistoryEntry, Task):
                conn.execute(delete(model))
        engine_s = run_engine(app, n)
        floor_s = run_floor(app.db, n)
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
