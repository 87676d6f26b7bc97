"""The web app's heaviest pages against a bare query of the same rows, in the same run.

    .venv/bin/python bench/web.py [--quick] [--runs N]

A province of 10 and of 100 units is built in a scratch SQLite database through the engine's
API (each unit with its head, research tasks, and the calendar's obligations of the year:
unit plan, science sessions, 6-month and annual reports). For each size, through the real Flask
app signed in as the office:
  - the SQL statements one dashboard page and one unit page issue (goal: the same for 10 and
    100 units: no N+1), counted with a cursor hook;
  - the median time of the dashboard page and of a unit's page, beside the median time of a bare
    query of the same rows (below) on the same
    database, taken in turn within each run (so both see the same load); goal: each page
    within 3x of its bare query;
  - the floor: the median time of a signed-in page that reads nothing but the session (the
    search page, blank), i.e. what any page costs before its own rows (the sign-in check,
    Flask, the layout, the test client).
Full size: 3 years and 10 research tasks per unit and year (3,000 tasks at 100 units);
--quick: 1 year and 2 tasks per unit. The last line is JSON:
{"dashboard_ms": …, "bare_query_ms": …, "statements_10_units": …, "statements_100_units": …, …}.

How fair the bare queries are (issue 14). Each bare query fetches the rows its page shows, no
fewer, no more, in the same number of statements the page needs for them:
  - the dashboard's: every obligation of the year with its unit and first submission, each
    unit's research counts, and every deadline of the year's research tasks with its task's
    unit, workflow and state (the research milestones' columns) (three statements; until the
    milestones' columns the page read, and the bare query fetched, the first two only);
  - the unit page's: the unit's row (its name), its tasks of the year with their open deadline
    and investigator, the people a task may be registered for (the form's choices) and its
    science sessions of the year (four statements). Until issue 14 it read the tasks only,
    while the page also read the rest: that overstated the page's own cost.
The page also reads the session and writes HTML, which the floor measures. At --quick the bare
queries take about a millisecond, so the floor alone is near their 3x: the ratio there says
more about the floor than about the page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# bench/transitions.py would shadow the `transitions` package: run from the repository root
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402

from engine.app import App, build  # noqa: E402
from engine.directory import UnitInput  # noqa: E402
from engine.settings import load_settings  # noqa: E402
from workflows.clock import DEFAULT_TZ, FixedClock  # noqa: E402

GOAL_RATIO = 3.0
OFFICE = "nghiepvuy@syt.example.vn"
PASSWORD = "mật khẩu của phòng"

BARE_DASHBOARD = text("""
SELECT u.code, u.name, o.key, o.period, o.due_on, o.task_id,
       (SELECT min(h.effective_at) FROM task_history h
         WHERE h.task_id = o.task_id AND h.event = 'submit') AS submitted_at
  FROM obligation o JOIN unit u ON u.id = o.unit_id
 WHERE o.year = :year ORDER BY o.due_on, u.code""")
BARE_RESEARCH = text("""
SELECT t.unit_id, count(*), sum(CASE WHEN d.due_on < :today THEN 1 ELSE 0 END)
  FROM task t LEFT JOIN deadline d ON d.task_id = t.id AND d.closed_at IS NULL
 WHERE t.year = :year AND t.level != 'obligation' GROUP BY t.unit_id""")
BARE_MILESTONES = text("""
SELECT t.unit_id, t.id, t.workflow, t.state, d.state, d.due_on, d.closed_at
  FROM deadline d JOIN task t ON t.id = d.task_id
 WHERE t.year = :year AND t.level != 'obligation'
   AND (d.outcome IS NULL OR d.outcome != 'extended') ORDER BY d.due_on, t.id""")
BARE_UNIT = text("""
SELECT t.id, t.title, t.state, t.level, d.due_on, p.email
  FROM task t JOIN unit u ON u.id = t.unit_id JOIN person p ON p.id = t.pi_id
  LEFT JOIN deadline d ON d.task_id = t.id AND d.closed_at IS NULL
 WHERE u.code = :code AND t.year = :year ORDER BY d.due_on""")
# The rest of what the unit's page shows: the unit's name, the people a task may be registered
# for (the form's choices) and the unit's science sessions of the year.
BARE_UNIT_ROW = text("SELECT u.id, u.code, u.name FROM unit u WHERE u.code = :code")
BARE_UNIT_PEOPLE = text("""
SELECT p.email, p.name FROM person p JOIN unit u ON u.id = p.unit_id
 WHERE u.code = :code AND p.active AND p.role IN ('pi', 'unit_head') ORDER BY p.email""")
BARE_UNIT_SESSIONS = text("""
SELECT s.held_on, s.department, s.topic, s.presenter_email, s.presenter_name,
       s.presenter_task_id, s.attendance
  FROM science_session s JOIN unit u ON u.id = s.unit_id
 WHERE u.code = :code AND s.held_on BETWEEN :start AND :end ORDER BY s.held_on, s.id""")


def province(app: App, units: int, years: tuple[int, ...], per_unit: int) -> None:
    e = app.engine
    first = dt.datetime(years[0], 1, 2, 9, tzinfo=DEFAULT_TZ)
    e.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=first)
    for i in range(units):
        e.add_unit(UnitInput(code=f"DV{i:03d}", name=f"Bệnh viện số {i}",
                             head_name=f"Giám đốc {i}", head_email=f"gd{i}@dv{i}.example.vn",
                             kind="private" if i % 10 == 9 else "public"), now=first)
    for year in years:
        start = dt.datetime(year, 1, 2, 9, tzinfo=DEFAULT_TZ)
        for i in range(units):
            for k in range(per_unit):
                e.create_task(unit_code=f"DV{i:03d}", level="unit" if k % 3 else "initiative",
                              title=f"Đề tài {k} năm {year} của đơn vị {i}",
                              pi_email=f"cn{k}@dv{i}.example.vn", pi_name=f"Chủ nhiệm {k}",
                              year=year, now=start)
        day = start
        while day.year == year:  # the calendar's obligations, as the daemon would create them
            app.calendar_jobs.run_due(day)
            day += dt.timedelta(days=7)


def median_ms(*actions: Callable[[], Any], runs: int) -> list[float]:
    """Each action's median time, the actions taken in turn within each run: on a machine
    shared with other work, a page and its bare query then see the same moments, so a burst of
    load weighs on both rather than on whichever ran during it."""
    for action in actions:
        action()  # warm-up, not counted
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, spent in zip(actions, times, strict=True):
            start = time.perf_counter()
            action()
            spent.append((time.perf_counter() - start) * 1000)
    return [statistics.median(spent) for spent in times]


def measure(units: int, years: tuple[int, ...], per_unit: int, runs: int) -> dict[str, Any]:
    from engine.web.app import create_web

    folder = Path(tempfile.mkdtemp(prefix="nckh-bench-web-"))
    app = build(load_settings(env={"NCKH_DATA_DIR": str(folder), "NCKH_WEB_SECRET": "b" * 40}))
    built = time.perf_counter()
    province(app, units, years, per_unit)
    build_s = time.perf_counter() - built
    year = years[-1]
    now = dt.datetime(year, 9, 15, 9, tzinfo=DEFAULT_TZ)
    from engine.access import viewer_of
    from storage.directory import person_by_email

    with app.sessions() as s:
        office = person_by_email(s, OFFICE)
        assert office is not None
        by = viewer_of(office)
    app.access.set_password(OFFICE, PASSWORD, by=by, now=now)
    token = app.access.password_signin(OFFICE, PASSWORD, client="bench", now=now)
    web = create_web(app, FixedClock(now))
    client = web.test_client()
    with client.session_transaction() as session:
        session["sid"] = token
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    def page(path: str) -> Callable[[], None]:
        def get() -> None:
            answer = client.get(path)
            assert answer.status_code == 200, answer.status_code
        return get

    dashboard = page(f"/bang-dieu-khien?year={year}")
    event.listen(app.db, "before_cursor_execute", count)
    dashboard()
    event.remove(app.db, "before_cursor_execute", count)
    per_page = statements[0]

    def bare(*queries: tuple[Any, dict[str, Any]]) -> Callable[[], None]:
        def run() -> None:
            with app.db.connect() as conn:
                for query, params in queries:
                    conn.execute(query, params).all()
        return run

    unit_page = page(f"/don-vi/DV000?year={year}")
    unit_page()  # the first reads the workflow definitions, once per process
    statements[0] = 0
    event.listen(app.db, "before_cursor_execute", count)
    unit_page()
    event.remove(app.db, "before_cursor_execute", count)
    unit_statements = statements[0]
    unit = {"code": "DV000"}
    days = {"start": f"{year}-01-01", "end": f"{year}-12-31"}  # as SQLite stores a date

    result = {
        "units": units, "tasks": units * per_unit * len(years), "build_s": round(build_s, 1),
        "statements": per_page, "unit_statements": unit_statements,
    }
    (result["dashboard_ms"], result["bare_query_ms"], result["floor_ms"],
     result["unit_page_ms"], result["bare_unit_query_ms"]) = median_ms(
        dashboard,
        bare((BARE_DASHBOARD, {"year": year}),
             (BARE_RESEARCH, {"year": year, "today": now.date()}),
             (BARE_MILESTONES, {"year": year})),
        page("/tim-kiem"), unit_page,
        bare((BARE_UNIT_ROW, unit), (BARE_UNIT, {**unit, "year": year}),
             (BARE_UNIT_PEOPLE, unit), (BARE_UNIT_SESSIONS, {**unit, **days})), runs=runs)
    app.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 year, 2 tasks per unit, 5 runs: about a minute")
    parser.add_argument("--runs", type=int, help="timed runs per figure")
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 15)
    years = (2025,) if args.quick else (2023, 2024, 2025)
    per_unit = 2 if args.quick else 10
    small = measure(10, years, per_unit, runs)
    large = measure(100, years, per_unit, runs)
    for r in (small, large):
        print(f"{r['units']:>4} units, {r['tasks']:>5} tasks (built in {r['build_s']} s): "
              f"{r['statements']} SQL statements per dashboard page, "
              f"{r['unit_statements']} per unit page")
        print(f"      dashboard {r['dashboard_ms']:.1f} ms vs bare query "
              f"{r['bare_query_ms']:.1f} ms ({r['dashboard_ms'] / r['bare_query_ms']:.1f}x); "
              f"unit page {r['unit_page_ms']:.1f} ms vs bare query "
              f"{r['bare_unit_query_ms']:.1f} ms "
              f"({r['unit_page_ms'] / r['bare_unit_query_ms']:.1f}x); "
              f"floor (a signed-in page, no rows) {r['floor_ms']:.1f} ms")
    ratio = large["dashboard_ms"] / large["bare_query_ms"]
    unit_ratio = large["unit_page_ms"] / large["bare_unit_query_ms"]
    same = (small["statements"] == large["statements"]
            and small["unit_statements"] == large["unit_statements"])
    print(f"goal: same statement count for 10 and 100 units: {'met' if same else 'NOT met'}; "
          f"dashboard within {GOAL_RATIO:.0f}x of the bare query at 100 units: "
          f"{'met' if ratio <= GOAL_RATIO else 'NOT met'} ({ratio:.1f}x); unit page: "
          f"{'met' if unit_ratio <= GOAL_RATIO else 'NOT met'} ({unit_ratio:.1f}x)")
    print(json.dumps({
        "dashboard_ms": round(large["dashboard_ms"], 2),
        "bare_query_ms": round(large["bare_query_ms"], 2),
        "statements_10_units": small["statements"],
        "statements_100_units": large["statements"],
        "unit_statements_10_units": small["unit_statements"],
        "unit_statements_100_units": large["unit_statements"],
        "dashboard_ratio": round(ratio, 2),
        "unit_page_ms": round(large["unit_page_ms"], 2),
        "bare_unit_query_ms": round(large["bare_unit_query_ms"], 2),
        "unit_page_ratio": round(unit_ratio, 2),
        "floor_ms": round(large["floor_ms"], 2),
        "tasks_100_units": large["tasks"], "quick": bool(args.quick)}))


if __name__ == "__main__":
    main()
