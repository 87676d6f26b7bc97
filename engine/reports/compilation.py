"""The year's compilation (báo cáo tổng hợp, the annex the Sở sends up), computed from rows: a pure
function, no database, no clock.

Two parts, as the plans ask for them:
  summary ("Tổng hợp"): per unit and for the province, the plans' indicators as counts and
    rates — the unit's plan and rules for the year accepted by the office (its `unit_plan`
    obligation closed straight after submission; a waiver is not a plan), at least one valid
    task (the quota: void states never count, and only the unit kinds the quota binds are
    judged), tasks registered and accepted with their rate, science sessions held, and
    publications (domestic and international journals, and every kind);
  detail ("Danh mục"): one row per valid task with its decisions as recorded on the history
    (`decision_no` and `decided_on` fired with `approve_outline`, `decision_no` and `grade`
    with `accept`). A decision's date is the one recorded with it, else the day the step took
    effect in nckh. The grade is the acceptance council's outcome when one is recorded
    (`nckh council outcome`), and recognition the day of its decision (`nckh task recognise`).
    Its funding (source and amount) is the task's own record (`nckh task new --funding-…`,
    `task edit-extras`), blank when none. The application of results sums up, as of the day,
    where the result is applied, transferred or shared under an agreement (`nckh application
    add`): "Áp dụng tại 2 đơn vị; chuyển giao 1".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.reports.compute import (
    ARTICLES,
    HEAD,
    LEVEL_LABELS,
    Column,
    Report,
    ReportRules,
    assemble,
    detail_tasks,
    linked_publications,
    quota_note,
    valid_tasks,
)
from storage.reportrows import Dataset, EventRow, TaskRow, UnitRow
from workflows.councilterms import verdict
from workflows.funding import funding_text

PLAN_KEY = "unit_plan"  # the [scheduler.obligations] key of the unit's plan and rules

COLUMNS = (
    *(dataclasses.replace(c, width=30) if c.key == "name" else c for c in HEAD),
    Column("plan_accepted", "Có kế hoạch, quy chế NCKH năm (đã được tiếp nhận)",
           "Plan and rules accepted", "flag", 12, short="Kế hoạch"),
    Column("quota_met", "Có ≥ 01 nhiệm vụ hợp lệ", "At least one valid task", "flag", 11,
           short="≥1 NV"),
    Column("registered", "Số nhiệm vụ đăng ký", "Tasks registered", short="Đăng ký"),
    Column("valid", "Số nhiệm vụ hợp lệ", "Valid tasks", short="Hợp lệ"),
    Column("accepted", "Số nhiệm vụ đã nghiệm thu", "Tasks accepted", short="Nghiệm thu"),
    Column("accepted_rate", "Tỷ lệ nghiệm thu / đăng ký", "Accepted / registered", "rate", 11,
           short="% NT", of=("accepted", "registered")),
    Column("sessions_held", "Số buổi sinh hoạt khoa học", "Science sessions held",
           short="SHKH"),
    *ARTICLES,
)


@dataclass(frozen=True)
class Rate:
    """A province rate under the summary: `part` (a column of the total row) over `whole` (a
    column of the total row, or a count of units), as a fraction."""

    key: str
    label: str
    part: str
    whole: str | int
    value: float


@dataclass(frozen=True)
class Entry:
    """One valid task of the danh mục; None (or "") where nothing is recorded."""

    stt: int
    unit_code: str
    unit_name: str
    title: str
    pi_name: str
    level: str  # its Vietnamese label
    topic: int | None
    approval_no: str
    approval_on: dt.date | None
    acceptance_no: str
    acceptance_on: dt.date | None
    grade: str
    recognition: str  # the recognition decision's day (dd/mm/yyyy), blank when none
    publications: int
    application: str  # "Áp dụng tại 2 đơn vị; chuyển giao 1"; blank when none recorded
    funding: str = ""  # "150.000.000 đ (Quỹ KH&CN tỉnh)" from the task's extras, when recorded


@dataclass(frozen=True)
class Compilation:
    summary: Report
    rates: tuple[Rate, ...]
    entries: tuple[Entry, ...]

    @property
    def year(self) -> int:
        return self.summary.year

    @property
    def as_of(self) -> dt.date:
        return self.summary.as_of


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return str(value) if value is not None else ""


def _decided_on(event: EventRow) -> dt.date:
    """The date recorded with the decision (stored as an ISO day), else the step's own day."""
    value = event.data.get("decided_on")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    return event.on


