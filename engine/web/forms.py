"""Reading an event's form into the engine's call: the shell's translation, no rule of its own.

Dates are typed dd/mm/yyyy and handed to the engine as the ISO dates it takes from the CLI's
`--set`; every check (required fields, lengths, who may fire what) is the engine's.
A file chosen on an event's form (the revised outline sent with `resubmit`) goes with the event
through `Submissions.attach`: the same step, with the document recorded in its transaction.
"""

from __future__ import annotations

from flask import g, request

from engine.service import Fired
from engine.submissions import Upload
from engine.web.app import shell
from workflows import inputs
from workflows.errors import InputError, InvalidData
from workflows.visibility import Viewer


def fire_from_form(viewer: Viewer, task_id: int, *, behalf: bool = False) -> Fired:
    """Fire the posted event as the viewer; with `behalf` (the office only), as the task's
    investigator, recorded by the viewer on the unit's behalf (a letter came on paper)."""
    s = shell()
    detail = s.views.task(viewer, task_id, now=g.now, lang=g.lang)  # not visible: NotFound
    event = request.form.get("event", "")
    actor = str(detail["pi"]["email"]) if behalf else viewer.email
    recorded_by = viewer.email if behalf else None
    known = {ev.name: ev for ev in s.engine.allowed_events(task_id, actor)}
    data: dict[str, str] = {}
    spec = known.get(event)
    if spec is not None:
        for f in spec.fields:
            value = request.form.get(f"f_{f.name}", "").strip()
            if not value:
                continue
            if f.type == "date":
                value = inputs.parse_dmy(value, f.label.get(g.lang) if f.label else f.name,
                                         field=f"f_{f.name}").isoformat()
            data[f.name] = value
    reason = request.form.get("reason") or None
    version_text = request.form.get("version", "")
    if version_text and not version_text.isdigit():
        raise InputError("invalid form: version")
    version = int(version_text) if version_text else None
    found = request.files.get("file")
    try:
        if found is not None and found.filename:
            return s.nckh.submissions.attach(
                task_id, event, actor_email=actor, reason=reason, data=data, now=g.now,
                upload=Upload(found.filename, found.read()), expected_version=version,
                recorded_by=recorded_by,
                channel=request.form.get("channel", "paper") if behalf else "web")
        return s.engine.fire(task_id, event, actor_email=actor, reason=reason, data=data,
                             now=g.now, expected_version=version, recorded_by=recorded_by)
    except InvalidData as exc:
        # The engine names an event's field as the workflow does (`until`), the form by its
        # input (`f_until`): the message goes beside the input.
        if spec is not None and exc.field and spec.field(exc.field) is not None:
            exc.field = f"f_{exc.field}"
        raise
