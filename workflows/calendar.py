"""The business calendar: which days are working days in Việt Nam, and what a deadline means.

Owns: public holidays (the `holidays` package, swapped days off and make-up Saturdays included
for the years it knows), admin overrides for the years it does not (`[calendar]` in the config),
weekends, working-day arithmetic, and the two dates of a deadline:

- the *remind target*: the last working day on or before the day named in the plan ("before 30/4"
  means the last working day before 30 April, which is always a holiday);
- the *legal end* (Civil Code art. 148): a deadline that ends on a day off ends at the end of the
  next working day. Nothing escalates before the legal end has passed.

Pure: no clock, no database. Never reads the environment; the shells pass the overrides in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays

from workflows import inputs
from workflows.errors import InputError
from workflows.model import WorkingDays


@lru_cache(maxsize=64)
def _vn_year(year: int) -> tuple[dict[dt.date, str], frozenset[dt.date]]:
    """Holidays (with names) and make-up working Saturdays the package knows for one year."""
    table = holidays.country_holidays("VN", years=year)
    days = {day: str(name) for day, name in table.items() if day.year == year}
    workdays = frozenset(d for d in getattr(table, "weekend_workdays", ()) if d.year == year)
    return days, workdays


class BusinessCalendar(WorkingDays):
    """Working days: Monday–Friday, minus holidays and swapped days off, plus make-up days."""

    def __init__(self, extra_holidays: Iterable[dt.date] = (),
                 working_days: Iterable[dt.date] = ()) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working = frozenset(working_days)
        clash = self.extra_holidays & self.extra_working
        if clash:
            day = min(clash).isoformat()
            raise ValueError(f"{day} is both an extra holiday and a working day")

    # --- days --------------------------------------------------------------------------------
    def holiday_name(self, day: dt.date) -> str | None:
        if day in self.extra_working:
            return None
        if day in self.extra_holidays:
            return "holiday (configured)"
        return _vn_year(day.year)[0].get(day)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_working:
            return True
        if day in self.extra_holidays or day in _vn_year(day.year)[0]:
            return False
        return day.weekday() < 5 or day in _vn_year(day.year)[1]

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def days_off(self, year: int) -> list[tuple[dt.date, str]]:
        """Holidays and swapped days off of a year that fall on weekdays or are named."""
        names = dict(_vn_year(year)[0])
        names.update({d: "holiday (configured)" for d in self.extra_holidays if d.year == year})
        for d in self.extra_working:
            names.pop(d, None)
        return sorted(names.items())

    # --- deadlines ---------------------------------------------------------------------------
    def remind_target(self, due_on: dt.date) -> dt.date:
        """The last working day on or before `due_on`: what reminders count back from."""
        return self.previous_working_day(due_on)

    def legal_end(self, due_on: dt.date) -> dt.date:
        """Art. 148: a deadline ending on a day off ends at the end of the next working day."""
        return self.next_working_day(due_on)


def parse_days(values: object, what: str) -> list[dt.date]:
    """A config list of ISO dates; raises ValueError with the offending entry."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise ValueError(f"{what} must be a list of dates (YYYY-MM-DD)")
    out: list[dt.date] = []
    for item in values:
        if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
            day = item
        else:
            try:
                day = dt.date.fromisoformat(str(item))
            except ValueError:
                raise ValueError(f"{what}: invalid date '{item}', expected YYYY-MM-DD") from None
        try:
            out.append(inputs.check_date(day, f"{what}: date"))
        except InputError as exc:
            raise ValueError(exc.message) from None
    return out
