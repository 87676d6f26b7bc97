"""The signed-in pages: the person's list (overdue first) and an item's page with its actions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, g, redirect, request, url_for

from engine.submissions import MILESTONE
from engine.web.app import page, shell, signed_in
from engine.web.forms import fire_from_form
from workflows import inputs
from workflows.errors import InputError, NotFound
from workflows.visibility import Viewer

bp = Blueprint("pages", __name__)


def _year() -> int:
    text = request.args.get("year", "")
    year = int(text) if text.isdigit() else int(g.now.astimezone(shell().engine.tz).year)
    return inputs.check_year(year)


@bp.get("/trang-chu")
def home() -> Any:
    viewer = signed_in()
    if viewer.role == "unit_head" and viewer.unit_code:
        return redirect(url_for("units.unit_page", code=viewer.unit_code))
    year = _year()
    rows = shell().views.tasks(viewer, now=g.now, year=year, lang=g.lang)
    return page("home.html", rows=rows, year=year)


@bp.get("/nhiem-vu/<int:task_id>")
def item(task_id: int) -> Any:
    return item_page(signed_in(), task_id)


def item_page(viewer: Viewer, task_id: int, status: int = 200,
              errors: Mapping[str, str] | None = None,
              values: Mapping[str, str] | None = None) -> Any:
    s = shell()
    detail = s.views.task(viewer, task_id, now=g.now, lang=g.lang)
    return page("item.html", status, **task_context(viewer, detail, errors, values),
                action=url_for("pages.item_act", task_id=task_id),
                behalf_action=url_for("pages.item_behalf", task_id=task_id),
                submit_action=url_for("units.submit", task_id=task_id))


def task_context(viewer: Viewer, detail: dict[str, Any], errors: Mapping[str, str] | None,
                 values: Mapping[str, str] | None) -> dict[str, Any]:
    """What an item's page shows: its detail, the events the person may fire (the one that
    takes a document apart, with its own form), its submissions."""
    s = shell()
    events = s.views.events(viewer, int(detail["id"]))
    behalf = []
    if viewer.is_office:
        # What the unit may do that the office records for it (a letter came on paper); a
        # report's document goes through the intake register's own form.
        own = {ev.name for ev in events}
        behalf = [ev for ev in s.engine.allowed_events(int(detail["id"]), detail["pi"]["email"])
                  if ev.name not in own and ev.milestone != MILESTONE]
    return {"detail": detail, "events": [ev for ev in events if ev.milestone != MILESTONE],
            "behalf_events": behalf,
            "submit_event": next((ev for ev in events if ev.milestone == MILESTONE), None),
            "submissions": s.nckh.submissions.of_task(int(detail["id"])),
            "errors": dict(errors or {}), "values": values or {},
            "done": request.args.get("done") if errors is None else None}


@bp.post("/nhiem-vu/<int:task_id>")
def item_act(task_id: int) -> Any:
    viewer = signed_in()
    try:
        fire_from_form(viewer, task_id)
    except InputError as exc:
        field = getattr(exc, "field", None) or "_form"
        return item_page(viewer, task_id, 400, {str(field): str(exc)}, request.form)
    return redirect(url_for("pages.item", task_id=task_id, done=1))


@bp.post("/nhiem-vu/<int:task_id>/thay-mat")
def item_behalf(task_id: int) -> Any:
    """The office records a step of the unit's on its behalf; anyone else: no such page."""
    viewer = signed_in()
    if not viewer.is_office:
        raise NotFound("page", "behalf")
    try:
        fire_from_form(viewer, task_id, behalf=True)
    except InputError as exc:
        field = getattr(exc, "field", None) or "_form"
        return item_page(viewer, task_id, 400, {str(field): str(exc)}, request.form)
    return redirect(url_for("pages.item", task_id=task_id, done=1))
