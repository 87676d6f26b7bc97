"""Helpers for the scheduler's tests, the year replay and the bench: a small province, a recorder.

Not used by the daemon. `Recorder` reads back every fact a timer or a calendar job left (timers
fired, quota and report mails queued), as plain tuples a test can compare with a written-down
expectation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from engine.app import App, build
from engine.directory import UnitInput
from engine.settings import Settings
from storage.outbox import OutboxMessage
from storage.timers import Timer

OFFICE = "office@syt.example.vn"

# The research topic's own ladder before 30/4 and 1/12 as unit_task v5 had it: reminders to the
# investigator, then the head weekly. The packaged topic (v6) leaves those dates to the unit's
# report; the tests of the timer machinery set the ladder back in their config, which keeps
# the ladder they check and exercises the config's per-state override on the way.
TOPIC_LADDER_TOML = """
[scheduler.timers."unit_task.proposed"]
remind_before = [14, 3]
escalate = [{after = 7, to = "unit_head", repeat_every = 7, repeat = 3}, {after = 7, to = "office"}]
[scheduler.timers."unit_task.outline_revision"]
remind_before = [14, 3]
escalate = [{after = 7, to = "unit_head", repeat_every = 7, repeat = 3}, {after = 7, to = "office"}]
[scheduler.timers."unit_task.in_progress"]
remind_before = [30, 14, 3]
escalate = [{after = 7, to = "unit_head", repeat_every = 7, repeat = 3}, {after = 7, to = "office"}]
"""


def build_scheduling_app(settings: Settings) -> App:
    """An app with the scheduling component only (the notification component left out)."""
    return build(settings, jobs=("timers",))


def head_email(code: str) -> str:
    return f"head.{code.lower()}@syt.example.vn"


def small_province(app: App, now: dt.datetime, codes: tuple[str, ...] = ("A", "B", "C")) -> None:
    engine = app.engine
    for code in codes:
        engine.add_unit(UnitInput(code=code, name=f"Trung tâm Y tế {code}",
                                  head_name=f"Giám đốc {code}", head_email=head_email(code)),
                        now=now)
    engine.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=now)


@dataclass
class Recorder:
    """Every timer and calendar fact so far, as (local date, kind, task or unit, detail), in the
    order they happened: a day's calendar jobs before its timers, timers by task."""

    app: App

    def _rows(self) -> list[tuple[tuple[object, ...], tuple[str, str, int, str], int | None]]:
        tz = self.app.engine.tz
        out: list[tuple[tuple[object, ...], tuple[str, str, int, str], int | None]] = []
        with self.app.engine.transaction(read_only=True) as s:  # a caller may hold the lock
            for t in s.scalars(select(Timer).where(Timer.status == "fired",
                                                   Timer.kind != "auto_event")):
                assert t.done_at is not None
                day = t.done_at.astimezone(tz).date().isoformat()
                detail = {"reminder": f"{t.days}d", "deadline": t.due_on.isoformat(),
                          "escalation": t.to_role or ""}[t.kind]
                kind = {"reminder": "reminder", "deadline": "passed",
                        "escalation": "escalated"}[t.kind]
                out.append(((t.done_at, 1, t.task_id, t.id), (day, kind, t.task_id, detail),
                            t.id))
            for m in s.scalars(select(OutboxMessage).where(
                    OutboxMessage.kind.in_(("quota_not_met", "report")))):
                day = m.created_at.astimezone(tz).date().isoformat()
                if m.kind == "quota_not_met":
                    fact = (day, "quota", int(m.context["unit_id"]),
                            str(m.context["quota"]["year"]))
                else:
                    fact = (day, "report", 0, m.dedupe_key.split(":")[1])
                out.append(((m.created_at, 0, 0, m.id), fact, None))
        return sorted(out, key=lambda r: r[0])

    @property
    def facts(self) -> list[tuple[str, str, int, str]]:
        return [fact for _, fact, _ in self._rows()]

    @property
    def timer_ids(self) -> list[int]:
        return [tid for _, _, tid in self._rows() if tid is not None]

    def of(self, task_id: int) -> list[tuple[str, str, str]]:
        return [(d, k, x) for d, k, t, x in self.facts
                if t == task_id and k in ("reminder", "passed", "escalated")]


TIMER_COLUMNS = ("task_id", "deadline_id", "state", "kind", "slot", "occurrence", "due_on",
                 "legal_end", "fire_at", "days", "status", "created_at")


def seed_timers(app: App, count: int, fire_at: dt.datetime, now: dt.datetime,
                per_task: int = 1000, unit: str = "A") -> list[int]:
    """`count` pending reminder timers, all firing at `fire_at`, spread over fresh tasks whose own
    planted timers are removed. Bulk: COPY on PostgreSQL, executemany on SQLite. Returns the
    task ids."""
    from sqlalchemy import delete, select

    from storage.models import Deadline
    from storage.timers import Timer

    tasks = [app.engine.create_task(unit_code=unit, level="unit", title=f"Đề tài {i}",
                                     pi_email="pi.seed@syt.example.vn", pi_name="BS. Seed",
                                     year=fire_at.year, now=now)
             for i in range(-(-count // per_task))]
    with app.engine.transaction() as s:
        s.execute(delete(Timer).where(Timer.task_id.in_(tasks)))
        deadlines = dict(s.execute(select(Deadline.task_id, Deadline.id)
                                   .where(Deadline.task_id.in_(tasks))).all())
    utc_fire = fire_at.astimezone(dt.UTC)
    utc_now = now.astimezone(dt.UTC)

    def rows() -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        for i in range(count):
            task = tasks[i // per_task]
            out.append((task, deadlines[task], "proposed", "reminder", 1000 + i % per_task, 0,
                        dt.date(fire_at.year, 4, 30), dt.date(fire_at.year, 5, 5), utc_fire, 3,
                        "pending", utc_now))
        return out

    raw = app.db.raw_connection()
    try:
        cur = raw.cursor()
        cols = ", ".join(TIMER_COLUMNS)
        if app.db.dialect.name == "postgresql":
            with cur.copy(f"COPY timer ({cols}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(TIMER_COLUMNS))
            cur.execute("BEGIN IMMEDIATE")
            cur.executemany(f"INSERT INTO timer ({cols}) VALUES ({marks})", [
                tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime)
                      else v.isoformat() if isinstance(v, dt.date) else v for v in r)
                for r in rows()])
        raw.commit()
    finally:
        raw.close()
    return tasks
