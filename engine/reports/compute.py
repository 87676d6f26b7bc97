"""Compliance and progress, computed from rows: pure functions, no database, no clock.

Both reports list every active unit (and any inactive one that still has tasks in the year),
public units first, private hospitals (cơ sở ngoài công lập) in a section of their own, each
section with a subtotal and the province total at the end. "As of" a day means: what the history
says had taken effect by the end of that day, in local time.

compliance (the year's obligations, as of `as_of`):
  registered tasks by level, the state each is in, quota met (≥ 1 valid task: not rejected or
  cancelled, for the unit kinds the quota binds; "–" for the others), outlines approved by
  30 April, accepted by 1 December, published, overdue deadlines, obligations submitted on time.
progress (the 6-month view, by default as of 30 June): how far each unit's tasks have come —
  registered, outline approved, started, accepted, published, ended without a result, overdue.
Both count the unit's publications of the year by the day (the register, not the tasks: the
seeds count articles, several per topic): in domestic journals, in international journals, and
all kinds (conferences, the unit's website and others included). "Published" stays the number of
tasks that reached that step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.reportrows import Dataset, PublicationRow, TaskRow, UnitRow
from workflows.calendar import BusinessCalendar
from workflows.councilterms import verdict
from workflows.model import RESEARCH_LEVELS, WorkingDays
from workflows.periods import SessionPlan

LEVEL_KEYS = {level: f"level_{level}" for level in RESEARCH_LEVELS}


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # Vietnamese header, as printed
    en: str
    kind: str = "int"  # text | int | flag | rate
    width: int = 11
    short: str = ""  # header of the terminal table (the full label is too wide there)
    of: tuple[str, str] = ("", "")  # a rate's (part, whole) keys, on the same row


def ratio(row: dict[str, Any], col: Column) -> float | None:
    """A rate column's value on a row: part / whole, 0 when the whole is 0 (the workbook's
    IFERROR(…, 0) says the same), None when either figure does not apply."""
    part, whole = (row.get(key) for key in col.of)
    if part is None or whole is None:
        return None
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class Section:
    kind: str  # public | private
    title: str
    rows: tuple[dict[str, Any], ...]
    subtotal: dict[str, Any]


@dataclass(frozen=True)
class DetailRow:
    """One valid task of the detail list (danh mục): dates are days, None when not reached."""

    stt: int
    unit_code: str
    unit_name: str
    title: str
    pi_name: str
    level: str  # its Vietnamese label
    topic: int | None
    state: str  # its Vietnamese label, as of the report's day
    registered_on: dt.date
    approved_on: dt.date | None
    accepted_on: dt.date | None
    published_on: dt.date | None
    publications: int = 0  # in the register, linked to the task, by the report's day
    grade: str | None = None  # the last acceptance outcome by the day (xếp loại), its label
    recognised_on: dt.date | None = None  # the recognition decision's day, if by the day


LEVEL_LABELS = {"unit": "Đề tài cấp cơ sở", "province": "Nhiệm vụ cấp tỉnh",
                "initiative": "Sáng kiến"}


@dataclass(frozen=True)
class Report:
    kind: str  # compliance | progress
    title: str
    year: int
    as_of: dt.date
    columns: tuple[Column, ...]
    sections: tuple[Section, ...]
    total: dict[str, Any]
    states: tuple[tuple[str, str], ...]  # (state, label) of the by-state breakdown
    notes: tuple[str, ...] = ()
    details: tuple[DetailRow, ...] = ()  # the valid tasks registered by the day, by unit
    made_on: dt.date | None = None  # the day it is made (the letterhead's date); else as_of

    def unit_rows(self) -> list[dict[str, Any]]:
        return [row for section in self.sections for row in section.rows]

    def unit(self, code: str) -> dict[str, Any]:
        for row in self.unit_rows():
            if row["code"] == code:
                return row
        raise KeyError(code)


HEAD = (
    Column("stt", "STT", "No.", "int", 5, short="STT"),
    Column("code", "Mã đơn vị", "Unit code", "text", 11, short="Mã"),
    Column("name", "Tên đơn vị", "Unit", "text", 42, short="Đơn vị"),
)
SESSIONS = (
    Column("sessions_held", "Số buổi sinh hoạt khoa học", "Science sessions held", "int", 11,
           short="SHKH"),
    Column("sessions_missed", "Số kỳ không sinh hoạt khoa học", "Periods without a session",
           "int", 11, short="Kỳ thiếu"),
)
ARTICLES = (
    Column("articles_domestic", "Bài báo đăng tạp chí trong nước",
           "Articles in domestic journals", "int", 11, short="Bài TN"),
    Column("articles_international", "Bài báo đăng tạp chí quốc tế",
           "Articles in international journals", "int", 11, short="Bài QT"),
    Column("articles_total", "Tổng số bài báo, công bố", "Publications, all kinds", "int", 11,
           short="Tổng CB"),
)
DOMESTIC, INTERNATIONAL = "journal_domestic", "journal_international"
OBLIGATIONS = (
    Column("obligations_due", "Báo cáo đến hạn", "Reports due", "int", 11, short="BC đến hạn"),
    Column("obligations_on_time", "Nộp đúng hạn", "Submitted on time", "int", 11,
           short="BC đúng hạn"),
)
COMPLIANCE_COLUMNS = (*HEAD,
    Column("registered", "Tổng số nhiệm vụ đăng ký", "Tasks registered", short="Đăng ký"),
    Column("level_unit", "Đề tài cấp cơ sở", "Unit-level topics", short="Cơ sở"),
    Column("level_province", "Nhiệm vụ cấp tỉnh", "Provincial tasks", short="Tỉnh"),
    Column("level_initiative", "Sáng kiến", "Initiatives", short="Sáng kiến"),
    Column("quota_met", "Đạt chỉ tiêu (≥ 1 nhiệm vụ)", "Quota met (≥ 1 task)", "flag", 12,
           short="Chỉ tiêu"),
    Column("approved_by_deadline", "Đề cương duyệt trước 30/4", "Outlines approved by 30 April",
           short="ĐC ≤30/4"),
    Column("accepted_by_deadline", "Nghiệm thu trước 01/12", "Accepted by 1 December",
           short="NT ≤1/12"),
    Column("published", "Nhiệm vụ đã công bố kết quả", "Tasks published", short="NV c.bố"),
    *ARTICLES,
    Column("overdue", "Hạn đã quá chưa xử lý", "Overdue items", short="Quá hạn"),
    *SESSIONS,
    *OBLIGATIONS,
)
PROGRESS_COLUMNS = (*HEAD,
    Column("registered", "Tổng số nhiệm vụ đăng ký", "Tasks registered", short="Đăng ký"),
    Column("approved", "Đề cương đã duyệt", "Outline approved", short="ĐC duyệt"),
    Column("started", "Đã triển khai", "Started", short="Triển khai"),
    Column("accepted", "Đã nghiệm thu", "Accepted", short="Nghiệm thu"),
    Column("published", "Nhiệm vụ đã công bố kết quả", "Tasks published", short="NV c.bố"),
    *ARTICLES,
    Column("ended", "Dừng / hủy / không đạt", "Ended without result", short="Dừng/hủy"),
    Column("overdue", "Hạn đã quá chưa xử lý", "Overdue items", short="Quá hạn"),
    *SESSIONS,
    *OBLIGATIONS,
)
SECTION_TITLES = {"public": "Các đơn vị công lập trực thuộc Sở Y tế",
                  "private": "Cơ sở y tế ngoài công lập"}
SUBTOTAL_NAMES = {"public": "Cộng đơn vị công lập", "private": "Cộng cơ sở ngoài công lập"}
TOTAL_NAME = "Tổng cộng toàn tỉnh"

Metrics = Callable[[UnitRow, Sequence[TaskRow], dt.date], dict[str, Any]]
QUOTA_KINDS = ("public",)  # the default of [scheduler] quota_kinds: units under the Sở
NO_PLAN = SessionPlan()  # the default of [scheduler.sessions]: monthly for every unit


@dataclass(frozen=True)
class ReportRules:
    """What the province configures that the reports judge by: the unit kinds the quota binds,
    how often each unit holds its science session, and the business calendar, whose legal end
    (Civil Code art. 148) is the one meaning of "late" here as in escalations and the digest."""

    quota_kinds: tuple[str, ...] = QUOTA_KINDS
    sessions: SessionPlan = NO_PLAN
    calendar: WorkingDays = field(default_factory=BusinessCalendar)

    def legal_end(self, due_on: dt.date) -> dt.date:
        return self.calendar.next_working_day(due_on)


def _listed_units(data: Dataset) -> list[UnitRow]:
    with_tasks = {t.unit_id for t in data.tasks}
    return [u for u in data.units if u.active or u.id in with_tasks]


def _sum(rows: Iterable[dict[str, Any]], columns: Sequence[Column], name: str) -> dict[str, Any]:
    rows = list(rows)
    total: dict[str, Any] = {"stt": None, "code": "", "name": name, "by_state": Counter()}
    for col in columns:
        if col.kind == "int" and col.key != "stt":
            values = [r[col.key] for r in rows if r[col.key] is not None]
            total[col.key] = sum(values) if values or not rows else None
        elif col.kind == "flag":  # units with the flag set, among those it applies to
            flags = [r[col.key] for r in rows if r[col.key] is not None]
            total[col.key] = sum(1 for f in flags if f) if flags or not rows else None
    for col in columns:
        if col.kind == "rate":
            total[col.key] = ratio(total, col)
    for r in rows:
        total["by_state"].update(r["by_state"])
    total["by_state"] = dict(total["by_state"])
    total["units"] = len(rows)
    return total


def session_figures(data: Dataset, unit: UnitRow, plan: SessionPlan,
                    as_of: dt.date) -> tuple[int, int]:
    """(sessions held by the end of `as_of`, the unit's periods ended by then without one).
    A period that ended before the unit was registered is not counted against it."""
    days = [d for u, d in data.sessions if u == unit.id and d <= as_of]
    ended = [p for p in plan.ended_by(unit.code, data.year, as_of)
             if unit.created_on is None or p.end >= unit.created_on]
    missed = sum(1 for p in ended if not any(d in p for d in days))
    return len(days), missed


def article_figures(rows: Sequence[PublicationRow], unit_id: int,
                    as_of: dt.date) -> dict[str, int]:
    """The unit's publications by the end of `as_of`: in domestic journals, in international
    journals, and of every kind."""
    kinds = Counter(p.venue_kind for p in rows if p.unit_id == unit_id and p.published_on <= as_of)
    return {"articles_domestic": kinds[DOMESTIC], "articles_international": kinds[INTERNATIONAL],
            "articles_total": sum(kinds.values())}


def assemble(data: Dataset, kind: str, title: str, as_of: dt.date, columns: tuple[Column, ...],
           metrics: Metrics, rules: ReportRules) -> Report:
    by_unit: dict[int, list[TaskRow]] = {}
    for task in data.tasks:
        if task.created_on <= as_of:
            by_unit.setdefault(task.unit_id, []).append(task)
    task_unit = {t.id: t.unit_id for t in data.tasks if t.created_on <= as_of}
    overdue = Counter(task_unit[d.task_id] for d in data.deadlines
                      if d.task_id in task_unit
                      and d.overdue_on(as_of, rules.legal_end(d.due_on)))
    # Late means after the legal end, as in escalations and the digest: a report due on a day
    # off (31/1/2025, in Tết) handed in on the next working day (3/2) is on time.
    due: Counter[int] = Counter()
    on_time: Counter[int] = Counter()
    for ob in data.obligations:
        submitted = ob.submitted_on if ob.submitted_on and ob.submitted_on <= as_of else None
        legal_end = rules.legal_end(ob.due_on)
        if legal_end < as_of or submitted:
            due[ob.unit_id] += 1
            on_time[ob.unit_id] += bool(submitted and submitted <= legal_end)

    sections = []
    for unit_kind in ("public", "private"):
        units = [u for u in _listed_units(data) if u.kind == unit_kind]
        if not units and unit_kind == "private":
            continue
        rows = []
        for i, unit in enumerate(units, 1):
            tasks = by_unit.get(unit.id, [])
            row: dict[str, Any] = {"stt": i, "code": unit.code, "name": unit.name,
                                   "kind": unit.kind, **metrics(unit, tasks, as_of)}
            row.update(article_figures(data.publications, unit.id, as_of))
            row["overdue"] = overdue[unit.id]
            row["sessions_held"], row["sessions_missed"] = session_figures(
                data, unit, rules.sessions, as_of)
            row["obligations_due"] = due[unit.id]
            row["obligations_on_time"] = on_time[unit.id]
            row["by_state"] = dict(Counter(s for t in tasks if (s := t.state_on(as_of))))
            row.update({c.key: ratio(row, c) for c in columns if c.kind == "rate"})
            rows.append(row)
        sections.append(Section(unit_kind, SECTION_TITLES[unit_kind], tuple(rows),
                                _sum(rows, columns, SUBTOTAL_NAMES[unit_kind])))
    total = _sum([r for s in sections for r in s.rows], columns, TOTAL_NAME)
    used = set(total["by_state"])
    states = tuple((s, data.state_labels.get(s, s)) for s in
                   [*[s for s in data.state_labels if s in used],
                    *sorted(used - set(data.state_labels))])
    return Report(kind, title, data.year, as_of, columns, tuple(sections), total, states,
                  details=_details(data, as_of))


def detail_tasks(data: Dataset, as_of: dt.date) -> list[TaskRow]:
    """The danh mục's tasks: every valid task registered by `as_of` (not rejected or
    cancelled), in the order of the units' sections, then of registration."""
    units = {u.id: u for u in _listed_units(data)}
    order = {u.id: (0 if u.kind == "public" else 1, u.code) for u in units.values()}
    return sorted((t for t in valid_tasks(data, data.tasks, as_of)
                   if t.created_on <= as_of and t.unit_id in units),
                  key=lambda t: (order[t.unit_id], t.created_on, t.id))


