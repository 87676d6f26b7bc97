"""One meaning of "late" everywhere: after the legal end (Civil Code art. 148), and compilations
sent only after the deadlines they summarise.

The case of the issue: a January record due 31/1/2025, in Tết (25/1–2/2). Its legal end is
Monday 3/2/2025. Handed in on 3/2 it is on time in the reports; still missing on 3/2 it is not yet
late in the reports, the digest or the escalations; on 4/2 it is late in all three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.app import App, build
from engine.directory import UnitInput
from engine.reports.build import make_report
from notifications.digest import digest_facts
from storage.models import Person, Unit
from storage.timers import Obligation, Timer
from tests.conftest import local, make_settings

D = dt.date
DUE = D(2025, 1, 31)
OFFICE = "office@soyte.example.vn"


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "nckh.toml"
    config.write_text('[scheduler]\nobligations = []\nquota_check = "off"\n'
                      "[scheduler.sessions]\nremind_before = 0\n")
    application = build(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config),
                                      NCKH_OFFICE_EMAIL=OFFICE))
    for code in ("A", "B"):
        application.engine.add_unit(UnitInput(code, f"Trung tâm Y tế {code}", f"BS. {code}",
                                              f"head@{code.lower()}.example.vn"),
                                    now=local(2025, 1, 2))
    yield application
    application.close()


def january_record(app: App, unit: str) -> int:
    with app.engine.transaction() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == unit))
        head_id = s.scalar(select(Person.id).where(Person.unit_id == unit_id))
        assert unit_id is not None and head_id is not None
        task_id = app.engine.register_in(
            s, workflow="unit_report", unit_id=unit_id, pi_id=head_id, year=2025,
            title=f"Biên bản tháng 01/2025 {unit}", now=local(2025, 1, 2), due_on=DUE)
        s.add(Obligation(key="january_record", unit_id=unit_id, year=2025, period=1,
                         task_id=task_id, due_on=DUE, created_at=local(2025, 1, 2)))
    return task_id


@pytest.fixture
def records(app: App) -> tuple[int, int]:
    handed_in, missing = january_record(app, "A"), january_record(app, "B")
    app.engine.fire(handed_in, "submit", actor_email="head@a.example.vn",
                    at=local(2025, 2, 3, 16), now=local(2025, 2, 3, 16))
    return handed_in, missing


def figures(app: App, day: D, code: str) -> tuple[int, int, int]:
    report = make_report(app.engine, "compliance", 2025, today=day, as_of=day,
                         rules=app.report_rules())
    row = report.unit(code)
    return row["obligations_due"], row["obligations_on_time"], row["overdue"]


def test_handed_in_on_the_legal_end_is_on_time_in_the_reports(
        app: App, records: tuple[int, int]) -> None:
    assert figures(app, D(2025, 2, 3), "A") == (1, 1, 0)
    assert figures(app, D(2025, 3, 31), "A") == (1, 1, 0)


def test_missing_on_the_legal_end_is_not_yet_late_anywhere_and_late_everywhere_the_day_after(
        app: App, records: tuple[int, int]) -> None:
    _, missing = records
    # Reports: not due (nor overdue) at the end of 3/2; due, not on time, overdue on 4/2.
    assert figures(app, D(2025, 2, 3), "B")[:2] == (0, 0)
    assert figures(app, D(2025, 2, 4), "B")[:2] == (1, 0)
    # The digest: the same days.
    calendar = app.config.scheduler.calendar
    with app.engine.transaction(read_only=True) as s:
        on_3 = digest_facts(s.connection(), start=local(2025, 1, 27), end=local(2025, 2, 3, 9),
                            tz=app.engine.tz, lang="vi", working_days=calendar)
        on_4 = digest_facts(s.connection(), start=local(2025, 1, 27), end=local(2025, 2, 4, 9),
                            tz=app.engine.tz, lang="vi", working_days=calendar)
    assert on_3["overdue_total"] == 0
    assert on_4["overdue_total"] == 1
    assert [(r["task_id"], r["days_overdue"]) for r in on_4["overdue"]] == [(missing, 1)]
    # Escalations: nothing after the date fires before the legal end has passed.
    with app.engine.transaction(read_only=True) as s:
        after = [t.fire_at.astimezone(app.engine.tz).date() for t in s.scalars(
            select(Timer).where(Timer.task_id == missing, Timer.kind != "reminder"))]
    assert after and min(after) > D(2025, 2, 3)


def test_a_topics_deadline_before_30_april_is_overdue_only_after_its_legal_end(app: App) -> None:
    # "Before 30/4": 30/4 and 1/5 are holidays, 2/5/2025 a swapped day off: the legal end is
    # Monday 5/5. The reports' overdue column and the digest agree with the escalations.
    task = app.engine.create_task(unit_code="B", level="unit", title="Đề tài",
                                  pi_email="pi@b.example.vn", pi_name="BS. Bình", year=2025,
                                  now=local(2025, 1, 6, 9))
    assert [figures(app, D(2025, 5, d), "B")[2] for d in (1, 5, 6)] == [0, 0, 1]
    calendar = app.config.scheduler.calendar
    with app.engine.transaction(read_only=True) as s:
        totals = [digest_facts(s.connection(), start=local(2025, 4, 28),
                               end=local(2025, 5, d, 9), tz=app.engine.tz, lang="vi",
                               working_days=calendar)["overdue_total"] for d in (5, 6)]
        first_escalation = min(t.fire_at.astimezone(app.engine.tz).date() for t in s.scalars(
            select(Timer).where(Timer.task_id == task, Timer.kind == "escalation")))
    assert totals == [0, 1]
    assert first_escalation > D(2025, 5, 5)


@pytest.mark.parametrize(("year", "progress", "compliance"), [
    # 5/7/2025 is a Saturday (legal end Monday 7/7); 5/12/2025 a Friday.
    (2025, D(2025, 7, 9), D(2025, 12, 9)),
    # 5/7/2026 is a Sunday (legal end 6/7); 5/12/2026 a Saturday (legal end 7/12).
    (2026, D(2026, 7, 8), D(2026, 12, 9)),
])
def test_the_compilations_go_out_after_the_deadlines_they_summarise(
        app: App, year: int, progress: D, compliance: D) -> None:
    jobs = app.calendar_jobs
    sent = {}
    for job in (j for j in _jobs(app) if j.kind == "report"):
        occ = next(jobs.occurrences(job, local(year, 1, 1), local(year, 12, 31, 23)))
        sent[job.name] = occ.scheduled_for.astimezone(app.engine.tz).date()
    assert sent == {"report:progress": progress, "report:compliance": compliance}
    assert sent["report:progress"] > D(year, 7, 5) and sent["report:compliance"] > D(year, 12, 5)
    if year == 2025:
        assert sent["report:progress"] > D(2025, 7, 7)
        assert sent["report:compliance"] > D(2025, 12, 8)


def _jobs(app: App) -> list:  # type: ignore[type-arg]
    from engine.scheduling.obligations import jobs_of

    return jobs_of(app.config.scheduler)


def test_the_compilation_is_mailed_on_its_day_not_before(app: App) -> None:
    from storage.outbox import OutboxMessage

    def reports() -> list[str]:
        with app.engine.transaction(read_only=True) as s:
            return [m.dedupe_key for m in s.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "report"))]

    app.engine.add_person(email="nvy@soyte.example.vn", name="Phòng Nghiệp vụ Y",
                          role="office", now=local(2025, 1, 2))
    app.tick(local(2025, 7, 8, 9))
    assert reports() == []
    app.tick(local(2025, 7, 9, 9))
    assert reports() == ["report:progress:2025:2025-07-09"]
