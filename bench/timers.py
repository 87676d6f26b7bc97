"""How the timer sweep scales: a million pending timers, an empty sweep and a sweep firing 10,000.

For each backend (SQLite in a temporary file; PostgreSQL in a scratch database created and
dropped here) the whole application is built (scheduler and notifications: a fired reminder
writes its outbox row, as in production), and:

* `pending` timers (1,000,000; 100,000 with --quick) wait in the future;
* empty sweep: `TimerService.sweep(now)` with nothing due — the daemon's every-few-seconds pass —
  median of many; beside it, in the same run, a bare `SELECT 1` round trip (the floor) and the
  same due-timer query forced to scan the table (what the partial index saves);
* fire 10k: 10,000 due reminders on real tasks in the state they remind about, fired by one
  sweep (each timer's mark and its outbox row in its group's transaction); median of three
  rounds (one with --quick), fresh timers each round;
* the floor of firing, in the same run: the same 10,000 timers claimed, locked, marked and their
  outbox rows inserted as bare SQL statements, ten per transaction, over as many connections as
  the sweep's workers — what firing costs with nothing decided. Goal: firing within 3x of it.

The EXPLAIN of the due-timer query is printed and must use the partial index.

    .venv/bin/python bench/timers.py [--quick] [--pending N] [--pg-url URL] [--no-pg]

The last line of output is JSON:
{"sqlite": {"empty_sweep_ms": …, "fire_10k_s": …, "fire_floor_s": …}, "postgresql": {…}}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# bench/transitions.py would shadow the `transitions` library: take bench/ off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine as DbEngine  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench.scratch import pg_scratch, sqlite_url  # noqa: E402
from engine.app import App, build  # noqa: E402
from engine.settings import load_settings  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.timers import Timer  # noqa: E402
from tests.scheduling import seed_timers, small_province  # noqa: E402
from workflows.clock import DEFAULT_TZ  # noqa: E402

NOW = dt.datetime(2025, 4, 15, 9, 0, tzinfo=DEFAULT_TZ)  # a Tuesday, in business hours
SETUP = dt.datetime(2025, 1, 6, 9, 0, tzinfo=DEFAULT_TZ)
LATER = dt.datetime(2026, 3, 2, 8, 0, tzinfo=DEFAULT_TZ)  # where the pending million wait
CONFIG = """
[scheduler]
obligations = []
reports = {}
quota_check = "off"

[mail]
digest_weekday = "off"
"""
FIRE = 10_000

DUE_QUERY = ("SELECT id FROM timer WHERE done_at IS NULL AND fire_at <= :now "
             "AND (lease_until IS NULL OR lease_until < :now) ORDER BY fire_at LIMIT 500")


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def explain(db: DbEngine, now: dt.datetime) -> str:
    utc = now.astimezone(dt.UTC).replace(tzinfo=None)
    with db.connect() as conn:
        if db.dialect.name == "sqlite":
            rows = conn.execute(text("EXPLAIN QUERY PLAN " + DUE_QUERY), {"now": utc}).all()
            return "\n".join(str(r[-1]) for r in rows)
        rows = conn.execute(text("EXPLAIN " + DUE_QUERY), {"now": now}).all()
        return "\n".join(str(r[0]) for r in rows)


def scan_query_ms(db: DbEngine, now: dt.datetime, runs: int) -> float:
    """The same query with the index out of the planner's reach: a full scan of the table."""
    with db.connect() as conn:
        if db.dialect.name == "sqlite":
            q = text(DUE_QUERY.replace("FROM timer", "FROM timer NOT INDEXED"))
            params: dict[str, Any] = {"now": now.astimezone(dt.UTC).replace(tzinfo=None)}
        else:
            conn.execute(text("SET enable_indexscan = off"))
            conn.execute(text("SET enable_bitmapscan = off"))
            q, params = text(DUE_QUERY), {"now": now}
        samples = timed(lambda: conn.execute(q, params).all(), runs)
        conn.rollback()
    return statistics.median(samples) * 1000


