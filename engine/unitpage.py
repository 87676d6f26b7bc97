"""A unit's page (`/don-vi/CODE`) read in one transaction: the unit, its tasks of the year,
its active investigators and head (the registration form's choices) and its science sessions
of the year, in a fixed number of statements whatever the number of units or people.

Why one read and not the engine's separate listings: each listing is its own transaction, and
`list_people` reads the whole province's people to keep one unit's; on the page those cost
many times the rows it shows (bench/web.py). Who may see the page is `Views.unit_page`'s
question, asked before this read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine import queries
from engine.directory import find_unit
from engine.sessions import row as session_row
from storage import directory as people
from storage import sessions as held
from storage.db import Session
from workflows.model import Workflow
from workflows.periods import SessionPlan


def read(s: Session, code: str, *, year: int, now: dt.datetime, tz: dt.tzinfo, lang: str,
         plan: SessionPlan, workflow: Callable[[int], Workflow]) -> dict[str, Any]:
    """{unit: {code, name}, rows: its tasks of `year` as `task list` shows them, overdue first
    then by deadline; people: [{email, name}] by address; sessions: as `session list`}. An
    unknown unit is `NotFound`."""
    unit = find_unit(s, code)
    rows = queries.urgent_first(queries.list_tasks(
        s, now=now, tz=tz, unit_id=unit.id, state=None, year=year, overdue=False, lang=lang,
        workflow=workflow))
    return {
        "unit": {"code": unit.code, "name": unit.name},
        "rows": rows,
        "people": [{"email": email, "name": name}
                   for email, name in people.registrable_people(s, unit.id)],
        # the unit is in the session's identity map already: a session's unit is not read again
        "sessions": [session_row(x, plan) for x in held.listed(
            s, unit_id=unit.id, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31))],
    }
