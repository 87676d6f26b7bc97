"""Recording and listing the units' publications (bài báo, công bố) — the rules.

The seeds count articles, not tasks that reached "published": several per topic, in domestic or
international journals, at conferences, on the unit's own website (Cổng/Trang thông tin điện
tử, seed 003). A publication belongs to a unit and, optionally, to one of its research tasks.

Rules, each refused in one line with the database unchanged:
- the unit must exist and be active; a task, when named, must exist, be a research task (not a
  report obligation) and belong to that unit;
- title and authors are one-line text within their limits; the venue kind one of
  `VENUE_KINDS`; the venue's name is required except on the unit's website (the unit's name);
- the day it was published a real day, not after today;
- a URL is http(s); a DOI looks like 10.NNNN/… (a doi.org address or "doi:" prefix is taken
  off); the unit's website needs its URL (a web page is found by its address);
- the same title in the same venue on the same day is recorded once per unit (letter case
  aside; a unique key on its hash holds it against two clicks at once);
- with a person (`--as`, or the web's signed-in person): active, and of the office or registered
  in that unit (its head, its investigators, its contact once registered as a person of the
  unit); an investigator links only a task they lead.

`from_publish` turns a `publish` fired with a URL into a row of the register (the unit's
website: seed 003 asks units to publish recognised results on their own portal).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import registers
from engine.directory import find_person, find_unit
from engine.directory_log import Operator
from engine.registers import listing_scope
from storage import filestore
from storage import publications as rows
from storage.db import Session
from storage.models import Person, Task, Unit
from storage.publications import VENUE_KINDS as VENUE_KINDS  # the shells' list of kinds
from storage.publications import Publication
from storage.webmodels import StoredFile
from workflows import inputs
from workflows.dates import shown
from workflows.errors import Conflict, InvalidData, NotAllowed, NotFound, Refused
from workflows.model import RESEARCH_LEVELS

TITLE_LIMIT = 1000
AUTHORS_LIMIT = 1000
VENUE_LIMIT = 300
URL_LIMIT = 2000
DOI_LIMIT = 200
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:")
WEBSITE = "unit_website"
# Journals in Vietnam and abroad are what the plans count; the rest count in the total only.
DOMESTIC, INTERNATIONAL = "journal_domestic", "journal_international"
LABELS = {
    "journal_domestic": {"vi": "Tạp chí trong nước", "en": "Domestic journal"},
    "journal_international": {"vi": "Tạp chí quốc tế", "en": "International journal"},
    "conference": {"vi": "Hội nghị, hội thảo khoa học", "en": "Conference"},
    "unit_website": {"vi": "Trang thông tin điện tử của đơn vị", "en": "Unit's website"},
    "other": {"vi": "Khác", "en": "Other"},
}
CSV_COLUMNS = (("id", "Mã"), ("unit", "Đơn vị"), ("date", "Ngày công bố"),
               ("title", "Tên bài báo / công bố"), ("authors", "Tác giả"),
               ("venue_label", "Loại"), ("venue_name", "Nơi công bố"), ("url", "Địa chỉ (URL)"),
               ("doi", "DOI"), ("task_id", "Nhiệm vụ"), ("task_title", "Tên nhiệm vụ"))


@dataclass(frozen=True)
class PublicationInput:
    """As the CLI or the web form hands it in; `unit_code` may be left out when a task is
    named (the task's unit is then the publication's)."""

    unit_code: str | None
    title: str
    authors: str
    venue_kind: str
    published_on: dt.date
    venue_name: str | None = None
    url: str | None = None
    doi: str | None = None
    task_id: int | None = None


@dataclass(frozen=True)
class Attachment:
    """A file chosen for the publication (the article as PDF, DOCX or XLSX)."""

    name: str
    content: bytes


@dataclass(frozen=True)
class KeptFile:
    """An attachment checked and written to the file store, not yet in the database."""

    sha256: str
    name: str
    content_type: str
    size: int


def keep_file(files_dir: Path, limit: int, attachment: Attachment) -> KeptFile:
    """Check the file (by its content, as submissions do) and write it to the content-addressed
    store. Written before the database row: a refused publication leaves at most a file no row
    points at, never a row without its file."""
    from engine.submissions import Upload, check_upload

    checked = check_upload(Upload(attachment.name, attachment.content), limit)
    sha = filestore.put(files_dir, checked.content)
    return KeptFile(sha, checked.name, checked.content_type, len(checked.content))


def read_kept(files_dir: Path, sha256: str) -> bytes:
    """A kept file's content (the shells serve it; they do not reach into storage)."""
    return filestore.read(files_dir, sha256)