def fire_floor(app: App, now: dt.datetime, workers: int) -> float:
    """Seconds to fire the due timers as bare SQL: claim by 200, then per timer lock its task,
    mark it and insert its outbox row, ten timers per transaction, `workers` connections."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import bindparam, insert, update

    from storage.models import Task
    from storage.outbox import OutboxMessage

    # Built once, like the sweep's own statements: only the bare cost of the round trips.
    lock = (select(Task.id).join(Timer, Timer.task_id == Task.id)
            .where(Timer.id == bindparam("tid")).with_for_update(of=Task))
    mark = (update(Timer).where(Timer.id == bindparam("tid"), Timer.done_at.is_(None))
            .values(done_at=bindparam("now"), status="fired").returning(Timer.task_id))
    queue = insert(OutboxMessage)

    def fire(ids: list[int]) -> None:
        with app.db.connect() as conn:
            for i in range(0, len(ids), 10):
                with conn.begin():
                    for tid in ids[i:i + 10]:
                        conn.execute(lock, {"tid": tid})
                        task = conn.execute(mark, {"tid": tid, "now": now}).scalar_one()
                        conn.execute(queue, {
                            "kind": "reminder", "task_id": task, "dedupe_key": f"floor:{tid}",
                            "lang": "vi", "context": {"days_before": 3}, "addressed_to": [],
                            "state": "pending", "attempts": 0, "next_attempt_at": now,
                            "created_at": now})

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        while True:
            with app.db.begin() as conn:
                due = (select(Timer.id).where(Timer.done_at.is_(None), Timer.fire_at <= now,
                                              Timer.claimed_by.is_(None))
                       .order_by(Timer.fire_at).limit(200))
                ids = sorted(conn.scalars(update(Timer).where(Timer.id.in_(
                    due.scalar_subquery())).values(claimed_by="floor").returning(Timer.id)))
            if not ids:
                break
            size = -(-len(ids) // workers)
            list(pool.map(fire, [ids[i:i + size] for i in range(0, len(ids), size)]))
    return time.perf_counter() - start


def pending_count(app: App) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Timer)
                            .where(Timer.done_at.is_(None))) or 0)


def bench_backend(url: str, pending: int, rounds: int, data_dir: Path) -> dict[str, Any]:
    db = make_engine(url)
    upgrade(db)
    db.dispose()
    config = data_dir / "nckh.toml"
    config.write_text(CONFIG)
    app = build(load_settings(env={"NCKH_DATA_DIR": str(data_dir), "NCKH_DATABASE_URL": url,
                                   "NCKH_CONFIG": str(config)}))
    try:
        small_province(app, SETUP, codes=("A",))
        start = time.perf_counter()
        seed_timers(app, pending, LATER, SETUP, per_task=1000)
        seed_s = time.perf_counter() - start
        with app.db.connect() as conn:
            if app.db.dialect.name == "postgresql":
                conn.execute(text("ANALYZE timer"))
            else:
                conn.execute(text("ANALYZE"))
            conn.commit()
        timers = app.timers
        plan = explain(app.db, NOW)
        if "ix_timer_pending_fire_at" not in plan:
            raise SystemExit(f"the due-timer query does not use the partial index:\n{plan}")

        timers.sweep(NOW)  # warm the pool and the statement cache
        empty = timed(lambda: timers.sweep(NOW), 200)
        with app.db.connect() as conn:
            floor = timed(lambda: conn.execute(text("SELECT 1")).all(), 200)
        scan_ms = scan_query_ms(app.db, NOW, 5)

        workers = app.config.scheduler.workers if app.db.dialect.name == "postgresql" else 1
        fire_times, floor_times = [], []
        for r in range(rounds):
            floor_at = NOW - dt.timedelta(minutes=10 + r)
            seed_timers(app, FIRE, floor_at, SETUP, per_task=100)
            floor_times.append(fire_floor(app, floor_at, workers))
            due_at = NOW - dt.timedelta(minutes=30 + r)
            # 100 per task: a real task has a handful of timers, and workers firing the same
            # task's timers queue on its row lock; a thousand per task would measure that queue.
            seed_timers(app, FIRE, due_at, SETUP, per_task=100)
            before = pending_count(app)
            start = time.perf_counter()
            counts = timers.sweep(NOW)
            fire_times.append(time.perf_counter() - start)
            if counts.get("fired") != FIRE or pending_count(app) != before - FIRE:
                raise SystemExit(f"round {r}: expected {FIRE} fired, got {counts}")
    finally:
        app.close()
    empty_ms = statistics.median(empty) * 1000
    floor_ms = statistics.median(floor) * 1000
    return {"empty_sweep_ms": round(empty_ms, 3), "select1_ms": round(floor_ms, 3),
            "empty_vs_select1": round(empty_ms / floor_ms, 1),
            "scan_query_ms": round(scan_ms, 1),
            "fire_10k_s": round(statistics.median(fire_times), 2),
            "fire_floor_s": round(statistics.median(floor_times), 2),
            "fire_vs_floor": round(statistics.median(fire_times)
                                   / statistics.median(floor_times), 2),
            "fired_per_s": round(FIRE / statistics.median(fire_times)),
            "pending": pending, "seed_s": round(seed_s, 1), "plan": plan.replace("\n", " | ")}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="100,000 pending timers and one firing round: under a minute")
    parser.add_argument("--pending", type=int, default=None,
                        help="pending timers (default 1,000,000)")
    parser.add_argument("--pg-url", default=os.environ.get(
        "NCKH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="an admin URL of a PostgreSQL server (a scratch database is created there)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    pending = args.pending or (100_000 if args.quick else 1_000_000)
    rounds = 1 if args.quick else 3
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", sqlite_url)]
    if not args.no_pg:
        backends.append(("postgresql", lambda: pg_scratch(args.pg_url, "timers")))
    results: dict[str, Any] = {}
    for name, make_url in backends:
        with tempfile.TemporaryDirectory(prefix="nckh-bench-data-") as data, make_url() as url:
            r = results[name] = bench_backend(url, pending, rounds, Path(data))
        print(f"{name:<10}  {pending:,} pending (seeded in {r['seed_s']} s)\n"
              f"  plan        {r['plan']}\n"
              f"  empty sweep {r['empty_sweep_ms']:.3f} ms (median of 200)   SELECT 1 "
              f"{r['select1_ms']:.3f} ms ({r['empty_vs_select1']}x)   same query as a scan "
              f"{r['scan_query_ms']:.1f} ms\n"
              f"  fire 10k    {r['fire_10k_s']:.2f} s ({r['fired_per_s']}/s, median of "
              f"{rounds})   floor {r['fire_floor_s']:.2f} s ({r['fire_vs_floor']}x; "
              f"goal 3x)", flush=True)
    print(json.dumps({name: {k: v for k, v in r.items() if k != "plan"}
                      for name, r in results.items()}))
    return results


if __name__ == "__main__":
    main()
