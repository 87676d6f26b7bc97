"""The business calendar: Vietnamese holidays, swaps, make-up days, overrides and art. 148."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.doctor import check_calendar
from engine.scheduling.config import load_config
from engine.settings import load_settings
from workflows.calendar import CONFIGURED, BusinessCalendar, official_swaps
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
    assert cal.holiday_name(D(2031, 4, 29)) == CONFIGURED
    assert (D(2031, 4, 29), CONFIGURED) in cal.days_off(2031)


def test_the_config_reads_calendar_overrides() -> None:
    config = load_config({}, {"extra_holidays": ["2031-04-29"],
                              "working_saturdays": ["2031-05-03"]})
    assert not config.calendar.is_working_day(D(2031, 4, 29))


@pytest.mark.parametrize(("calendar", "message"), [
    ({"extra_holidays": ["2031-02-30"]}, "invalid date '2031-02-30'"),
    ({"extra_holidays": "2031-01-02"}, "must be a list of dates"),
    ({"extra_holidays": ["2031-01-02"], "working_saturdays": ["2031-01-02"]},
     "both an extra holiday and a working day"),
    ({"confirmed_years": 2027}, "confirmed_years: expected a list of years"),
    ({"confirmed_years": [1999]}, "confirmed_years: expected a whole number 2000–2100"),
    ({"confirmed_years": ["2027"]}, "confirmed_years: expected a whole number"),
])
def test_bad_calendar_overrides_are_one_line_input_errors(calendar: dict[str, object],
                                                          message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config({}, calendar)


def test_friday_2_january_2026_is_a_day_off_in_lieu_and_saturday_10_january_is_worked() -> None:
    # Văn bản 12729/VPCP-KGVX of 25/12/2025: the `holidays` package does not know this swap.
    assert not CAL.is_working_day(D(2026, 1, 2))
    assert "12729/VPCP-KGVX" in (CAL.holiday_name(D(2026, 1, 2)) or "")
    assert CAL.is_working_day(D(2026, 1, 10))
    assert CAL.holiday_name(D(2026, 1, 10)) is None
    assert CAL.add(D(2025, 12, 31), 1) == D(2026, 1, 5)
    assert CAL.legal_end(D(2026, 1, 1)) == D(2026, 1, 5)
    assert D(2026, 1, 2) in dict(CAL.days_off(2026))
    assert CAL.make_up_days(2026) == [D(2026, 1, 10), D(2026, 8, 22)]


def test_the_swap_data_names_its_dispatch_and_confirms_its_years() -> None:
    swaps = official_swaps()
    assert {2025, 2026} <= swaps.years
    assert 2027 not in swaps.years
    assert all("(" in name for name in swaps.off.values())


def test_the_config_wins_over_the_official_swaps() -> None:
    cal = BusinessCalendar(working_days=[D(2026, 1, 2)], extra_holidays=[D(2026, 1, 10)])
    assert cal.is_working_day(D(2026, 1, 2))
    assert not cal.is_working_day(D(2026, 1, 10))
    assert D(2026, 1, 2) not in dict(cal.days_off(2026))
    assert dict(cal.days_off(2026))[D(2026, 1, 10)] == CONFIGURED


def test_this_year_is_always_checked_and_next_year_from_1_november() -> None:
    assert CAL.unconfirmed_years(D(2026, 10, 31)) == []
    assert CAL.unconfirmed_years(D(2026, 11, 1)) == [2027]
    assert CAL.unconfirmed_years(D(2027, 3, 1)) == [2027]
    confirmed = load_config({}, {"confirmed_years": [2027]}).calendar
    assert confirmed.unconfirmed_years(D(2026, 12, 2)) == []
    assert confirmed.unconfirmed_years(D(2027, 11, 1)) == [2028]


def test_doctor_warns_that_2027_swaps_are_missing_from_1_november_2026(tmp_path: Path) -> None:
    settings = load_settings(env={"NCKH_DATA_DIR": str(tmp_path)})
    early = check_calendar(settings, D(2026, 10, 15))
    assert early.status == "ok" and "2026" in early.detail
    late = check_calendar(settings, D(2026, 12, 2))
    assert late.status == "warn"
    assert late.detail.startswith("no confirmed swapped days off for 2027")
    assert late.fix is not None and "confirmed_years" in late.fix
    config = tmp_path / "nckh.toml"
    config.write_text("[calendar]\nconfirmed_years = [2027]\n", encoding="utf-8")
    entered = load_settings(env={"NCKH_DATA_DIR": str(tmp_path)}, config_file=str(config))
    assert check_calendar(entered, D(2026, 12, 2)).status == "ok"
    assert check_calendar(settings, D(2028, 1, 5)).detail.startswith(
        "no confirmed swapped days off for 2028")
