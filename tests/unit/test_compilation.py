"""The year's compilation computed on rows built by hand: no database, milliseconds."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.reports.compilation import application_summary, compilation
from engine.reports.compute import ReportRules
from storage.reportrows import Dataset, EventRow, ObligationRow, TaskRow, UnitRow
from workflows.registry import Registry

D = dt.date
UNIT_TASK = Registry().get("unit_task")
MILESTONE = {ev.name: ev.milestone for ev in UNIT_TASK.events.values()}
VOID = frozenset({("unit_task", "rejected"), ("unit_task", "cancelled")})
A = UnitRow(1, "A", "Bệnh viện A", "public")
B = UnitRow(2, "B", "Trung tâm Y tế B", "public")
P = UnitRow(3, "P", "Bệnh viện tư nhân P", "private")


def task(task_id: int, unit_id: int, *events: tuple[str, str, dt.date, dict[str, str]]
         ) -> TaskRow:
    return TaskRow(task_id, unit_id, "unit", "unit_task",
                   tuple(EventRow(e, s, on, MILESTONE.get(e), data) for e, s, on, data in events),
                   title=f"Đề tài {task_id}", pi_name="BS. A")


CREATED = ("create", "proposed", D(2025, 2, 1), {})
ACCEPTED = task(1, 1, CREATED,
                ("approve_outline", "outline_approved", D(2025, 4, 22),
                 {"decision_no": "7/QĐ", "decided_on": "2025-04-18"}),
                ("start", "in_progress", D(2025, 5, 2), {}),
                ("accept", "accepted", D(2025, 11, 25), {"decision_no": "9/BB", "grade": "Đạt"}))
CANCELLED = task(2, 2, CREATED, ("cancel", "cancelled", D(2025, 6, 1), {}))
PRIVATE = task(3, 3, CREATED)


def data(*obligations: ObligationRow) -> Dataset:
    return Dataset(2025, (A, B, P), (ACCEPTED, CANCELLED, PRIVATE), obligations=obligations,
                   void_states=VOID)


def plan(unit_id: int, accepted_on: dt.date | None) -> ObligationRow:
    return ObligationRow(unit_id, "unit_plan", 0, D(2025, 3, 31), D(2025, 3, 20),
                         accepted_on=accepted_on)


def test_a_plan_counts_from_the_day_the_office_accepted_it() -> None:
    rows = data(plan(1, D(2025, 4, 2)), plan(2, None))
    before = compilation(rows, D(2025, 4, 1)).summary
    after = compilation(rows, D(2025, 4, 2)).summary
    assert before.unit("A")["plan_accepted"] is False
    assert after.unit("A")["plan_accepted"] is True
    assert after.unit("B")["plan_accepted"] is False
    assert after.unit("P")["plan_accepted"] is None  # no such obligation: not judged
    rate = next(r for r in compilation(rows, D(2025, 4, 2)).rates if r.part == "plan_accepted")
    assert (rate.whole, rate.value) == (2, 0.5)


def test_a_void_task_does_not_meet_the_quota_and_private_units_are_not_bound() -> None:
    result = compilation(data(), D(2025, 12, 31))
    assert result.summary.unit("A")["quota_met"] is True
    assert result.summary.unit("B")["quota_met"] is False
    assert result.summary.unit("P")["quota_met"] is None
    assert next(r for r in result.rates if r.part == "quota_met").value == pytest.approx(1 / 2)
    bound = compilation(data(), D(2025, 12, 31), ReportRules(quota_kinds=("public", "private")))
    assert bound.summary.unit("P")["quota_met"] is True


def test_the_detail_lists_valid_tasks_with_the_decisions_recorded() -> None:
    entries = compilation(data(), D(2025, 12, 31)).entries
    assert [e.title for e in entries] == ["Đề tài 1", "Đề tài 3"]
    first = entries[0]
    assert (first.approval_no, first.approval_on) == ("7/QĐ", D(2025, 4, 18))
    assert (first.acceptance_no, first.acceptance_on, first.grade) == ("9/BB", D(2025, 11, 25),
                                                                     "Đạt")
    assert (first.recognition, first.application) == ("", "")


def test_the_application_column_counts_each_place_once_per_kind() -> None:
    assert application_summary([]) == ""
    assert application_summary([("applied", "BV A"), ("applied", "bv a"), ("applied", "TYT B"),
                                ("transfer", "BV tư nhân C"), ("cooperation", "BV Chợ Rẫy")]) \
        == "Áp dụng tại 2 đơn vị; chuyển giao 1; hợp tác 1"
    assert application_summary([("transfer", "BV tư nhân C")]) == "Chuyển giao 1"


def test_a_decision_not_reached_by_the_day_is_blank() -> None:
    first = compilation(data(), D(2025, 6, 30)).entries[0]
    assert first.approval_on == D(2025, 4, 18)
    assert (first.acceptance_no, first.acceptance_on, first.grade) == ("", None, "")


def test_the_acceptance_rate_is_accepted_over_registered_and_zero_when_none() -> None:
    result = compilation(data(), D(2025, 12, 31))
    assert result.summary.unit("A")["accepted_rate"] == 1.0
    assert result.summary.unit("B")["accepted_rate"] == 0.0
    assert result.summary.total["accepted_rate"] == pytest.approx(1 / 3)
    empty = compilation(Dataset(2025, (A,), ()), D(2025, 12, 31))
    assert empty.summary.total["accepted_rate"] == 0.0


def test_the_councils_grade_and_the_recognition_fill_the_detail_from_their_dates() -> None:
    from dataclasses import replace

    from storage.reportrows import OutcomeRow
    from workflows.councilterms import verdict

    rows = replace(data(), outcomes=(OutcomeRow(1, D(2025, 11, 25), "passed", "excellent"),),
                   recognitions={1: D(2025, 12, 10)})
    before = compilation(rows, D(2025, 12, 9)).entries[0]
    after = compilation(rows, D(2025, 12, 31)).entries[0]
    assert before.grade == after.grade == verdict("passed", "excellent") != "Đạt"
    assert (before.recognition, after.recognition) == ("", "10/12/2025")
