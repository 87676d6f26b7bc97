"""The signed-in pages: the person's list (overdue first) and an item's page with its actions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, request, url_for

from engine.web.app import page, shell, signed_in
from engine.web.forms import fire_from_form
from workflows import inputs
from workflows.errors import InputError

bp = Blueprint("pages", __name__)


def _year() -> int:
    text = request.args.get("year", "")
    year = int(text) if text.isdigit() else int(g.now.astimezone(shell().engine.tz).year)
    return inputs.check_year(year)


@bp.get("/trang-chu")
def home() -> Any:
    viewer = signed_in()
    year = _year()
    rows = shell().views.tasks(viewer, now=g.now, year=year, lang=g.lang)
    return page("home.html", rows=rows, year=year)


@bp.get("/nhiem-vu/<int:task_id>")
def item(task_id: int) -> Any:
    viewer = signed_in()
    s = shell()
    detail = s.views.task(viewer, task_id, now=g.now, lang=g.lang)
    return page("item.html", detail=detail, events=s.views.events(viewer, task_id), errors={},
                values={}, action=url_for("pages.item_act", task_id=task_id),
                done=request.args.get("done"))


@bp.post("/nhiem-vu/<int:task_id>")
def item_act(task_id: int) -> Any:
    viewer = signed_in()
    s = shell()
    try:
        fire_from_form(viewer, task_id)
    except InputError as exc:
        detail = s.views.task(viewer, task_id, now=g.now, lang=g.lang)
        field = getattr(exc, "field", None) or "_form"
        return page("item.html", 400, detail=detail, events=s.views.events(viewer, task_id),
                    errors={str(field): str(exc)}, values=request.form,
                    action=url_for("pages.item_act", task_id=task_id), done=None)
    return redirect(url_for("pages.item", task_id=task_id, done=1))
