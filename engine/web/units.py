"""A unit's page (built in `unitforms.py`, with its forms), submitting a document (signed in
or through a personal link), downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, redirect, request, url_for

from engine.submissions import Document, Upload
from engine.web.app import bad_link, browser, client, shell, signed_in
from workflows.errors import InputError, NotAllowed
from workflows.visibility import Viewer

bp = Blueprint("units", __name__)


@bp.get("/don-vi/<code>")
def unit_page(code: str) -> Any:
    from engine.web.unitforms import unit_view

    return unit_view(signed_in(), code)


def upload() -> Upload | None:
    found = request.files.get("file")
    if found is None or not found.filename:
        return None
    return Upload(found.filename, found.read())


def document() -> Document:
    return Document(request.form.get("doc_number", ""), request.form.get("doc_date", ""),
                    request.form.get("note"))


def submit_as(viewer: Viewer, task_id: int) -> None:
    s = shell()
    s.views.task(viewer, task_id, now=g.now, lang=g.lang)  # not visible: as if absent
    version = request.form.get("version", "")
    s.nckh.submissions.submit(task_id, actor_email=viewer.email, document=document(),
                              upload=upload() or Upload("", b""), now=g.now,
                              expected_version=int(version) if version.isdigit() else None)


@bp.post("/nhiem-vu/<int:task_id>/nop")
def submit(task_id: int) -> Any:
    viewer = signed_in()
    try:
        submit_as(viewer, task_id)
    except InputError as exc:
        from engine.web.pages import item_page

        return item_page(viewer, task_id, 400, {str(getattr(exc, "field", None) or "_form"):
                                                str(exc)}, request.form)
    return redirect(url_for("pages.item", task_id=task_id, done=1))


@bp.post("/lien-ket/<int:person_id>-<int:task_id>/<token>/nop")
def submit_by_link(person_id: int, task_id: int, token: str) -> Any:
    s = shell()
    try:
        grant = s.access.use_link(person_id, task_id, token, what="act", client=client(),
                                  browser=browser(), now=g.now)
    except NotAllowed as exc:
        return bad_link(exc)
    link = url_for("links.open_link", person_id=person_id, task_id=task_id, token=token)
    try:
        submit_as(grant.viewer, task_id)
    except InputError as exc:
        from engine.web.links import link_page

        return link_page(grant.viewer, task_id, link, 400,
                         {str(getattr(exc, "field", None) or "_form"): str(exc)}, request.form)
    return redirect(link + "?done=1")


@bp.get("/tep/<int:file_id>")
def download(file_id: int) -> Any:
    viewer = signed_in()
    name, content_type, content = shell().nckh.submissions.download(viewer, file_id)
    if not content:
        abort(404)
    response = Response(content, mimetype=content_type)
    from werkzeug.http import dump_options_header

    response.headers["Content-Disposition"] = dump_options_header(
        "attachment", {"filename": name})
    return response
