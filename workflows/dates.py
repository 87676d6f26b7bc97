"""Dates as people type them: dd/mm/yyyy first (how the office writes them), ISO as well.

Owns the one parser every date option and date field goes through (`--as-of`, `--at`, `--now`,
`--set until=…`, a session's `--date`), so "31/3/2025", "31/03/2025" and "2025-03-31" mean the same
day everywhere and anything else is refused with the same line. Never guesses mm/dd: a Vietnamese
"04/05/2025" is 4 May. Pure; the range check (2000–2100) stays with `inputs.check_date`.
"""

from __future__ import annotations

import datetime as dt
import re

EXPECTED_DAY = "DD/MM/YYYY (or YYYY-MM-DD)"
EXPECTED_MOMENT = "DD/MM/YYYY [HH:MM] (or YYYY-MM-DD[THH:MM[:SS]][±HH:MM])"

_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_DMY_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str) -> dt.date:
    """A calendar day written dd/mm/yyyy (one-digit day and month allowed) or YYYY-MM-DD.
    Raises ValueError on anything else, including days that do not exist (31/02/2025)."""
    raw = text.strip()
    if m := _DMY.fullmatch(raw):
        day, month, year = (int(g) for g in m.groups())
        return dt.date(year, month, day)
    if _ISO_DAY.fullmatch(raw):
        return dt.date.fromisoformat(raw)
    raise ValueError(raw)


def parse_moment(text: str) -> dt.datetime:
    """A day or an instant: dd/mm/yyyy, "dd/mm/yyyy HH:MM[:SS]", or ISO 8601 (with an optional
    offset). A bare day is its midnight. Naive unless the text carries an offset."""
    raw = text.strip()
    if m := _DMY_TIME.fullmatch(raw):
        day, month, year, hour, minute = (int(g) for g in m.groups()[:5])
        return dt.datetime(year, month, day, hour, minute, int(m.group(6) or 0))
    if _DMY.fullmatch(raw):
        return dt.datetime.combine(parse_day(raw), dt.time())
    return dt.datetime.fromisoformat(raw)


def shown(day: dt.date) -> str:
    """A day as people read it: dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")
