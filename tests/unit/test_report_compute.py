"""The report computations on rows built by hand: no database, milliseconds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.reports import compute
from engine.reports.config import reports_config
from engine.reports.render import to_table
from storage.reportrows import Dataset as Rows
from storage.reportrows import DeadlineRow, EventRow, PublicationRow, TaskRow, UnitRow
from workflows.errors import InputError
from workflows.registry import Registry

D = dt.date
UNIT_TASK = Registry().get("unit_task")
MILESTONE = {ev.name: ev.milestone for ev in UNIT_TASK.events.values()}
CUTOFFS = {m: day for m in ("outline_approved", "accepted")
           if (day := UNIT_TASK.cutoff(m)) is not None}


def Dataset(*args: Any, **kwargs: Any) -> Rows:
    return Rows(*args, **{"cutoffs": CUTOFFS, **kwargs})


def _task(task_id: int, unit_id: int, *events: tuple[str, str, dt.date]) -> TaskRow:
    return TaskRow(task_id, unit_id, "unit", "unit_task",
                   tuple(EventRow(e, s, on, MILESTONE.get(e)) for e, s, on in events))


def test_the_cutoffs_are_the_plans_dates_read_from_the_definition() -> None:
    assert CUTOFFS == {"outline_approved": (4, 30), "accepted": (12, 1)}


T = _task(1, 1, ("create", "proposed", D(2025, 2, 1)),
          ("approve_outline", "outline_approved", D(2025, 4, 30)),
          ("start", "in_progress", D(2025, 5, 2)))


def test_a_task_is_in_the_state_its_last_event_by_that_day_left_it_in() -> None:
    assert T.state_on(D(2025, 1, 31)) is None
    assert T.state_on(D(2025, 4, 29)) == "proposed"
    assert T.state_on(D(2025, 4, 30)) == "outline_approved"
    assert T.state_on(D(2025, 12, 31)) == "in_progress"


def test_an_outline_approved_on_30_april_counts_as_approved_by_30_april() -> None:
    data = Dataset(2025, (UnitRow(1, "A", "Đơn vị A", "public"),), (T,))
    assert compute.compliance(data, D(2025, 12, 31)).unit("A")["approved_by_deadline"] == 1
    late = _task(2, 1, ("create", "proposed", D(2025, 2, 1)),
                 ("approve_outline", "outline_approved", D(2025, 5, 1)))
    data = Dataset(2025, (UnitRow(1, "A", "Đơn vị A", "public"),), (late,))
    assert compute.compliance(data, D(2025, 12, 31)).unit("A")["approved_by_deadline"] == 0


def test_a_deadline_is_overdue_only_after_its_day_and_while_open() -> None:
    d = DeadlineRow(1, due_on=D(2025, 4, 30), opened_on=D(2025, 2, 1), closed_on=D(2025, 5, 10))
    assert not d.overdue_on(D(2025, 4, 30))
    assert d.overdue_on(D(2025, 5, 1))
    assert not d.overdue_on(D(2025, 5, 10))  # closed that day
    assert not d.overdue_on(D(2025, 1, 31))  # not yet opened


def test_without_private_units_there_is_no_private_section() -> None:
    data = Dataset(2025, (UnitRow(1, "A", "Đơn vị A", "public"),), ())
    report = compute.progress(data)
    assert [s.kind for s in report.sections] == ["public"]
    assert report.as_of == D(2025, 6, 30)


def test_an_inactive_unit_is_listed_only_while_it_has_tasks_in_the_year() -> None:
    units = (UnitRow(1, "A", "Đơn vị A", "public"), UnitRow(2, "B", "Đơn vị B", "public", False),
             UnitRow(3, "C", "Đơn vị C", "public", False))
    report = compute.compliance(Dataset(2025, units, (_task(1, 2, ("create", "proposed",
                                                                  D(2025, 3, 1))),)), D(2025, 6, 1))
    assert [r["code"] for r in report.unit_rows()] == ["A", "B"]


def test_the_terminal_table_aligns_numbers_right_and_names_left() -> None:
    data = Dataset(2025, (UnitRow(1, "A", "Bệnh viện Đa khoa tỉnh", "public"),), (T,))
    lines = to_table(compute.compliance(data, D(2025, 12, 31))).splitlines()
    row = next(line for line in lines if line.lstrip().startswith("1  A"))
    assert "Bệnh viện Đa khoa tỉnh" in row and row.endswith("0")


@pytest.mark.parametrize(("value", "delimiter"), [(";", ";"), (",", ","), ("tab", "\t")])
def test_the_csv_delimiter_is_configured(value: str, delimiter: str) -> None:
    assert reports_config({"csv_delimiter": value}).csv_delimiter == delimiter


def test_the_csv_delimiter_defaults_to_semicolon_and_refuses_others() -> None:
    assert reports_config({}).csv_delimiter == ";"
    with pytest.raises(InputError, match=r"^config \[reports\] csv_delimiter: expected ';', ',' "
                                         r"or 'tab', not '\|'$"):
        reports_config({"csv_delimiter": "|"})


VOID = frozenset({("unit_task", "rejected"), ("unit_task", "cancelled")})


def test_a_cancelled_or_rejected_task_does_not_meet_the_quota() -> None:
    units = (UnitRow(1, "A", "Đơn vị A", "public"), UnitRow(2, "B", "Đơn vị B", "public"))
    cancelled = _task(1, 1, ("create", "proposed", D(2025, 2, 1)),
                      ("cancel", "cancelled", D(2025, 3, 1)))
    rejected = _task(2, 2, ("create", "proposed", D(2025, 2, 1)),
                     ("reject", "rejected", D(2025, 4, 20)))
    report = compute.compliance(Dataset(2025, units, (cancelled, rejected), void_states=VOID),
                                D(2025, 12, 31))
    assert [report.unit(c)["quota_met"] for c in "AB"] == [False, False]
    assert [report.unit(c)["registered"] for c in "AB"] == [1, 1]  # still registered
    # Before it was rejected, B's task counted.
    spring = compute.compliance(Dataset(2025, units, (cancelled, rejected), void_states=VOID),
                                D(2025, 4, 19))
    assert [spring.unit(c)["quota_met"] for c in "AB"] == [False, True]


def test_a_private_hospital_is_outside_the_quota_unless_configured() -> None:
    units = (UnitRow(1, "A", "Đơn vị A", "public"), UnitRow(2, "P", "Bệnh viện tư", "private"))
    report = compute.compliance(Dataset(2025, units, ()), D(2025, 12, 31))
    assert report.unit("A")["quota_met"] is False
    assert report.unit("P")["quota_met"] is None
    assert report.sections[1].subtotal["quota_met"] is None
    assert report.total["quota_met"] == 0
    assert "áp dụng cho đơn vị công lập trực thuộc Sở" in report.notes[-1]
    row = next(line for line in to_table(report).splitlines() if "Bệnh viện tư" in line)
    assert "–" in row
    bound = compute.compliance(Dataset(2025, units, ()), D(2025, 12, 31),
                               compute.ReportRules(quota_kinds=("public", "private")))
    assert bound.unit("P")["quota_met"] is False


def test_the_packaged_workflows_mark_rejected_and_cancelled_void() -> None:
    registry = Registry()
    for name in ("unit_task", "province_task", "initiative"):
        wf = registry.get(name)
        assert {s.name for s in wf.states.values() if s.void} == {"rejected", "cancelled"}, name
        assert all(state.timers is None or state.timers.on_overdue is None
                   for state in wf.states.values()), name
        assert wf.timers is None or wf.timers.on_overdue is None


def test_articles_are_counted_per_unit_by_kind_up_to_the_reports_day() -> None:
    units = (UnitRow(1, "A", "Đơn vị A", "public"), UnitRow(2, "B", "Đơn vị B", "private"))
    pubs = (PublicationRow(1, "journal_domestic", D(2025, 3, 1), task_id=1),
            PublicationRow(1, "journal_domestic", D(2025, 5, 1), task_id=1),
            PublicationRow(1, "journal_international", D(2025, 6, 30)),
            PublicationRow(1, "unit_website", D(2025, 6, 2), task_id=1),
            PublicationRow(1, "journal_international", D(2025, 7, 1)),  # after the day
            PublicationRow(2, "conference", D(2025, 4, 1)))
    data = Dataset(2025, units, (T,), publications=pubs)
    report = compute.progress(data, D(2025, 6, 30))
    keys = ("articles_domestic", "articles_international", "articles_total")
    assert [report.unit("A")[k] for k in keys] == [2, 1, 4]
    assert [report.unit("B")[k] for k in keys] == [0, 0, 1]
    assert [report.total[k] for k in keys] == [2, 1, 5]
    # The task's own publications, in the detail list (danh mục): three by 30/6.
    assert [d.publications for d in report.details] == [3]
    compliance = compute.compliance(data, D(2025, 12, 31))
    assert [compliance.unit("A")[k] for k in keys] == [2, 2, 5]
