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
from storage import directory, sessions
from storage.db import Connection, Session
from workflows import inputs
from workflows.errors import NotFound
from workflows.model import Workflow


def named(conn: Connection, code: str) -> tuple[int, str, str]:
    """(id, code, name) of the unit of that code (any case); `NotFound` as `find_unit` says."""
    key = inputs.lookup_key(code)
    unit = directory.unit_named(conn, key) if key is not None else None
    if unit is None:
        raise NotFound("unit", code)
    return unit


def read(s: Session, code: str, *, year: int, now: dt.datetime, tz: dt.tzinfo, lang: str,
         workflow: Callable[[int], Workflow]) -> dict[str, Any]:
    """{unit: {code, name}, rows: its tasks of `year` as `task list` shows them, overdue first
    then by deadline; people: [{email, name}] by address; sessions: [{held_on (ISO), department,
    topic, presenter_email, presenter_name, presenter_is_pi, attendance}] oldest first}. An
    unknown unit is `NotFound`, as `find_unit` says it. Plain rows throughout: the page only
    reads them, and ORM objects cost more than the statements (bench/web.py)."""
    conn = s.connection()
    unit_id, unit_code, name = named(conn, code)
    rows = queries.urgent_first(queries.list_tasks(
        s, now=now, tz=tz, unit_id=unit_id, state=None, year=year, overdue=False, lang=lang,
        workflow=workflow))
    return {
        "unit": {"code": unit_code, "name": name},
        "rows": rows,
        "people": [{"email": email, "name": person}
                   for email, person in directory.registrable_people(conn, unit_id)],
        "sessions": [{**held._asdict(), "held_on": held.held_on.isoformat()}
                     for held in sessions.held_rows(conn, unit_id, dt.date(year, 1, 1),
                                                    dt.date(year, 12, 31))],
    }
