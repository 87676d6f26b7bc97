"""Science-session periods: the month or the quarter in which a unit must hold a session.

Seed 003 asks for a science session (sinh hoạt khoa học) every month, seed 001 every month or
quarter; which applies is the province's choice, unit by unit (`[scheduler.sessions]`). This
module owns the arithmetic: the period a day falls in, a year's periods, their bounds and how
people name them ("tháng 03/2025", "quý I/2025"). Pure: no clock, no database.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

PERIOD_KINDS = ("month", "quarter")
ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True, order=True)
class Period:
    """One month (index 1–12) or quarter (index 1–4) of a year."""

    year: int
    kind: str
    index: int

    @property
    def first_month(self) -> int:
        return self.index if self.kind == "month" else 3 * self.index - 2

    @property
    def last_month(self) -> int:
        return self.index if self.kind == "month" else 3 * self.index

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.last_month,
                       calendar.monthrange(self.year, self.last_month)[1])

    @property
    def key(self) -> str:
        """Stable and sortable: 2025-03 for a month, 2025-Q1 for a quarter."""
        return f"{self.year}-{self.index:02d}" if self.kind == "month" else \
            f"{self.year}-Q{self.index}"

    def label(self, lang: str = "vi") -> str:
        if self.kind == "month":
            return (f"tháng {self.index:02d}/{self.year}" if lang == "vi"
                    else f"{calendar.month_name[self.index]} {self.year}")
        return (f"quý {ROMAN[self.index - 1]}/{self.year}" if lang == "vi"
                else f"Q{self.index} {self.year}")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def period_of(kind: str, day: dt.date) -> Period:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}")
    index = day.month if kind == "month" else (day.month - 1) // 3 + 1
    return Period(day.year, kind, index)


def periods_of_year(kind: str, year: int) -> list[Period]:
    return [Period(year, kind, i) for i in range(1, (12 if kind == "month" else 4) + 1)]


def ending_in_month(kind: str, year: int, month: int) -> Period | None:
    """The period of `kind` that ends in this month, if one does (a quarter: March, June…)."""
    period = period_of(kind, dt.date(year, month, 1))
    return period if period.last_month == month else None


@dataclass(frozen=True)
class SessionPlan:
    """How often each unit must hold a science session, and when a unit with none recorded
    is reminded: `remind_before` calendar days before its period ends (on the last working
    day on or before that)."""

    every: str = "month"
    by_unit: Mapping[str, str] = field(default_factory=dict)  # unit code -> month | quarter
    remind_before: int = 5

    def kind_for(self, unit_code: str) -> str:
        return self.by_unit.get(unit_code, self.every)

    def ended_by(self, unit_code: str, year: int, day: dt.date) -> list[Period]:
        """The unit's periods of `year` that have ended by the end of `day`."""
        return [p for p in periods_of_year(self.kind_for(unit_code), year) if p.end <= day]
