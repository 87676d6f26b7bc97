"""Submissions: a unit's document (a report, a result) arriving for a task, with its file.

A submission fires the task's event that marks it submitted (`milestone: submitted` in the
workflow file: `unit_report`'s `submit`), with the unit's document number as its `reference`,
and records the document in the same transaction: number and date as on the unit's letter, a
note, the channel (web, email, paper), the file, who sent it and — for a paper or e-mailed
document entered by the office — who recorded it. Returned for changes, the task asks for the
document again, and every version stays.

Files: PDF, DOCX or XLSX, told by their content (`filetype`: magic bytes and, for the Office
formats, the parts inside the zip), never by the name or the browser's type; at most the
configured size; a name with a path in it is refused. Stored by SHA-256 (`storage.filestore`).

Any other event may carry a document too (`attach`: the revised outline that answers a request
for revision): the same file rules, the event's reason as the note, recorded with the event in
one transaction. Such a document has no number or date of its own: it is dated the day it came.
A science session's minutes (`minutes_file`) pass the same file rules and are stored the same
way; the session keeps the stored file's path, as it keeps the path the CLI is given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype

from engine.service import Engine, Fired
from storage import filestore
from storage import submissions as rows
from storage.db import Session
from storage.webmodels import StoredFile, Submission
from workflows import inputs
from workflows.errors import InvalidData, NotAllowed, NotFound
from workflows.visibility import Viewer, may_see

TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHANNELS = ("web", "email", "paper")
MILESTONE = "submitted"


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes


@dataclass(frozen=True)
class Document:
    """As typed on the form: the unit's document number, its date (dd/mm/yyyy), a note."""

    number: str
    date: str
    note: str | None = None


@dataclass(frozen=True)
class CheckedFile:
    name: str
    extension: str
    content_type: str
    content: bytes


def check_upload(upload: Upload | None, limit: int) -> CheckedFile:
    if upload is None or not upload.content:
        raise InvalidData("file: choose a PDF, DOCX or XLSX file", field="file")
    raw = upload.name or ""
    if any(bad in raw for bad in ("/", "\\", "..")) or raw.startswith("."):
        raise InvalidData(f"file name '{inputs.printable(raw)[:80]}' may not contain '/', '\\' "
                          "or '..', nor start with '.'", field="file")
    name = inputs.clean_text(raw, "file name", limit=255, field="file")
    if len(upload.content) > limit:
        raise InvalidData(f"file '{name}' is {len(upload.content) / 1048576:.1f} MB, more than "
                          f"the limit of {limit / 1048576:.0f} MB", field="file")
    kind = filetype.guess(upload.content)
    extension = kind.extension if kind is not None else None
    if extension not in TYPES:
        raise InvalidData(f"file '{name}' is not a PDF, DOCX or XLSX file (its content is "
                          f"{extension or 'of an unknown type'})", field="file")
    return CheckedFile(name, extension, TYPES[extension], upload.content)


def check_document(doc: Document) -> tuple[str, dt.date, str | None]:
    number = inputs.clean_text(doc.number or "", "document number", limit=100,
                               field="doc_number")
    day = inputs.parse_dmy(doc.date, "document date", field="doc_date")
    note = (inputs.clean_text(doc.note, "note", limit=2000, multiline=True, field="note")
            if doc.note and doc.note.strip() else None)
    return number, day, note