def linked_publications(data: Dataset, as_of: dt.date) -> Counter[int]:
    """Per task, its publications in the register by the end of `as_of`."""
    return Counter(p.task_id for p in data.publications
                   if p.task_id is not None and p.published_on <= as_of)


def _details(data: Dataset, as_of: dt.date) -> tuple[DetailRow, ...]:
    units = {u.id: u for u in data.units}
    linked = linked_publications(data, as_of)
    graded = {o.task_id: verdict(o.result, o.grade) for o in data.outcomes
              if o.held_on <= as_of}  # oldest first: the last outcome by the day stays
    out = []
    for i, t in enumerate(detail_tasks(data, as_of), 1):
        unit = units[t.unit_id]
        recognised = data.recognitions.get(t.id)
        state = t.state_on(as_of) or ""
        out.append(DetailRow(
            i, unit.code, unit.name, t.title, t.pi_name, LEVEL_LABELS.get(t.level, t.level),
            t.topic, data.state_labels.get(state, state), t.created_on,
            t.reached("outline_approved", until=as_of), t.reached("accepted", until=as_of),
            t.reached("published", until=as_of), linked[t.id], graded.get(t.id),
            recognised if recognised is not None and recognised <= as_of else None))
    return tuple(out)


def valid_tasks(data: Dataset, tasks: Iterable[TaskRow], day: dt.date) -> list[TaskRow]:
    """The tasks that count at the end of `day`: not in a void state (rejected, cancelled)."""
    return [t for t in tasks if (t.workflow, t.state_on(day)) not in data.void_states]