def _doi(text: str | None) -> str | None:
    value = inputs.optional_text(text, "DOI", limit=DOI_LIMIT, field="doi")
    if value is None:
        return None
    for prefix in DOI_PREFIXES:
        if value.lower().startswith(prefix):
            value = value[len(prefix):].strip()
    if not DOI_RE.match(value):
        raise InvalidData(f"DOI '{inputs.printable(value)}': expected 10.NNNN/… "
                          "(e.g. 10.51298/vmj.v540i1.1234)", field="doi")
    return value


def _url(text: str | None) -> str | None:
    value = inputs.optional_text(text, "URL", limit=URL_LIMIT, field="url")
    if value is not None and not URL_RE.match(value):
        raise InvalidData(f"URL '{inputs.printable(value)[:120]}' is not an http(s) address",
                          field="url")
    return value


def _task(session: Session, task_id: int, unit: Unit | None) -> Task:
    task = session.get(Task, inputs.check_id("task", task_id))
    if task is None:
        raise NotFound("task", task_id)
    if task.level not in RESEARCH_LEVELS:
        raise InvalidData(f"task {task_id} is a report obligation, not a research task: a "
                          "publication reports on a topic or initiative", field="task")
    if unit is not None and task.unit_id != unit.id:
        raise Refused(f"task {task_id} belongs to unit {task.unit.code}, not {unit.code}: a "
                      "unit records publications of its own tasks only")
    return task


def _person(session: Session, operator: Operator) -> Person | None:
    return find_person(session, operator.acting_as) if operator.acting_as else None


def may_record(person: Person, unit: Unit) -> bool:
    """The office, or someone registered in the unit: its head, its investigators, its contact
    (thư ký KHCN) once registered as a person of the unit."""
    return person.role == "office" or person.unit_id == unit.id


def _check_recorder(person: Person | None, unit: Unit, task: Task | None) -> None:
    if person is None:
        return
    if not person.active:
        raise NotAllowed(f"{person.email} is inactive and may not record a publication")
    if not may_record(person, unit):
        raise NotAllowed(f"{person.email} is neither of the office nor of unit {unit.code} and "
                         "may not record its publications")
    if task is not None and person.role == "pi" and task.pi_id != person.id:
        raise NotAllowed(f"{person.email} does not lead task {task.id}: an investigator links "
                         "a publication to their own tasks only")


