"""What the unit's registers (publications, applications of results) share: who may list which
unit's rows, and their CSV as the office's Excel opens it.

One place, so that the scoping rule (the office every unit; anyone else their own, another unit
answered "unknown" as if it did not exist) and the CSV's shape (a BOM, ';' by default, CRLF) are
the same for every register.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

from engine.directory import find_person, find_unit
from storage.db import Session
from workflows import inputs
from workflows.errors import InputError, NotAllowed, NotFound

DELIMITERS = (";", ",", "\t")


def viewer_unit(session: Session, email: str) -> int | None:
    """The unit whose rows a person may see: None for the office (all units); the unit they are
    registered in. Anyone else (the council, someone inactive) is refused."""
    person = find_person(session, email)
    if person.role == "office":
        return None
    if not person.active:
        raise NotAllowed(f"{person.email} is inactive")
    if person.unit_id is None:
        raise NotAllowed(f"{person.email} belongs to no unit")
    return person.unit_id


def listing_scope(session: Session, *, unit_code: str | None, year: int | None,
                  viewer_email: str | None) -> tuple[int | None, dt.date | None, dt.date | None]:
    """(unit id or None for all, first and last day or None) of a listing. With `viewer_email`,
    only what that person may see: another unit asked for is "unknown", as if absent."""
    unit_id = find_unit(session, unit_code).id if unit_code is not None else None
    if viewer_email is not None:
        own = viewer_unit(session, viewer_email)
        if own is not None:
            if unit_id is not None and unit_id != own:
                raise NotFound("unit", unit_code or "")
            unit_id = own
    if year is not None:
        inputs.check_year(year)
        return unit_id, dt.date(year, 1, 1), dt.date(year, 12, 31)
    return unit_id, None, None


def to_csv(found: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]],
           delimiter: str = ";") -> str:
    """`columns`: (key, header). With a BOM and ';' by default: Excel with Vietnamese regional
    settings opens it as UTF-8 and splits on it (as the reports' CSV)."""
    if delimiter not in DELIMITERS:
        raise InputError(f"delimiter {delimiter!r}: expected ';', ',' or a tab")
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([label for _, label in columns])
    for r in found:
        writer.writerow(["" if r[key] is None else r[key] for key, _ in columns])
    return buf.getvalue()
