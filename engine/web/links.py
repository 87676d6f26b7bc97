"""Personal action links from e-mails: one person, one item.

GET and HEAD show the item and the buttons the engine allows this person now, and record the
opening; only a POST acts, recorded too, through the same engine call as everywhere else.
A forged, expired or revoked link gets a plain page with a way to ask for a fresh link.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, request

from engine.web.app import browser, client, page, shell
from engine.web.forms import fire_from_form
from workflows.errors import InputError, NotAllowed

bp = Blueprint("links", __name__)


@bp.route("/lien-ket/<int:person_id>-<int:task_id>/<token>", methods=["GET"])
def open_link(person_id: int, task_id: int, token: str) -> Any:
    s = shell()
    try:
        grant = s.access.use_link(person_id, task_id, token, what="open", client=client(),
                                  browser=browser(), now=g.now)
    except NotAllowed as exc:
        return page("bad_link.html", 403, message=str(exc))
    detail = s.views.task(grant.viewer, task_id, now=g.now, lang=g.lang)
    events = s.views.events(grant.viewer, task_id)
    return page("action.html", detail=detail, events=events, person=grant.viewer,
                errors={}, values={}, action=request.path, done=request.args.get("done"))


@bp.route("/lien-ket/<int:person_id>-<int:task_id>/<token>", methods=["POST"])
def act(person_id: int, task_id: int, token: str) -> Any:
    s = shell()
    try:
        grant = s.access.use_link(person_id, task_id, token, what="act", client=client(),
                                  browser=browser(), now=g.now)
    except NotAllowed as exc:
        return page("bad_link.html", 403, message=str(exc))
    try:
        fire_from_form(grant.viewer, task_id)
    except InputError as exc:
        detail = s.views.task(grant.viewer, task_id, now=g.now, lang=g.lang)
        return page("action.html", 400, detail=detail, events=s.views.events(
            grant.viewer, task_id), person=grant.viewer, errors=_errors(exc),
            values=request.form, action=request.path, done=None)
    return redirect(request.path + "?done=1")


def _errors(exc: InputError) -> dict[str, str]:
    field = getattr(exc, "field", None) or "_form"
    return {str(field): str(exc)}
