"""Recording and listing the science sessions units hold (sinh hoạt khoa học).

The seeds ask each unit to *hold* a session every month (or quarter): nckh records the session
itself — day, department, topic, presenter, attendance, minutes file — not a letter about it.
Whether the presenter leads a task of the unit still open when the session is recorded is
worked out here and kept with the row (the seeds ask that task holders present).

Rules, each refused in one line with the database unchanged: the unit must exist and be active;
the day must be a real day within the calendar's years and not after today; the topic must be
text within its limit; the presenter an e-mail address; attendance a whole number ≥ 0; the same
topic cannot be recorded twice for one unit on one day. With `--as`, the person must be active
and of the office or of that unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.directory import find_person, find_unit
from engine.directory_log import Operator
from storage import sessions as rows
from storage.db import Session
from storage.sessions import ScienceSession
from workflows import addresses, inputs
from workflows.dates import shown
from workflows.errors import Conflict, InvalidData, NotAllowed, Refused
from workflows.periods import SessionPlan, period_of

TOPIC_LIMIT = 500
DEPARTMENT_LIMIT = 300
MINUTES_LIMIT = 1000
MAX_ATTENDANCE = 100_000


@dataclass(frozen=True)
class SessionInput:
    unit_code: str
    held_on: dt.date
    topic: str
    presenter_email: str
    presenter_name: str | None = None
    department: str | None = None
    attendance: int | None = None
    minutes_path: str | None = None


def _check_recorder(session: Session, operator: Operator, unit_id: int) -> None:
    if operator.acting_as is None:
        return
    person = find_person(session, operator.acting_as)
    if not person.active:
        raise NotAllowed(f"{person.email} is inactive and may not record a session")
    if person.role != "office" and person.unit_id != unit_id:
        raise NotAllowed(f"{person.email} is neither of the office nor of this unit and may "
                         "not record its sessions")


def record(session: Session, data: SessionInput, *, today: dt.date, now: dt.datetime,
           operator: Operator, open_states: Iterable[str]) -> ScienceSession:
    unit = find_unit(session, data.unit_code)
    if not unit.active:
        raise Refused(f"unit {unit.code} is inactive: it records no new session")
    # Each refusal names the field of `SessionInput` it is about, for a form to show beside.
    day = inputs.check_date(data.held_on, "--date", shown=shown(data.held_on), field="held_on")
    if day > today:
        raise InvalidData(f"--date {shown(day)} is in the future: record a session once it is "
                          f"held (today is {shown(today)})", field="held_on")
    topic = inputs.clean_text(data.topic, "--topic", limit=TOPIC_LIMIT, field="topic")
    department = (inputs.clean_text(data.department, "--department", limit=DEPARTMENT_LIMIT,
                                    field="department")
                  if data.department is not None else None)
    name = (inputs.clean_text(data.presenter_name, "--presenter-name",
                              limit=inputs.LIMITS["person name"], field="presenter_name")
            if data.presenter_name is not None else None)
    minutes = (inputs.clean_text(data.minutes_path, "--file", limit=MINUTES_LIMIT,
                                 field="minutes_path")
               if data.minutes_path is not None else None)
    email = addresses.normalise(data.presenter_email, what="--presenter-email",
                                field="presenter_email")
    if data.attendance is not None and not 0 <= data.attendance <= MAX_ATTENDANCE:
        raise InvalidData(f"--attendance {data.attendance}: expected a whole number "
                          f"0–{MAX_ATTENDANCE}", field="attendance")
    _check_recorder(session, operator, unit.id)
    if rows.exists(session, unit.id, day, topic):
        raise Conflict(f"unit {unit.code} already has a session on {shown(day)} with this topic")
    presenter = rows.person_by_email(session, email)
    led = (rows.tasks_led_in(session, presenter.id, unit.id, open_states)
           if presenter is not None else [])
    return rows.add(session, ScienceSession(
        unit_id=unit.id, held_on=day, department=department, topic=topic,
        presenter_email=email, presenter_name=name or (presenter.name if presenter else None),
        presenter_id=presenter.id if presenter else None,
        presenter_task_id=led[0] if led else None, attendance=data.attendance,
        minutes_path=minutes, recorded_at=now, recorded_by=operator.login,
        acting_as=operator.acting_as))


def row(s: ScienceSession, plan: SessionPlan) -> dict[str, Any]:
    period = period_of(plan.kind_for(s.unit.code), s.held_on)
    return {
        "id": s.id, "unit": s.unit.code, "date": shown(s.held_on),
        "held_on": s.held_on.isoformat(), "period": period.label(),
        "department": s.department, "topic": s.topic, "presenter_email": s.presenter_email,
        "presenter_name": s.presenter_name, "presenter_is_pi": s.presenter_task_id is not None,
        "presenter_task_id": s.presenter_task_id, "attendance": s.attendance,
        "minutes_path": s.minutes_path, "recorded_by": s.recorded_by, "acting_as": s.acting_as,
    }


def listed(session: Session, plan: SessionPlan, *, unit_code: str | None,
           year: int | None) -> list[dict[str, Any]]:
    unit_id = find_unit(session, unit_code).id if unit_code is not None else None
    if year is not None:
        inputs.check_year(year)
    start, end = (dt.date(year, 1, 1), dt.date(year, 12, 31)) if year else (None, None)
    return [row(s, plan) for s in rows.listed(session, unit_id=unit_id, start=start, end=end)]
