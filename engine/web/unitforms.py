"""A unit's page and its two forms: register a new task or initiative, record a science session.

The page is the office's and the unit's own head's (`Views.unit`: anyone else gets "not found",
as for a unit that does not exist). Each form reads the fields, turns what people type into
what the engine takes (dd/mm/yyyy into a date, digits into a number) and calls the engine as
the CLI does (`Engine.create_task` like `nckh task new --as`, `Engine.add_session` like
`nckh session add --as`): who may register for which unit, every length, address and date rule
is the engine's. A refusal names its field; the form comes back with the message beside it and
nothing saved. Each form's fields carry a prefix (`t_`, `s_`) so the two forms on one page keep
their values and errors apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask import Blueprint, g, redirect, request, url_for

from engine import taskextras
from engine.directory_log import Operator
from engine.sessions import SessionInput
from engine.taskextras import ExtrasInput
from engine.web.app import page, shell, signed_in
from engine.web.pages import _year
from workflows import inputs
from workflows.errors import InputError, InvalidData, NotFound, Refused
from workflows.model import RESEARCH_LEVELS
from workflows.visibility import Viewer

bp = Blueprint("unitforms", __name__)

# Who typed it, in the history and the directory's log: the web app (the person is the actor).
WEB = "web"
INTEGER = re.compile(r"^[+-]?[0-9]{1,9}$")
# The engine's field names → the form's.
TASK_FIELDS = {"title": "t_title", "level": "t_level", "year": "t_year", "pi_email": "t_pi_email",
               "pi_name": "t_pi_name", "starts": "t_starts", "ends": "t_ends",
               "funding_source": "t_funding_source", "funding_amount": "t_funding_amount",
               "members": "t_members"}
SESSION_FIELDS = {"held_on": "s_date", "topic": "s_topic", "department": "s_department",
                  "presenter_email": "s_presenter_email", "presenter_name": "s_presenter_name",
                  "attendance": "s_attendance", "minutes_path": "s_file", "file": "s_file"}


def unit_view(viewer: Viewer, code: str, status: int = 200,
              errors: Mapping[str, str] | None = None,
              values: Mapping[str, str] | None = None) -> Any:
    s = shell()
    year = _year()
    found = s.views.unit_page(viewer, code, year=year, now=g.now, lang=g.lang)
    registry = s.engine.registry
    levels = [(level, registry.for_level(level).labels.get(g.lang)) for level in RESEARCH_LEVELS]
    sources = [(key, taskextras.LABELS[key][g.lang]) for key in taskextras.FUNDING_SOURCES]
    return page("unit.html", status, unit=found["unit"], rows=found["rows"], year=year,
                people=found["people"], levels=levels, sessions=found["sessions"],
                funding_sources=sources, errors=dict(errors or {}),
                values={"t_year": str(year), **(values or {})}, done=request.args.get("done"))


def _number(text: str, what: str, field: str) -> int | None:
    """A whole number typed in a box, as the CLI's `type=int` reads it (a sign too: whether
    it may be negative is the engine's rule); blank is None."""
    text = text.strip()
    if not text:
        return None
    if not INTEGER.match(text):
        raise InvalidData(f"{what} '{inputs.printable(text)[:20]}': expected a whole number",
                          field=field)
    return int(text)


def _extras(form: Mapping[str, str]) -> ExtrasInput | None:
    """The optional extras as typed (blank boxes: not given); members one per line."""
    def box(key: str) -> str | None:
        return form.get(key, "").strip() or None

    lines = tuple(line for line in form.get("t_members", "").splitlines() if line.strip())
    extras = ExtrasInput(box("t_starts"), box("t_ends"), box("t_funding_source"),
                         box("t_funding_amount"), lines or None)
    return extras if extras.given() else None


def _failed(viewer: Viewer, code: str, exc: Exception, fields: Mapping[str, str]) -> Any:
    """The page again with the engine's message beside the field it names (or at the top)."""
    if isinstance(exc, NotFound):  # an InputError, but the page's 404, not a field's
        raise exc
    field = getattr(exc, "field", None)
    key = fields.get(str(field), str(field)) if field else "_form"
    status = 400 if isinstance(exc, InputError) else 403
    return unit_view(viewer, code, status, {key: str(exc)}, request.form)


@bp.post("/don-vi/<code>/nhiem-vu")
def register_task(code: str) -> Any:
    """Register a task for the unit as the signed-in person (`nckh task new --as`)."""
    viewer = signed_in()
    s = shell()
    unit = s.views.unit(viewer, code)  # not theirs: NotFound, as if absent
    form = request.form
    chosen = form.get("t_pi", "").strip()
    try:
        year = _number(form.get("t_year", ""), "year", "t_year")
        task_id = s.engine.create_task(
            unit_code=unit["code"], level=form.get("t_level", ""), title=form.get("t_title", ""),
            pi_email=chosen or form.get("t_pi_email", ""),
            pi_name=None if chosen else form.get("t_pi_name") or None, year=year,
            actor_email=viewer.email, now=g.now, operator=Operator(WEB),
            extras=_extras(form))
    except (InputError, Refused) as exc:
        return _failed(viewer, unit["code"], exc, TASK_FIELDS)
    return redirect(url_for("pages.item", task_id=task_id, done=1))


@bp.post("/don-vi/<code>/sinh-hoat")
def record_session(code: str) -> Any:
    """Record a science session the unit held (`nckh session add --as`)."""
    from engine.web.units import upload

    viewer = signed_in()
    s = shell()
    unit = s.views.unit(viewer, code)
    form = request.form
    try:
        held_on = inputs.parse_dmy(form.get("s_date", ""), "--date", field="s_date")
        attendance = _number(form.get("s_attendance", ""), "--attendance", "s_attendance")
        data = SessionInput(
            unit_code=unit["code"], held_on=held_on, topic=form.get("s_topic", ""),
            presenter_email=form.get("s_presenter_email", ""),
            presenter_name=form.get("s_presenter_name", "").strip() or None,
            department=form.get("s_department", "").strip() or None, attendance=attendance)
        # The minutes are checked before anything is recorded; the session is then refused
        # or recorded whole (a stored file no row names is harmless, storage/filestore.py).
        minutes = upload()
        if minutes is not None:
            data = replace(data, minutes_path=s.nckh.submissions.minutes_file(minutes))
        s.engine.add_session(data, now=g.now, operator=Operator(WEB, viewer.email))
    except (InputError, Refused) as exc:
        return _failed(viewer, unit["code"], exc, SESSION_FIELDS)
    return redirect(url_for("units.unit_page", code=unit["code"], done="session") + "#sessions")