def record(session: Session, data: PublicationInput, *, today: dt.date, now: dt.datetime,
           operator: Operator, kept: KeptFile | None = None) -> Publication:
    if data.unit_code is None and data.task_id is None:
        raise InvalidData("name the unit (or a task of it)", field="unit")
    unit = find_unit(session, data.unit_code) if data.unit_code is not None else None
    task = _task(session, data.task_id, unit) if data.task_id is not None else None
    if unit is None:
        assert task is not None
        unit = task.unit
    if not unit.active:
        raise Refused(f"unit {unit.code} is inactive: it records no new publication")
    title = inputs.clean_text(data.title, "title", limit=TITLE_LIMIT, field="title")
    authors = inputs.clean_text(data.authors, "authors", limit=AUTHORS_LIMIT, field="authors")
    if data.venue_kind not in VENUE_KINDS:
        raise InvalidData(f"venue kind '{inputs.printable(data.venue_kind)[:40]}': expected one "
                          f"of {', '.join(VENUE_KINDS)}", field="venue_kind")
    venue = inputs.optional_text(data.venue_name, "venue", limit=VENUE_LIMIT,
                                 field="venue_name")
    if venue is None:
        if data.venue_kind != WEBSITE:
            raise InvalidData("venue: name the journal, conference or site where it appeared",
                              field="venue_name")
        venue = unit.name
    day = inputs.check_date(data.published_on, "date", shown=shown(data.published_on),
                            field="published_on")
    if day > today:
        raise InvalidData(f"date {shown(day)} is in the future: record a publication once it "
                          f"has appeared (today is {shown(today)})", field="published_on")
    url, doi = _url(data.url), _doi(data.doi)
    if data.venue_kind == WEBSITE and url is None:
        raise InvalidData("URL: a publication on the unit's website needs its address",
                          field="url")
    person = _person(session, operator)
    _check_recorder(person, unit, task)
    if rows.exists(session, unit.id, title, venue, day):
        raise Conflict(f"unit {unit.code} already has '{title[:60]}' in {venue[:60]} on "
                       f"{shown(day)}")
    stored = None
    if kept is not None:
        if person is None:
            raise InvalidData("a file needs the person it is recorded for (--as)", field="file")
        stored = rows.add_file(session, StoredFile(
            sha256=kept.sha256, name=kept.name, content_type=kept.content_type,
            size=kept.size, uploaded_by=person.id, uploaded_at=now))
    return rows.add(session, Publication(
        unit_id=unit.id, task_id=task.id if task else None, title=title, authors=authors,
        venue_kind=data.venue_kind, venue_name=venue, published_on=day, url=url, doi=doi,
        file_id=stored.id if stored else None, recorded_at=now,
        recorded_by=operator.login, acting_as=operator.acting_as,
        fingerprint=rows.fingerprint(unit.id, title, venue, day)))


def from_publish(session: Session, task_id: int, *, url: str, on: dt.date, now: dt.datetime,
                 recorded_by: str) -> Publication | None:
    """The `publish` event's URL as a publication of the task on its unit's website: title the
    task's, authors its investigator. The event already checked the URL and who fired it; a
    task published twice at one address is one publication."""
    if rows.of_task(session, task_id, url=url) is not None:
        return None
    task = session.get(Task, task_id)
    assert task is not None  # the step on it was just written
    if rows.exists(session, task.unit_id, task.title, task.unit.name, on):
        return None  # entered by hand already, that day: the step must not fail for it
    return rows.add(session, Publication(
        unit_id=task.unit_id, task_id=task.id, title=task.title, authors=task.pi.name,
        venue_kind=WEBSITE, venue_name=task.unit.name, published_on=on, url=url, doi=None,
        file_id=None, recorded_at=now, recorded_by=recorded_by[:320], acting_as=None,
        fingerprint=rows.fingerprint(task.unit_id, task.title, task.unit.name, on)))


def row(p: Publication, lang: str = "vi") -> dict[str, Any]:
    return {
        "id": p.id, "unit": p.unit.code, "unit_name": p.unit.name, "date": shown(p.published_on),
        "published_on": p.published_on.isoformat(), "title": p.title, "authors": p.authors,
        "venue_kind": p.venue_kind, "venue_label": LABELS[p.venue_kind].get(lang),
        "venue_name": p.venue_name, "url": p.url, "doi": p.doi, "task_id": p.task_id,
        "task_title": p.task.title if p.task else None, "task_pi_id": p.task.pi_id if p.task
        else None,
        "file": None if p.file is None else {"id": p.file.id, "name": p.file.name},
        "recorded_by": p.recorded_by, "acting_as": p.acting_as,
    }


def listed(session: Session, *, unit_code: str | None, year: int | None,
           viewer_email: str | None = None, lang: str = "vi") -> list[dict[str, Any]]:
    """Oldest first; with `viewer_email`, what that person may see (engine.registers)."""
    unit_id, start, end = listing_scope(session, unit_code=unit_code, year=year,
                                        viewer_email=viewer_email)
    return [row(p, lang) for p in rows.listed(session, unit_id=unit_id, start=start, end=end)]


def to_csv(found: Sequence[dict[str, Any]], delimiter: str = ";") -> str:
    return registers.to_csv(found, CSV_COLUMNS, delimiter)
