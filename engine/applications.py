"""The application of accepted results (ứng dụng kết quả sau nghiệm thu) — the rules.

After its acceptance a task's result is put to use: applied in its own unit or another
(`applied`), transferred as a technique (`transfer`, chuyển giao kỹ thuật: to a private hospital,
a trạm y tế or TTYT of a lower level...) or shared under a cooperation agreement (`cooperation`).
Each is a row: the receiving place (a registered unit by its code, or an outside body by name),
what kind of place it is, the day it applies from, and the contract or agreement when there is
one. The compilation's detail list sums them up per task as of its day
(engine/reports/compilation.py `application_summary`).

Rules, each refused in one line with the database unchanged:
- the task exists, is a research task, and has reached `accepted` (its history's milestone): a
  result must exist before it is applied (exit 2 before the acceptance);
- kind one of `KINDS`, receiver kind one of `RECEIVER_KINDS` (Vietnamese without marks taken
  too); `same_unit` means the task's own unit, and a transfer or an agreement is with someone
  else, never the task's own unit;
- `since` a real day, not after today nor before the acceptance; the document's day likewise not
  after today; texts one line within their limits;
- the same kind at the same place from the same day is recorded once per task;
- with a person (`--as`, or the web's signed-in person): active, and of the office, the head of
  the task's unit or the task's investigator. A unit head (or investigator) lists their unit's
  applications only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine import registers
from engine.councils import accepted_on, research_task
from engine.directory import find_person
from engine.directory_log import Operator
from engine.registers import listing_scope
from storage import applications as rows
from storage import directory as units
from storage.applications import KINDS as KINDS
from storage.applications import RECEIVER_KINDS as RECEIVER_KINDS
from storage.applications import Application
from storage.db import Session
from storage.models import Task
from workflows import inputs
from workflows.dates import shown
from workflows.errors import Conflict, InvalidData, NotAllowed
from workflows.model import Workflow

PLACE_LIMIT = 300
DOC_LIMIT = 100
NOTE_LIMIT = 1000
LABELS = {
    "applied": {"vi": "Áp dụng", "en": "Applied"},
    "transfer": {"vi": "Chuyển giao kỹ thuật", "en": "Technology transfer"},
    "cooperation": {"vi": "Thỏa thuận hợp tác", "en": "Cooperation agreement"},
    "same_unit": {"vi": "Tại đơn vị", "en": "The task's own unit"},
    "public_province": {"vi": "Cơ sở công lập trong tỉnh", "en": "Public unit in the province"},
    "private_hospital": {"vi": "Bệnh viện tư nhân", "en": "Private hospital"},
    "lower_level": {"vi": "Tuyến dưới (trạm y tế, TTYT)", "en": "Lower level"},
    "outside_province": {"vi": "Ngoài tỉnh", "en": "Outside the province"},
}
# What people type (Vietnamese without marks, or English) -> the stored value.
KIND_NAMES = {"applied": "applied", "ap-dung": "applied", "transfer": "transfer",
              "chuyen-giao": "transfer", "cooperation": "cooperation", "hop-tac": "cooperation"}
RECEIVER_NAMES = {**{k: k for k in RECEIVER_KINDS}, "tai-don-vi": "same_unit",
                  "cong-lap": "public_province", "tu-nhan": "private_hospital",
                  "tuyen-duoi": "lower_level", "ngoai-tinh": "outside_province"}
CSV_COLUMNS = (("id", "Mã"), ("unit", "Đơn vị chủ trì"), ("task_id", "Nhiệm vụ"),
               ("task_title", "Tên nhiệm vụ"), ("kind_label", "Hình thức"),
               ("place", "Nơi áp dụng / nhận chuyển giao"), ("receiver_label", "Loại nơi nhận"),
               ("since", "Từ ngày"), ("doc_no", "Số hợp đồng / thỏa thuận"),
               ("doc_date", "Ngày ký"), ("note", "Ghi chú"))


@dataclass(frozen=True)
class ApplicationInput:
    """As the CLI or a form hands it in: `where` is a unit's code or an outside body's name."""

    task_id: int
    kind: str
    where: str
    receiver_kind: str
    since: dt.date
    doc_no: str | None = None
    doc_date: dt.date | None = None
    note: str | None = None


def _name(table: dict[str, str], text: str, what: str, field: str) -> str:
    key = text.strip().lower().replace("_", "-").replace(" ", "-")
    if key in table:
        return table[key]
    if text.strip() in table.values():
        return text.strip()
    expected = ", ".join(dict.fromkeys(table.values()))
    raise InvalidData(f"{what} '{inputs.printable(text)[:40]}': expected one of {expected}",
                      field=field)


def _day(day: dt.date, what: str, today: dt.date, field: str) -> dt.date:
    inputs.check_date(day, what, shown=shown(day), field=field)
    if day > today:
        raise InvalidData(f"{what} {shown(day)} is in the future (today is {shown(today)})",
                          field=field)
    return day


def check_recorder(session: Session, operator: Operator, task: Task) -> None:
    """The office, the head of the task's unit or the task's investigator, when one is named."""
    if not operator.acting_as:
        return
    person = find_person(session, operator.acting_as)
    if not person.active:
        raise NotAllowed(f"{person.email} is inactive")
    head = person.role == "unit_head" and person.unit_id == task.unit_id
    if person.role != "office" and not head and person.id != task.pi_id:
        raise NotAllowed(f"{person.email} is neither of the office, the head of unit "
                         f"{task.unit.code} nor task {task.id}'s investigator: they may not "
                         "record its applications")


def record(session: Session, wf: Workflow, data: ApplicationInput, *, today: dt.date,
           now: dt.datetime, tz: dt.tzinfo, operator: Operator) -> Application:
    task = research_task(session, data.task_id)
    kind = _name(KIND_NAMES, data.kind, "kind", "kind")
    receiver = _name(RECEIVER_NAMES, data.receiver_kind, "receiver kind", "receiver_kind")
    where = inputs.clean_text(data.where, "where", limit=PLACE_LIMIT, field="where")
    since = _day(data.since, "since", today, "since")
    doc_no = inputs.optional_text(data.doc_no, "document number", limit=DOC_LIMIT,
                                  field="doc_no")
    doc_date = (_day(data.doc_date, "document date", today, "doc_date")
                if data.doc_date is not None else None)
    note = inputs.optional_text(data.note, "note", limit=NOTE_LIMIT, field="note")
    accepted = accepted_on(wf, task, tz)
    if accepted is None:
        raise InvalidData(f"task {task.id} is not accepted yet ('{task.state}'): a result is "
                          "applied after its acceptance (nghiệm thu)", field="task")
    if since < accepted:
        raise InvalidData(f"since {shown(since)} is before the acceptance ({shown(accepted)})",
                          field="since")
    key = inputs.lookup_key(where)
    unit = units.unit_by_code(session, key) if key is not None else None
    own = unit is not None and unit.id == task.unit_id
    if receiver == "same_unit" and not own:
        raise InvalidData(f"receiver kind same_unit: where must be the task's unit "
                          f"{task.unit.code}", field="receiver_kind")
    if own and receiver != "same_unit":
        raise InvalidData(f"{task.unit.code} is the task's own unit: its receiver kind is "
                          "same_unit", field="receiver_kind")
    if own and kind != "applied":
        raise InvalidData(f"a {kind} is with another unit or body, not the task's own unit "
                          f"{task.unit.code}", field="where")
    place = unit.name if unit is not None else where
    check_recorder(session, operator, task)
    if rows.exists(session, task.id, kind, place, since):
        raise Conflict(f"task {task.id} already has {kind} at {place[:60]} since {shown(since)}")
    return rows.add(session, Application(
        task_id=task.id, kind=kind, unit_id=unit.id if unit else None, place=place,
        receiver_kind=receiver, since=since, doc_no=doc_no, doc_date=doc_date, note=note,
        recorded_at=now, recorded_by=operator.login[:320], acting_as=operator.acting_as))


def row(a: Application, lang: str = "vi") -> dict[str, Any]:
    return {
        "id": a.id, "task_id": a.task_id, "task_title": a.task.title, "unit": a.task.unit.code,
        "kind": a.kind, "kind_label": LABELS[a.kind].get(lang), "place": a.place,
        "place_unit": a.unit.code if a.unit else None, "receiver_kind": a.receiver_kind,
        "receiver_label": LABELS[a.receiver_kind].get(lang), "since": shown(a.since),
        "since_iso": a.since.isoformat(), "doc_no": a.doc_no,
        "doc_date": shown(a.doc_date) if a.doc_date else None, "note": a.note,
        "recorded_by": a.recorded_by, "acting_as": a.acting_as,
    }


def of_task(session: Session, task_id: int, lang: str = "vi") -> list[dict[str, Any]]:
    return [row(a, lang) for a in rows.of_task(session, task_id)]


def lines(found: Sequence[dict[str, Any]]) -> list[str]:
    """The task's applications as `task show` prints them (Vietnamese)."""
    out = []
    for a in found:
        doc = (f", số {a['doc_no']}" if a["doc_no"] else "") + \
              (f" ngày {a['doc_date']}" if a["doc_date"] else "")
        out.append(f"{LABELS[a['kind']]['vi']}: {a['place']} "
                   f"({LABELS[a['receiver_kind']]['vi'].lower()}) từ {a['since']}{doc}")
    return out


def listed(session: Session, *, unit_code: str | None, year: int | None,
           viewer_email: str | None = None, lang: str = "vi") -> list[dict[str, Any]]:
    """Oldest first; with `viewer_email`, what that person may see (engine.registers)."""
    unit_id, start, end = listing_scope(session, unit_code=unit_code, year=year,
                                        viewer_email=viewer_email)
    return [row(a, lang) for a in rows.listed(session, unit_id=unit_id, start=start, end=end)]


def to_csv(found: Sequence[dict[str, Any]], delimiter: str = ";") -> str:
    return registers.to_csv(found, CSV_COLUMNS, delimiter)
