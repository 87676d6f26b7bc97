"""Science-session periods and their configuration: pure, milliseconds."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.scheduling.config import load_config
from workflows.errors import InputError
from workflows.periods import Period, SessionPlan, ending_in_month, period_of, periods_of_year

D = dt.date


def test_a_day_falls_in_its_month_and_its_quarter() -> None:
    assert period_of("month", D(2025, 2, 28)) == Period(2025, "month", 2)
    assert period_of("quarter", D(2025, 2, 28)) == Period(2025, "quarter", 1)
    q4 = period_of("quarter", D(2024, 12, 31))
    assert (q4.start, q4.end, q4.key) == (D(2024, 10, 1), D(2024, 12, 31), "2024-Q4")
    feb = Period(2024, "month", 2)
    assert (feb.end, feb.key, D(2024, 2, 29) in feb, D(2024, 3, 1) in feb) == (
        D(2024, 2, 29), "2024-02", True, False)


def test_periods_are_named_as_people_write_them() -> None:
    assert Period(2025, "month", 3).label() == "tháng 03/2025"
    assert Period(2025, "quarter", 2).label() == "quý II/2025"
    assert Period(2025, "quarter", 4).label("en") == "Q4 2025"
    assert Period(2025, "month", 11).label("en") == "November 2025"


def test_a_quarter_ends_only_in_march_june_september_and_december() -> None:
    ends = [m for m in range(1, 13) if ending_in_month("quarter", 2025, m) is not None]
    assert ends == [3, 6, 9, 12]
    assert all(ending_in_month("month", 2025, m) == Period(2025, "month", m)
               for m in range(1, 13))
    assert len(periods_of_year("quarter", 2025)) == 4


def test_the_plan_says_each_units_period_and_which_have_ended() -> None:
    plan = SessionPlan(by_unit={"TTYT-TD": "quarter"})
    assert (plan.kind_for("BVDK"), plan.kind_for("TTYT-TD")) == ("month", "quarter")
    assert [p.index for p in plan.ended_by("BVDK", 2025, D(2025, 3, 31))] == [1, 2, 3]
    assert [p.index for p in plan.ended_by("TTYT-TD", 2025, D(2025, 6, 29))] == [1]
    assert plan.ended_by("BVDK", 2025, D(2025, 1, 30)) == []


def test_the_sessions_section_is_read_and_checked() -> None:
    plan = load_config({"sessions": {"every": "quarter", "units": {"BVDK": "month"},
                                     "remind_before": 7}}, {}).sessions
    assert (plan.every, dict(plan.by_unit), plan.remind_before) == ("quarter", {"BVDK": "month"},
                                                                   7)
    assert load_config({}, {}).sessions == SessionPlan()


@pytest.mark.parametrize(("sessions", "message"), [
    ({"every": "week"}, r"\[scheduler.sessions\] every: expected 'month' or 'quarter'"),
    ({"units": {"BVDK": "year"}}, r"\[scheduler.sessions\] units.BVDK: expected 'month'"),
    ({"units": ["BVDK"]}, r"\[scheduler.sessions\] units: expected a table"),
    ({"remind_before": 40}, r"\[scheduler.sessions\] remind_before: expected a whole number"),
    ({"remind": 5}, r"\[scheduler.sessions\]: unknown key 'remind'"),
])
def test_a_bad_sessions_section_is_one_line(sessions: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config({"sessions": sessions}, {})


def test_the_monthly_minutes_obligation_is_gone_from_the_defaults() -> None:
    keys = [o.key for o in load_config({}, {}).obligations]
    assert keys == ["unit_plan", "outline_review_report", "six_month_report",
                    "acceptance_report", "annual_report"]
