"""The office's intake register (sổ tiếp nhận): every document received, accept or return it,
and record a document that came on paper or by e-mail on the unit's behalf."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, request, url_for

from engine.submissions import Document
from engine.web.app import page, shell, signed_in
from engine.web.forms import fire_from_form
from engine.web.pages import _year
from engine.web.units import upload
from workflows.errors import InputError, NotFound
from workflows.visibility import Viewer

bp = Blueprint("office", __name__)


def _office_only(what: str) -> Viewer:
    """The signed-in office person; anyone else is told the page does not exist."""
    viewer = signed_in()
    if not viewer.is_office:
        raise NotFound("page", what)
    return viewer


def _register(status: int = 200, errors: dict[str, str] | None = None,
              values: Any = None) -> Any:
    viewer = signed_in()
    s = shell()
    year = _year()
    rows = s.nckh.submissions.register(viewer, year=year)
    accepting = {r["task_id"]: s.views.events(viewer, r["task_id"]) for r in rows
                 if r["latest"]}
    return page("register.html", status, rows=rows, year=year, events=accepting,
                waiting=s.nckh.submissions.waiting(viewer, now=g.now, year=year),
                errors=errors or {}, values=values or {})


@bp.get("/so-tiep-nhan")
def register() -> Any:
    return _register()


@bp.post("/so-tiep-nhan/<int:task_id>")
def decide(task_id: int) -> Any:
    viewer = _office_only("register")
    try:
        fire_from_form(viewer, task_id)
    except InputError as exc:
        return _register(400, {f"reason-{task_id}": str(exc)}, request.form)
    return redirect(url_for("office.register", done=task_id))


@bp.post("/so-tiep-nhan/ghi-nhan")
def record() -> Any:
    viewer = _office_only("register")
    task_text = request.form.get("task", "")
    try:
        if not task_text.isdigit():
            from workflows.errors import InvalidData

            raise InvalidData("item: choose the report or task the document is for",
                              field="task")
        shell().nckh.submissions.submit(
            int(task_text), actor_email=None, recorded_by=viewer.email,
            channel=request.form.get("channel", ""),
            document=Document(request.form.get("doc_number", ""),
                              request.form.get("doc_date", ""), request.form.get("note")),
            upload=upload() or None, now=g.now)
    except InputError as exc:
        return _register(400, {str(getattr(exc, "field", None) or "_form"): str(exc)},
                         request.form)
    return redirect(url_for("office.register", done=task_text))



@bp.get("/mat-khau")
def password_form() -> Any:
    viewer = _office_only("password")
    return page("password.html", errors={}, values={"email": viewer.email},
                done=request.args.get("done"))


@bp.post("/mat-khau")
def password_set() -> Any:
    """The office sets a password for one of its own people (itself included)."""
    viewer = _office_only("password")
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    if password != request.form.get("repeat", ""):
        return page("password.html", 400, errors={"repeat": "the two passwords differ"},
                    values={"email": email}, done=None)
    try:
        shell().access.set_password(email, password, by=viewer, now=g.now)
    except InputError as exc:
        return page("password.html", 400, errors={"password": str(exc)},
                    values={"email": email}, done=None)
    return redirect(url_for("office.password_form", done=1))
