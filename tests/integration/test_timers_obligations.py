"""Calendar jobs on real databases: obligations per unit, the quota check, report dates, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.app import App
from storage.models import Deadline, Person, Task, Unit
from storage.outbox import OutboxMessage
from storage.timers import CalendarRun, Obligation
from tests.conftest import local, make_settings
from tests.scheduling import Recorder, build_scheduling_app, head_email, small_province

CONFIG = """
[scheduler]
quota_check = "04-30"
reports = {progress = "07-01"}
[[scheduler.obligations]]
key = "unit_plan"
title = "Kế hoạch nghiên cứu khoa học năm {year}"
request = "01-02"
due = "03-31"
[[scheduler.obligations]]
key = "science_session"
title = "Biên bản sinh hoạt khoa học tháng {month}/{year}"
every = "month"
"""


@pytest.fixture
def sapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "nckh.toml"
    config.write_text(CONFIG)
    app = build_scheduling_app(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)))
    small_province(app, local(2024, 12, 20))
    yield app
    app.close()


def obligations(app: App) -> list[tuple[str, str, int, int, str, str, str]]:
    with app.sessions() as s:
        rows = s.execute(select(Obligation, Task, Person, Deadline)
                         .join(Task, Task.id == Obligation.task_id)
                         .join(Person, Person.id == Task.pi_id)
                         .join(Deadline, Deadline.task_id == Task.id)
                         .order_by(Obligation.id)).all()
        return [(o.key, t.unit.code, o.year, o.period, p.email, d.due_on.isoformat(), t.title)
                for o, t, p, d in rows]


def test_the_yearly_obligation_is_created_once_per_unit_with_its_head_as_investigator(
        sapp: App) -> None:
    sapp.tick(local(2025, 1, 2, 8))
    sapp.tick(local(2025, 1, 2, 9))
    sapp.tick(local(2025, 1, 3, 8))
    rows = [r for r in obligations(sapp) if r[0] == "unit_plan"]
    assert rows == [("unit_plan", code, 2025, 0, head_email(code), "2025-03-31",
                     "Kế hoạch nghiên cứu khoa học năm 2025") for code in ("A", "B", "C")]
    with sapp.sessions() as s:
        task = s.scalars(select(Task).where(Task.workflow == "unit_report")).first()
        assert task is not None and (task.level, task.state) == ("obligation", "requested")


def test_the_monthly_session_runs_on_the_first_working_day_of_each_month(sapp: App) -> None:
    sapp.tick(local(2025, 2, 1, 9))  # Tết: nothing runs on a day off
    assert [r for r in obligations(sapp) if r[0] == "science_session"] == []
    sapp.tick(local(2025, 2, 3, 8))  # catches up January's and runs February's
    periods = sorted({(r[3], r[5]) for r in obligations(sapp) if r[0] == "science_session"})
    assert periods == [(1, "2025-01-31"), (2, "2025-02-28")]


def test_missed_runs_older_than_the_catch_up_window_are_history(sapp: App) -> None:
    sapp.tick(local(2025, 6, 2, 8))
    periods = sorted({r[3] for r in obligations(sapp) if r[0] == "science_session"})
    assert periods == [5, 6]
    assert [r for r in obligations(sapp) if r[0] == "unit_plan"] == []


def test_quota_check_and_report_dates_publish_once(sapp: App) -> None:
    rec = Recorder(sapp)
    sapp.engine.create_task(unit_code="A", level="unit", title="Đề tài", pi_email="pi@x.vn",
                            pi_name="BS. An", year=2025, now=local(2025, 3, 1, 9))
    for _ in range(2):
        sapp.tick(local(2025, 5, 5, 8))  # 30/4 is a holiday: the check runs on 5/5
        sapp.tick(local(2025, 7, 1, 8))
    quota = [(day, unit) for day, kind, unit, _ in rec.facts if kind == "quota"]
    with sapp.sessions() as s:
        runs = s.scalars(select(CalendarRun.job).order_by(CalendarRun.id)).all()
    assert len(quota) == 2 and {day for day, _ in quota} == {"2025-05-05"}
    assert [f for f in rec.facts if f[1] == "report"] == [("2025-07-01", "report", 0, "progress")]
    assert runs.count("quota_check") == 1 and runs.count("report:progress") == 1


def test_the_quota_binds_units_under_the_so_and_counts_only_valid_tasks(sapp: App) -> None:
    from engine.directory import UnitInput
    from tests.scheduling import OFFICE

    rec = Recorder(sapp)
    sapp.engine.add_unit(UnitInput(code="TN", name="Bệnh viện tư nhân An Bình",
                                   head_name="BS. Trần Thu", head_email="thu@anbinh.example.vn",
                                   kind="private"), now=local(2025, 1, 2, 9))

    def task(unit: str) -> int:
        return sapp.engine.create_task(unit_code=unit, level="unit", title="Đề tài",
                                       pi_email=f"pi@{unit.lower()}.example.vn",
                                       pi_name="BS. An", year=2025, now=local(2025, 3, 1, 9))

    cancelled, rejected = task("A"), task("B")
    sapp.engine.fire(cancelled, "cancel", actor_email=OFFICE, reason="Chủ nhiệm chuyển công tác",
                     now=local(2025, 3, 10, 9))
    sapp.engine.fire(rejected, "reject", actor_email=OFFICE, reason="Trùng lặp",
                     now=local(2025, 3, 10, 9))
    task("C")
    sapp.tick(local(2025, 5, 5, 8))
    with sapp.sessions() as s:
        codes = {uid: code for uid, code in s.execute(select(Unit.id, Unit.code))}
    told = sorted(codes[unit] for _, kind, unit, _ in rec.facts if kind == "quota")
    # A's only task was cancelled and B's rejected: neither counts. C has a valid one. The
    # private hospital TN has none, but the quota does not bind it.
    assert told == ["A", "B"]


def test_the_quota_may_be_configured_to_bind_private_hospitals_too(
        db_url: str, tmp_path: Path) -> None:
    from engine.directory import UnitInput

    config = tmp_path / "nckh.toml"
    config.write_text('[scheduler]\nobligations = []\nreports = {}\nquota_check = "04-30"\n'
                      'quota_kinds = ["public", "private"]\n')
    app = build_scheduling_app(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config)))
    try:
        small_province(app, local(2024, 12, 20), codes=("A",))
        app.engine.add_unit(UnitInput(code="TN", name="Bệnh viện tư nhân An Bình",
                                      head_name="BS. Trần Thu", head_email="thu@anbinh.example.vn",
                                      kind="private"), now=local(2025, 1, 2, 9))
        rec = Recorder(app)
        app.tick(local(2025, 5, 5, 8))
        assert len([f for f in rec.facts if f[1] == "quota"]) == 2
    finally:
        app.close()


def test_the_quota_is_checked_again_at_year_end_for_tasks_cancelled_since(sapp: App) -> None:
    """DOMAIN: "check early, re-check at year end". A has a valid topic at the check of 30/4
    and cancels it in September: the re-check of 1/12 tells A, once; B, never registered, is
    told at both; C, valid all year, at neither."""
    from tests.scheduling import OFFICE

    rec = Recorder(sapp)

    def task(unit: str) -> int:
        return sapp.engine.create_task(unit_code=unit, level="unit", title="Đề tài",
                                       pi_email=f"pi@{unit.lower()}.example.vn",
                                       pi_name="BS. An", year=2025, now=local(2025, 3, 1, 9))

    later_cancelled = task("A")
    task("C")
    sapp.tick(local(2025, 5, 5, 8))
    sapp.engine.fire(later_cancelled, "cancel", actor_email=OFFICE,
                     reason="Chủ nhiệm chuyển công tác", now=local(2025, 9, 10, 9))
    for _ in range(2):
        sapp.tick(local(2025, 12, 1, 8))
    with sapp.sessions() as s:
        codes = {uid: code for uid, code in s.execute(select(Unit.id, Unit.code))}
        runs = s.scalars(select(CalendarRun.job)).all()
    told = sorted((day, codes[unit]) for day, kind, unit, _ in rec.facts if kind == "quota")
    assert told == [("2025-05-05", "B"), ("2025-12-01", "A"), ("2025-12-01", "B")]
    assert runs.count("quota_recheck") == 1
    with sapp.sessions() as s:
        keys = sorted(s.scalars(select(OutboxMessage.dedupe_key)
                                .where(OutboxMessage.kind == "quota_not_met")))
    assert len(keys) == 3 and sum(k.endswith(":recheck") for k in keys) == 2
