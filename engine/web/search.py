"""The search page: tasks by title, investigator, unit or decision number, within what the
signed-in person may see (`Views.search` decides the scope; this page only shows it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request

from engine.web.app import page, shell, signed_in
from workflows.errors import InputError

bp = Blueprint("search", __name__)


@bp.get("/tim-kiem")
def search() -> Any:
    viewer = signed_in()
    query = request.args.get("q", "")
    try:
        found = shell().views.search(viewer, query, now=g.now, lang=g.lang)
    except InputError as exc:  # too long: said beside the box, nothing searched
        return page("search.html", 400, query=query[:200], found=None,
                    errors={str(getattr(exc, "field", None) or "q"): str(exc)})
    return page("search.html", query=query, found=found, errors={})