def application_summary(found: Iterable[tuple[str, str]]) -> str:
    """(kind, place) pairs said in a few words: "Áp dụng tại 2 đơn vị; chuyển giao 1; hợp tác
    1", each place counted once per kind (letter case aside); blank when none."""
    places: dict[str, set[str]] = {"applied": set(), "transfer": set(), "cooperation": set()}
    for kind, place in found:
        places.setdefault(kind, set()).add(place.casefold())
    parts = [f"{word} {len(places[kind])}{unit}" for kind, word, unit in (
        ("applied", "áp dụng tại", " đơn vị"), ("transfer", "chuyển giao", ""),
        ("cooperation", "hợp tác", "")) if places[kind]]
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _entry(stt: int, unit: UnitRow, task: TaskRow, as_of: dt.date, linked: int,
           graded: str | None, recognised: dt.date | None, applied: str) -> Entry:
    approval = task.reaching("outline_approved", until=as_of)
    acceptance = task.reaching("accepted", until=as_of)
    grade = graded or (_text(acceptance.data, "grade") if acceptance else "")
    return Entry(
        stt, unit.code, unit.name, task.title, task.pi_name,
        LEVEL_LABELS.get(task.level, task.level), task.topic,
        _text(approval.data, "decision_no") if approval else "",
        _decided_on(approval) if approval else None,
        _text(acceptance.data, "decision_no") if acceptance else "",
        _decided_on(acceptance) if acceptance else None,
        grade,
        f"{recognised.day:02d}/{recognised.month:02d}/{recognised.year}" if recognised else "",
        linked, applied, funding_text(task.funding_source, task.funding_amount))


def compilation(data: Dataset, as_of: dt.date, rules: ReportRules | None = None) -> Compilation:
    """The year's compilation as of the end of `as_of`."""
    rules = rules or ReportRules()
    plans = {ob.unit_id: ob for ob in data.obligations if ob.key == PLAN_KEY}

    def metrics(unit: UnitRow, tasks: Sequence[TaskRow], day: dt.date) -> dict[str, Any]:
        valid = valid_tasks(data, tasks, day)
        plan = plans.get(unit.id)
        return {
            "plan_accepted": (plan.accepted_on is not None and plan.accepted_on <= day)
            if plan else None,
            "quota_met": len(valid) >= 1 if unit.kind in rules.quota_kinds else None,
            "registered": len(tasks),
            "valid": len(valid),
            "accepted": sum(1 for t in tasks if t.reached("accepted", until=day)),
        }

    title = f"Tổng hợp kết quả hoạt động nghiên cứu khoa học năm {data.year}"
    summary = assemble(data, "compilation", title, as_of, COLUMNS, metrics, rules)
    rows = summary.unit_rows()
    total = summary.total

    def share(key: str) -> Rate | None:
        judged = sum(1 for r in rows if r[key] is not None)
        return Rate(f"{key}_rate", RATE_LABELS[key], key, judged,
                    (total[key] or 0) / judged if judged else 0.0) if judged else None

    rates = tuple(r for r in (
        share("plan_accepted"), share("quota_met"),
        Rate("accepted_rate", RATE_LABELS["accepted"], "accepted", "registered",
             total["accepted_rate"] or 0.0)) if r is not None)
    units = {u.id: u for u in data.units}
    linked = linked_publications(data, as_of)
    # The council's outcome (its grade) and the recognition, when recorded (engine.councils).
    graded = {o.task_id: verdict(o.result, o.grade) for o in data.outcomes
              if o.held_on <= as_of}  # oldest first: the last outcome by the day stays
    recognised = {k: v for k, v in data.recognitions.items() if v <= as_of}
    applied: dict[int, list[tuple[str, str]]] = {}
    for a in data.applications:
        if a.since <= as_of:
            applied.setdefault(a.task_id, []).append((a.kind, a.place))
    entries = tuple(_entry(i, units[t.unit_id], t, as_of, linked[t.id], graded.get(t.id),
                           recognised.get(t.id), application_summary(applied.get(t.id, ())))
                    for i, t in enumerate(detail_tasks(data, as_of), 1))
    note = (f"{quota_note(rules.quota_kinds)} Kế hoạch, quy chế: đơn vị đã gửi và Phòng "
            "Nghiệp vụ Y đã tiếp nhận (được miễn không tính là có).")
    return Compilation(dataclasses.replace(summary, details=(), notes=(note,)), rates, entries)


RATE_LABELS = {
    "plan_accepted": "Tỷ lệ đơn vị có kế hoạch, quy chế NCKH năm được tiếp nhận",
    "quota_met": "Tỷ lệ đơn vị có ít nhất 01 nhiệm vụ hợp lệ (chỉ tiêu)",
    "accepted": "Tỷ lệ nhiệm vụ đã nghiệm thu trên số đăng ký",
}
