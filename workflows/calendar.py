"""The business calendar: which days are working days in Việt Nam, and what a deadline means.

Owns: public holidays (the `holidays` package, swapped days off and make-up Saturdays included
for the years it knows), the official swaps checked against their dispatch (`data/swaps.toml`,
which wins over the package: it knows Friday 2/1/2026 off and Saturday 10/1/2026 worked, which
the package does not), admin overrides for the years neither knows (`[calendar]` in the config),
which years are confirmed (so `nckh doctor` can warn about the others), weekends, working-day
arithmetic, and the two dates of a deadline:

- the *remind target*: the last working day on or before the day named in the plan ("before 30/4"
  means the last working day before 30 April, which is always a holiday);
- the *legal end* (Civil Code art. 148): a deadline that ends on a day off ends at the end of the
  next working day. Nothing escalates before the legal end has passed.

Pure: no clock, no database. Never reads the environment; the shells pass the overrides in. The
one file it reads is the packaged swap data, once.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import holidays

from workflows import inputs
from workflows.errors import InputError
from workflows.model import WorkingDays

CONFIGURED = "Ngày nghỉ (theo cấu hình)"
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


@lru_cache(maxsize=64)
def _vn_year(year: int) -> tuple[dict[dt.date, str], frozenset[dt.date]]:
    """Holidays (with names) and make-up working Saturdays the package knows for one year."""
    table = holidays.country_holidays("VN", years=year, language="vi")
    days = {day: str(name) for day, name in table.items() if day.year == year}
    workdays = frozenset(d for d in getattr(table, "weekend_workdays", ()) if d.year == year)
    return days, workdays


@dataclass(frozen=True)
class OfficialSwaps:
    """The swaps of `data/swaps.toml`: days off with the document that announced each, make-up
    working days, and the years whose data was checked against a dispatch."""

    off: dict[dt.date, str]
    worked: frozenset[dt.date]
    years: frozenset[int]


def _swap_days(entry: dict[str, object], key: str) -> list[dt.date]:
    raw = entry.get(key, [])
    if not isinstance(raw, list):
        raise ValueError(f"swaps.toml: year {entry.get('year')}: {key} must be a list")
    return [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in raw]


@lru_cache(maxsize=1)
def official_swaps() -> OfficialSwaps:
    """The packaged swap data, read once. A malformed file is a packaging bug: it raises."""
    text = resources.files("workflows").joinpath("data/swaps.toml").read_text(encoding="utf-8")
    off: dict[dt.date, str] = {}
    worked: set[dt.date] = set()
    years: set[int] = set()
    for entry in tomllib.loads(text).get("year", []):
        year = int(entry["year"])
        source = str(entry["source"])
        years.add(year)
        for day in _swap_days(entry, "off"):
            off[day] = f"Ngày nghỉ hoán đổi ({source})"
        worked.update(_swap_days(entry, "worked"))
    if off.keys() & worked:
        raise ValueError("swaps.toml: a day is both off and worked")
    return OfficialSwaps(off, frozenset(worked), frozenset(years))


class BusinessCalendar(WorkingDays):
    """Working days: Monday–Friday, minus holidays and swapped days off, plus make-up days.

    Precedence, strongest first: the config's working days, the config's extra holidays, the
    official swaps of `data/swaps.toml`, the `holidays` package, the weekend."""

    def __init__(self, extra_holidays: Iterable[dt.date] = (),
                 working_days: Iterable[dt.date] = (),
                 confirmed_years: Iterable[int] = ()) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working = frozenset(working_days)
        clash = self.extra_holidays & self.extra_working
        if clash:
            day = min(clash).isoformat()
            raise ValueError(f"{day} is both an extra holiday and a working day")
        self.swaps = official_swaps()
        self.confirmed_years = frozenset(confirmed_years) | self.swaps.years

    # --- days --------------------------------------------------------------------------------
    def holiday_name(self, day: dt.date) -> str | None:
        if day in self.extra_working:
            return None
        if day in self.extra_holidays:
            return CONFIGURED
        if day in self.swaps.off:
            return self.swaps.off[day]
        if day in self.swaps.worked:
            return None
        return _vn_year(day.year)[0].get(day)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.extra_working:
            return True
        if day in self.extra_holidays or day in self.swaps.off:
            return False
        if day in self.swaps.worked:
            return True
        if day in _vn_year(day.year)[0]:
            return False
        return day.weekday() < 5 or day in _vn_year(day.year)[1]

    def make_up_days(self, year: int) -> list[dt.date]:
        """Weekend days worked in a year (make-up Saturdays), from every source."""
        days = {d for d in _vn_year(year)[1] | self.swaps.worked | self.extra_working
                if d.year == year and d.weekday() >= 5}
        return sorted(d for d in days if self.is_working_day(d))

    def unconfirmed_years(self, today: dt.date, next_from: tuple[int, int] = (11, 1)) -> list[int]:
        """Years whose swaps nobody checked: this year always, the next one from `next_from`
        (1 November: the next year's swaps are announced during the year before)."""
        wanted = [today.year]
        if (today.month, today.day) >= next_from:
            wanted.append(today.year + 1)
        return [y for y in wanted if y not in self.confirmed_years]

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
        names.update({d: n for d, n in self.swaps.off.items() if d.year == year})
        names.update({d: CONFIGURED for d in self.extra_holidays if d.year == year})
        for d in self.extra_working | self.swaps.worked:
            if d not in self.extra_holidays:
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