def compliance(data: Dataset, as_of: dt.date, rules: ReportRules | None = None) -> Report:
    """The year's compliance per unit, as of `as_of` (the office's year-end compilation). The
    quota binds units of `rules.quota_kinds` only, and counts valid tasks only."""
    rules = rules or ReportRules()
    quota_kinds = rules.quota_kinds
    year = data.year
    outline_by = min(as_of, dt.date(year, *data.cutoffs.get("outline_approved", (12, 31))))
    accepted_by = min(as_of, dt.date(year, *data.cutoffs.get("accepted", (12, 31))))

    def metrics(unit: UnitRow, tasks: Sequence[TaskRow], day: dt.date) -> dict[str, Any]:
        levels = Counter(LEVEL_KEYS.get(t.level, "level_unit") for t in tasks)
        bound = unit.kind in quota_kinds
        return {
            "registered": len(tasks),
            **{key: levels[key] for key in LEVEL_KEYS.values()},
            "quota_met": len(valid_tasks(data, tasks, day)) >= 1 if bound else None,
            "approved_by_deadline": sum(1 for t in tasks
                                        if t.reached("outline_approved", until=outline_by)),
            "accepted_by_deadline": sum(1 for t in tasks
                                        if t.reached("accepted", until=accepted_by)),
            "published": sum(1 for t in tasks if t.reached("published", until=day)),
        }

    title = f"Báo cáo tổng hợp tình hình thực hiện nhiệm vụ KHCN năm {year}"
    report = assemble(data, "compliance", title, as_of, COMPLIANCE_COLUMNS, metrics, rules)
    return dataclasses.replace(report, notes=(*report.notes, quota_note(quota_kinds)))


