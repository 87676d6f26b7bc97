"""Personal action links from e-mails: one person, one item.

GET and HEAD show the item and the buttons the engine allows this person now, and record the
opening; only a POST acts, recorded too, through the same engine call as everywhere else.
A forged, expired or revoked link gets a plain page with a way to ask for a fresh link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, g, redirect, request

from engine.web.app import bad_link, browser, client, page, shell
from engine.web.forms import fire_from_form
from engine.web.pages import task_context
from workflows.errors import InputError, NotAllowed
from workflows.visibility import Viewer

bp = Blueprint("links", __name__)


@bp.route("/lien-ket/<int:person_id>-<int:task_id>/<token>", methods=["GET"])
def open_link(person_id: int, task_id: int, token: str) -> Any:
    try:
        grant = shell().access.use_link(person_id, task_id, token, what="open",
                                        client=client(), browser=browser(), now=g.now)
    except NotAllowed as exc:
        return bad_link(exc)
    return link_page(grant.viewer, task_id, request.path)


def link_page(viewer: Viewer, task_id: int, link: str, status: int = 200,
              errors: Mapping[str, str] | None = None,
              values: Mapping[str, str] | None = None) -> Any:
    detail = shell().views.task(viewer, task_id, now=g.now, lang=g.lang)
    return page("action.html", status, **task_context(viewer, detail, errors, values),
                person=viewer, action=link, submit_action=link + "/nop")


@bp.route("/lien-ket/<int:person_id>-<int:task_id>/<token>", methods=["POST"])
def act(person_id: int, task_id: int, token: str) -> Any:
    try:
        grant = shell().access.use_link(person_id, task_id, token, what="act",
                                        client=client(), browser=browser(), now=g.now)
    except NotAllowed as exc:
        return bad_link(exc)
    try:
        fire_from_form(grant.viewer, task_id)
    except InputError as exc:
        field = getattr(exc, "field", None) or "_form"
        return link_page(grant.viewer, task_id, request.path, 400, {str(field): str(exc)},
                         request.form)
    return redirect(request.path + "?done=1")