class Submissions:
    def __init__(self, engine: Engine, files_dir: Path, limit: int) -> None:
        self.engine = engine
        self.files_dir = files_dir
        self.limit = limit

    def submit(self, task_id: int, *, actor_email: str | None, document: Document,
               upload: Upload | None, now: dt.datetime, channel: str = "web",
               recorded_by: str | None = None, expected_version: int | None = None) -> Fired:
        """Submit a document for a task as `actor_email`; with `recorded_by` (the office), on
        the task's unit's behalf, as its investigator unless `actor_email` names another."""
        if channel not in CHANNELS:
            raise InvalidData(f"channel '{inputs.printable(channel)}': expected one of "
                              f"{', '.join(CHANNELS)}", field="channel")
        number, day, note = check_document(document)
        checked = check_upload(upload, self.limit) if upload is not None or channel == "web" \
            else None
        detail = self.engine.task_detail(task_id, now=now)
        actor = actor_email or (detail["pi"]["email"] if recorded_by else None)
        if actor is None:
            raise InvalidData("who sends the document?", field="actor")
        events = [ev for ev in self.engine.allowed_events(task_id, actor)
                  if ev.milestone == MILESTONE]
        if not events:
            raise NotAllowed(f"task {task_id}: {actor} has nothing to submit now (state "
                             f"'{detail['state']}')")
        event = events[0]
        data = {"reference": number} if event.field("reference") else {}
        sha = filestore.put(self.files_dir, checked.content) if checked else None

        def record(s: Session, fired: Fired) -> None:
            sender = self.engine.actor(s, actor)  # checked by the step just written
            stored = None
            if checked is not None and sha is not None:
                stored = StoredFile(sha256=sha, name=checked.name, size=len(checked.content),
                                    content_type=checked.content_type,
                                    uploaded_by=sender.id, uploaded_at=now)
                rows.add(s, stored)
            recorder = self.engine.actor(s, recorded_by) if recorded_by else None
            rows.add(s, Submission(
                task_id=task_id, history_id=fired.history_id,
                file_id=stored.id if stored else None, doc_number=number, doc_date=day,
                note=note, channel=channel, submitted_by=sender.id,
                recorded_by=recorder.id if recorder else None, received_at=now))

        return self.engine.fire(task_id, event.name, actor_email=actor, data=data, now=now,
                                expected_version=expected_version, recorded_by=recorded_by,
                                then=record)

    def attach(self, task_id: int, event: str, *, actor_email: str, upload: Upload,
               reason: str | None, data: dict[str, str], now: dt.datetime,
               expected_version: int | None = None, recorded_by: str | None = None,
               channel: str = "web") -> Fired:
        """Fire `event` as `actor_email` with a document attached; the engine decides whether
        they may, exactly as without one. The reason is the document's note. `recorded_by`:
        the office enters it on the unit's behalf (it came on paper or by e-mail)."""
        if channel not in CHANNELS:
            raise InvalidData(f"channel '{inputs.printable(channel)}': expected one of "
                              f"{', '.join(CHANNELS)}", field="channel")
        if any(ev.name == event and ev.milestone == MILESTONE
               for ev in self.engine.allowed_events(task_id, actor_email)):
            # A report's document goes with its number and date (`submit`), never without.
            raise InvalidData(f"event '{event}' sends the unit's document: give its number and "
                              "date on the document's own form", field="event")
        checked = check_upload(upload, self.limit)
        note = inputs.optional_text(reason, "reason", limit=inputs.LIMITS["reason"],
                                    multiline=True, field="reason")
        sha = filestore.put(self.files_dir, checked.content)

        def record(s: Session, fired: Fired) -> None:
            sender = self.engine.actor(s, actor_email)
            stored = StoredFile(sha256=sha, name=checked.name, size=len(checked.content),
                                content_type=checked.content_type, uploaded_by=sender.id,
                                uploaded_at=now)
            rows.add(s, stored)
            recorder = self.engine.actor(s, recorded_by) if recorded_by else None
            rows.add(s, Submission(
                task_id=task_id, history_id=fired.history_id, file_id=stored.id,
                doc_number="", doc_date=now.astimezone(self.engine.tz).date(), note=note,
                channel=channel, submitted_by=sender.id,
                recorded_by=recorder.id if recorder else None, received_at=now))

        return self.engine.fire(task_id, event, actor_email=actor_email, reason=reason,
                                data=data, now=now, expected_version=expected_version,
                                recorded_by=recorded_by, then=record)

    def minutes_file(self, upload: Upload) -> str:
        """A session's minutes, checked and stored: the path the session records."""
        checked = check_upload(upload, self.limit)
        sha = filestore.put(self.files_dir, checked.content)
        return str(filestore.path_of(self.files_dir, sha))

    def of_task(self, task_id: int) -> list[dict[str, Any]]:
        with self.engine.transaction(read_only=True) as s:
            return [_row(sub, f, sender, recorder, self.engine.tz)
                    for sub, f, sender, recorder in rows.of_task(s, task_id)]

    def register(self, viewer: Viewer, *, year: int | None) -> list[dict[str, Any]]:
        """The intake register (sổ tiếp nhận), newest first: the office's only."""
        if not viewer.is_office:
            raise NotFound("page", "register")
        with self.engine.transaction(read_only=True) as s:
            out = []
            for sub, task, f, sender, recorder in rows.register(s, year=year):
                row = _row(sub, f, sender, recorder, self.engine.tz)
                wf = self.engine.workflow_of(s, task)
                row.update(unit=task.unit.code, unit_name=task.unit.name, title=task.title,
                           state=task.state, state_label=wf.states[task.state].labels.get("vi"),
                           version=task.version, latest=False)
                out.append(row)
            seen: set[int] = set()
            for row in out:  # newest first: the first of each task is its latest submission
                row["latest"] = row["task_id"] not in seen
                seen.add(row["task_id"])
            return out

    def waiting(self, viewer: Viewer, *, now: dt.datetime, year: int) -> list[dict[str, Any]]:
        """The office's choice of items a document may be recorded for: every task whose
        investigator may submit one now."""
        if not viewer.is_office:
            raise NotFound("page", "register")
        rows_ = self.engine.list_tasks(now=now, year=year)
        return [r for r in rows_ if any(ev.milestone == MILESTONE for ev in
                                        self.engine.allowed_events(int(r["id"]), r["pi"]))]

    def download(self, viewer: Viewer, file_id: int) -> tuple[str, str, bytes]:
        """(name, type, content) of a stored file, for someone who may see its task."""
        with self.engine.transaction(read_only=True) as s:
            found = rows.file_with_task(s, inputs.check_id("file", file_id))
            if found is None or not may_see(viewer, unit_id=found[1].unit_id,
                                            pi_id=found[1].pi_id, council_acts=False):
                raise NotFound("file", file_id)
            stored = found[0]
            return stored.name, stored.content_type, filestore.read(self.files_dir,
                                                                    stored.sha256)


def _row(sub: Submission, f: StoredFile | None, sender: Any, recorder: Any,
         tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "id": sub.id, "task_id": sub.task_id, "doc_number": sub.doc_number,
        "doc_date": sub.doc_date.isoformat(), "note": sub.note, "channel": sub.channel,
        "received_at": sub.received_at.astimezone(tz).isoformat(),
        "sender": sender.name, "sender_email": sender.email,
        "recorded_by": recorder.name if recorder else None,
        "file": None if f is None else {"id": f.id, "name": f.name, "size": f.size,
                                        "type": f.content_type, "sha256": f.sha256},
    }