def quota_note(quota_kinds: Sequence[str]) -> str:
    """The note under a report that judges the quota: whom it binds, which tasks count."""
    bound = "đơn vị công lập trực thuộc Sở" if tuple(quota_kinds) == QUOTA_KINDS else \
        "các loại đơn vị " + ", ".join(SECTION_TITLES[k].lower() for k in quota_kinds)
    return (f"Chỉ tiêu (ít nhất 01 nhiệm vụ/năm) áp dụng cho {bound}; nhiệm vụ không được phê "
            "duyệt hoặc đã hủy không được tính.")


def progress(data: Dataset, as_of: dt.date | None = None,
             rules: ReportRules | None = None) -> Report:
    """The 6-month view: how far each unit's tasks had come by `as_of` (default 30 June)."""
    day = as_of or dt.date(data.year, 6, 30)

    def metrics(_unit: UnitRow, tasks: Sequence[TaskRow], on: dt.date) -> dict[str, Any]:
        def reached(milestone: str) -> int:
            return sum(1 for t in tasks if t.reached(milestone, until=on))

        return {
            "registered": len(tasks),
            "approved": reached("outline_approved"),
            "started": reached("started"),
            "accepted": reached("accepted"),
            "published": reached("published"),
            "ended": sum(1 for t in tasks if (t.workflow, t.state_on(on)) in data.final_states
                         and not t.reached("published", until=on)),
        }

    title = f"Báo cáo tiến độ thực hiện nhiệm vụ KHCN năm {data.year} (sơ kết 6 tháng)"
    return assemble(data, "progress", title, day, PROGRESS_COLUMNS, metrics, rules or ReportRules())
