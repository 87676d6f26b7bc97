"""The province dashboard page: the office's daily view."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request, url_for

from engine.reports.dashboard import COLOURS
from engine.web.app import page, say, shell, signed_in
from engine.web.boardrows import board_rows
from engine.web.pages import _year
from workflows.model import RESEARCH_LEVELS

bp = Blueprint("dashboard", __name__)


@bp.get("/bang-dieu-khien")
def board() -> Any:
    viewer = signed_in()
    s = shell()
    kind = request.args.get("kind") or None
    level = request.args.get("level") or None
    words = s.nckh.catalog.words.get("obligations", {})
    labels = {key: str(v.get(g.lang) or v.get("vi") or key) for key, v in words.items()}
    calendar = s.nckh.config.scheduler.calendar
    data = s.views.dashboard(viewer, year=_year(), today=g.now.astimezone(s.engine.tz).date(),
                             legal_end=calendar.legal_end, labels=labels, unit_kind=kind,
                             level=level, lang=g.lang)
    names = {state: say(f"cell_{state}") for state in COLOURS}
    body = board_rows(data["rows"], names=names, overdue=say("overdue").lower(),
                      unit_base=url_for("units.unit_page", code="X")[:-1],
                      item_base=url_for("pages.item", task_id=1)[:-1], lang=g.lang)
    registry = s.engine.registry
    levels = [(name, registry.for_level(name).labels.get(g.lang))
              for name in sorted(RESEARCH_LEVELS)]
    return page("dashboard.html", board=data, kind=kind or "", body=body, level=level or "",
                levels=levels)
