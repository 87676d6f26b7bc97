"""Where nckh reads the time: once, in the shells, through a `Clock`.

Everything below the shells takes `now` as an argument. `FixedClock` and `TestClock` let tests and
`--now`/`NCKH_NOW` replay any moment; `TestClock` refuses to go backwards, because a replayed year
that steps back in time would hide double firings.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Protocol
from zoneinfo import ZoneInfo

from workflows import dates, inputs
from workflows.errors import InputError

DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def __init__(self, tz: dt.tzinfo = DEFAULT_TZ) -> None:
        self.tz = tz

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.tz)


class RunningClock:
    """Starts at a given instant and runs at the speed of real time: `--now` for a daemon, and
    the clock of one pass (the pass's injected `now` plus the real time elapsed since), which
    leases are measured on: a claim made a minute into a pass is leased from that minute."""

    def __init__(self, start: dt.datetime,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("RunningClock needs an aware datetime")
        self.start = start
        self._monotonic = monotonic
        self.t0 = monotonic()

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self._monotonic() - self.t0)


class FixedClock:
    """Always the same instant (a CLI run with `--now`)."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


class TestClock:
    """A clock tests move forward by hand."""

    __test__ = False  # not a pytest class

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("TestClock needs an aware datetime")
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def set(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("TestClock needs an aware datetime")
        if at < self._now:
            raise ValueError(f"TestClock cannot go back from {self._now} to {at}")
        self._now = at

    def advance(self, delta: dt.timedelta) -> None:
        self.set(self._now + delta)


def parse_datetime(text: str, tz: dt.tzinfo = DEFAULT_TZ, *, what: str = "datetime") -> dt.datetime:
    """Parse a day or an instant as people write it (dd/mm/yyyy [HH:MM], or ISO) within the
    calendar's years; a naive value is local time in `tz`."""
    raw = text.strip()
    try:
        value = dates.parse_moment(raw)
    except ValueError:
        raise InputError(f"invalid {what} '{text}': expected {dates.EXPECTED_MOMENT}") from None
    inputs.check_date(value, what, shown=raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value


def parse_date(text: str, *, what: str = "date") -> dt.date:
    """Parse a day written dd/mm/yyyy or YYYY-MM-DD, within the calendar's years."""
    try:
        value = dates.parse_day(text)
    except ValueError:
        raise InputError(f"invalid {what} '{text}': expected {dates.EXPECTED_DAY}") from None
    return inputs.check_date(value, what, shown=text.strip())
