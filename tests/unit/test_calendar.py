"""The business calendar: Vietnamese holidays, swaps, make-up days, overrides and art. 148."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.scheduling.config import load_config
from workflows.calendar import BusinessCalendar
from workflows.errors import InputError

D = dt.date
CAL = BusinessCalendar()


def test_reunification_and_labour_day_2025_with_the_swapped_friday_are_days_off() -> None:
    assert [CAL.is_working_day(D(2025, 4, d)) for d in (29, 30)] == [True, False]
    assert not CAL.is_working_day(D(2025, 5, 1))
    assert not CAL.is_working_day(D(2025, 5, 2))  # swapped with Saturday 26/4
    assert CAL.is_working_day(D(2025, 5, 5))


def test_the_make_up_saturday_of_2025_is_a_working_day() -> None:
    assert CAL.is_working_day(D(2025, 4, 26))
    assert not CAL.is_working_day(D(2025, 4, 19))


def test_tet_2025_is_a_run_of_days_off() -> None:
    assert not any(CAL.is_working_day(D(2025, 1, d)) for d in range(25, 32))
    assert not CAL.is_working_day(D(2025, 2, 1))
    assert CAL.is_working_day(D(2025, 2, 3))
    assert CAL.next_working_day(D(2025, 1, 27)) == D(2025, 2, 3)


def test_30_april_is_always_a_holiday() -> None:
    for year in range(2024, 2036):
        assert not CAL.is_working_day(D(year, 4, 30)), year


def test_a_deadline_on_a_saturday_rolls_to_monday() -> None:
    assert CAL.legal_end(D(2025, 7, 5)) == D(2025, 7, 7)
    assert CAL.legal_end(D(2026, 12, 5)) == D(2026, 12, 7)
    assert CAL.remind_target(D(2025, 7, 5)) == D(2025, 7, 4)


def test_before_30_april_has_two_dates_the_remind_target_and_the_legal_end() -> None:
    assert CAL.remind_target(D(2025, 4, 30)) == D(2025, 4, 29)
    assert CAL.legal_end(D(2025, 4, 30)) == D(2025, 5, 5)
    assert CAL.legal_end(D(2026, 4, 30)) == D(2026, 5, 4)


def test_a_working_day_deadline_is_its_own_legal_end() -> None:
    assert CAL.legal_end(D(2025, 12, 1)) == D(2025, 12, 1)
    assert CAL.remind_target(D(2025, 12, 1)) == D(2025, 12, 1)


def test_working_days_are_added_over_holidays() -> None:
    assert CAL.add(D(2025, 4, 28), 3) == D(2025, 5, 6)  # 29/4, 5/5, 6/5
    assert CAL.add(D(2025, 4, 25), 1) == D(2025, 4, 26)  # the make-up Saturday counts
    assert CAL.working_days_between(D(2025, 4, 28), D(2025, 5, 6)) == 3


def test_admin_overrides_cover_years_the_package_does_not_know() -> None:
    cal = BusinessCalendar(extra_holidays=[D(2031, 4, 29)], working_days=[D(2031, 5, 3)])
    assert not cal.is_working_day(D(2031, 4, 29))
    assert cal.is_working_day(D(2031, 5, 3))  # a Saturday
    assert cal.holiday_name(D(2031, 4, 29)) == "holiday (configured)"
    assert (D(2031, 4, 29), "holiday (configured)") in cal.days_off(2031)


def test_the_config_reads_calendar_overrides() -> None:
    config = load_config({}, {"extra_holidays": ["2031-04-29"],
                              "working_saturdays": ["2031-05-03"]})
    assert not config.calendar.is_working_day(D(2031, 4, 29))


@pytest.mark.parametrize(("calendar", "message"), [
    ({"extra_holidays": ["2031-02-30"]}, "invalid date '2031-02-30'"),
    ({"extra_holidays": "2031-01-02"}, "must be a list of dates"),
    ({"extra_holidays": ["2031-01-02"], "working_saturdays": ["2031-01-02"]},
     "both an extra holiday and a working day"),
])
def test_bad_calendar_overrides_are_one_line_input_errors(calendar: dict[str, object],
                                                          message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config({}, calendar)
