"""A unit's publications register on the web: the list and the form "Thêm bài báo / công bố".

The unit's own people (its head, its investigators, its contact once registered in the unit)
and the office reach `/don-vi/<code>/cong-bo`; anyone else gets "not found", as for a unit that
does not exist. The form posts to the same address (CSRF token, labels on every field, the date
typed dd/mm/yyyy, works without JavaScript); a wrong field is shown beside it with the engine's
message and nothing is saved. Every rule — who may record for which unit, which task may be
linked, the fields — is the engine's (`Engine.add_publication`); this module only reads the form.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, redirect, request, url_for

from engine.directory_log import Operator
from engine.publications import (
    LABELS,
    VENUE_KINDS,
    Attachment,
    KeptFile,
    PublicationInput,
    keep_file,
    read_kept,
)
from engine.web.app import page, shell, signed_in
from engine.web.i18n import WORDS
from workflows import inputs
from workflows.errors import Conflict, InputError, InvalidData, NotAllowed, NotFound
from workflows.model import RESEARCH_LEVELS
from workflows.visibility import Viewer

bp = Blueprint("publications", __name__)

# The form's words, kept beside it (added to the app's dictionary, never replacing a key).
_WORDS: dict[str, dict[str, str]] = {
    "pub_register": {"vi": "Bài báo, công bố", "en": "Publications"},
    "pub_add": {"vi": "Thêm bài báo / công bố", "en": "Add an article / publication"},
    "pub_none": {"vi": "Chưa có bài báo, công bố nào được ghi nhận.",
                 "en": "No publication recorded yet."},
    "pub_title": {"vi": "Tên bài báo / công bố", "en": "Title"},
    "pub_authors": {"vi": "Tác giả", "en": "Authors"},
    "pub_kind": {"vi": "Loại nơi công bố", "en": "Kind of venue"},
    "pub_venue": {"vi": "Tên tạp chí / hội nghị / trang tin", "en": "Journal / conference / site"},
    "pub_venue_hint": {"vi": "Để trống nếu đăng trên trang thông tin của đơn vị",
                       "en": "Leave empty for the unit's own website"},
    "pub_date": {"vi": "Ngày công bố (dd/mm/yyyy)", "en": "Published on (dd/mm/yyyy)"},
    "pub_url": {"vi": "Địa chỉ trang (URL)", "en": "Address (URL)"},
    "pub_doi": {"vi": "Mã DOI", "en": "DOI"},
    "pub_task": {"vi": "Thuộc nhiệm vụ (nếu có)", "en": "Of the task (if any)"},
    "pub_saved": {"vi": "Đã ghi nhận bài báo / công bố.", "en": "Publication recorded."},
    "pub_link": {"vi": "Bài báo, công bố của đơn vị", "en": "The unit's publications"},
}
for _key, _value in _WORDS.items():
    WORDS.setdefault(_key, _value)

FIELDS = ("title", "authors", "venue_kind", "venue_name", "published_on", "url", "doi", "task",
          "file")


def _register(viewer: Viewer, code: str) -> list[dict[str, Any]]:
    """The unit's publications as the viewer may see them (another unit's: "not found")."""
    try:
        return shell().engine.list_publications(unit_code=code, viewer_email=viewer.email,
                                                lang=g.lang)
    except NotAllowed:  # the council, someone of no unit: as if the unit did not exist
        raise NotFound("unit", code) from None


def _form(viewer: Viewer, code: str, status: int = 200, errors: dict[str, str] | None = None,
          values: Any = None) -> Any:
    s = shell()
    rows = _register(viewer, code)
    unit = s.engine.unit_detail(code)
    tasks = [t for t in s.views.tasks(viewer, now=g.now, year=None, lang=g.lang,
                                      unit=str(unit["code"]))
             if t["level"] in RESEARCH_LEVELS and t["unit"] == unit["code"]]
    for r in rows:  # a task's title links to it only for whoever may open it
        r["task_link"] = r["task_id"] in {t["id"] for t in tasks}
    return page("publications.html", status, unit=unit, rows=rows, tasks=tasks,
                kinds=[(k, LABELS[k].get(g.lang) or LABELS[k]["vi"]) for k in VENUE_KINDS],
                errors=errors or {}, values=values or {}, done=request.args.get("done"))


@bp.get("/don-vi/<code>/cong-bo")
def register(code: str) -> Any:
    return _form(signed_in(), code)


def _upload() -> Attachment | None:
    found = request.files.get("file")
    if found is None or not found.filename:
        return None
    return Attachment(found.filename, found.read())


def _data(code: str) -> PublicationInput:
    form = request.form
    task_text = form.get("task", "").strip()
    if task_text and not task_text.isdigit():
        raise InvalidData("task: choose one of the unit's tasks", field="task")
    return PublicationInput(
        unit_code=code, title=form.get("title", ""), authors=form.get("authors", ""),
        venue_kind=form.get("venue_kind", ""), venue_name=form.get("venue_name") or None,
        published_on=inputs.parse_dmy(form.get("published_on", ""), "date",
                                      field="published_on"),
        url=form.get("url") or None, doi=form.get("doi") or None,
        task_id=int(task_text) if task_text else None)


@bp.post("/don-vi/<code>/cong-bo")
def add(code: str) -> Any:
    viewer = signed_in()
    _register(viewer, code)  # another unit's form: "not found" before reading anything
    s = shell()
    try:
        data = _data(code)
        upload = _upload()
        kept: KeptFile | None = (keep_file(s.nckh.submissions.files_dir, s.upload_limit, upload)
                                 if upload is not None else None)
        new_id = s.engine.add_publication(data, now=g.now, kept=kept,
                                          operator=Operator("web", viewer.email))
    except InputError as exc:
        field = str(getattr(exc, "field", None) or "_form")
        return _form(viewer, code, 400, {field if field in FIELDS else "_form": str(exc)},
                     request.form)
    except Conflict as exc:  # the same article already recorded: said on the form
        return _form(viewer, code, 409, {"_form": str(exc)}, request.form)
    return redirect(url_for("publications.register", code=code, done=new_id))


@bp.get("/cong-bo/tep/<int:file_id>")
def download(file_id: int) -> Any:
    viewer = signed_in()
    s = shell()
    try:
        name, content_type, sha = s.engine.publication_file(file_id, viewer_email=viewer.email)
    except NotAllowed:
        raise NotFound("file", file_id) from None
    response = Response(read_kept(s.nckh.submissions.files_dir, sha),
                        mimetype=content_type)
    from werkzeug.http import dump_options_header

    response.headers["Content-Disposition"] = dump_options_header("attachment",
                                                                  {"filename": name})
    return response
