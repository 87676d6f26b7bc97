"""The dashboard's research milestones (engine/reports/dashboard.milestones): the deadlines of
the year's research tasks grouped by what they are called, a unit's cell coloured by its worst
deadline and linking to the task that decides it, a void task's deadlines left out."""

from __future__ import annotations

import datetime as dt

from engine.reports.dashboard import dashboard, milestones
from storage.dashboard import MilestoneLine
from storage.reportrows import Dataset, UnitRow

D = dt.date
OUTLINE, ACCEPTANCE = "Báo cáo kết quả xét duyệt đề cương", "Báo cáo nghiệm thu"
NAMES = {"proposed": OUTLINE, "outline_revision": OUTLINE, "in_progress": ACCEPTANCE}
VOID = frozenset({("unit_task", "rejected")})
TODAY = D(2025, 5, 10)


def legal_end(day: dt.date) -> dt.date:  # Wednesday 30/4 is a holiday: it ends on Monday 5/5
    return D(2025, 5, 5) if day == D(2025, 4, 30) else day


def label_of(workflow: str, state: str) -> str:
    return NAMES.get(state, state)


def m(unit: int, task: int, due: dt.date, closed: dt.date | None, state: str = "proposed",
      task_state: str = "in_progress") -> MilestoneLine:
    return MilestoneLine(unit, task, "unit_task", task_state, state, due, closed)


def cell(rows: list[MilestoneLine], unit: int = 1, label: str = OUTLINE) -> dict[str, object]:
    return milestones(sorted(rows, key=lambda r: (r.due_on, r.task_id)), TODAY, legal_end,
                      label_of, VOID)[1][(unit, label)]


def test_each_colour_of_one_deadline_by_its_legal_end() -> None:
    due = D(2025, 4, 30)
    assert cell([m(1, 7, due, D(2025, 5, 5))])["state"] == "done"  # by the legal end
    assert cell([m(1, 7, due, D(2025, 5, 6))])["state"] == "late"
    assert cell([m(1, 7, due, None)])["state"] == "overdue"  # 10/5: the legal end has passed
    assert cell([m(1, 7, D(2025, 12, 1), None)])["state"] == "open"
    # closed after the day shown: still open on it
    assert cell([m(1, 7, D(2025, 12, 1), D(2025, 5, 11))])["state"] == "open"


def test_the_worst_deadline_decides_the_cell_and_its_link() -> None:
    due = D(2025, 4, 30)
    done, late = m(1, 1, due, D(2025, 4, 2)), m(1, 2, due, D(2025, 5, 8))
    later = m(1, 3, D(2025, 12, 1), None, state="outline_revision")
    overdue = m(1, 4, due, None)
    assert cell([done, late, later, overdue]) == {
        "state": "overdue", "task_id": 4, "due_on": due, "submitted_on": None}
    assert cell([done, late, later])["task_id"] == 3  # not yet due, before a late one
    assert cell([done, late]) == {"state": "late", "task_id": 2, "due_on": due,
                                  "submitted_on": D(2025, 5, 8)}
    assert cell([done])["task_id"] == 1


def test_a_void_tasks_deadlines_are_left_out() -> None:
    columns, cells = milestones([m(1, 7, D(2025, 4, 30), None, task_state="rejected")], TODAY,
                                legal_end, label_of, VOID)
    assert columns == [] and cells == {}


def test_columns_by_label_dated_by_their_most_common_due_date() -> None:
    rows = [m(1, 1, D(2025, 4, 30), None), m(2, 2, D(2025, 4, 30), None),
            m(3, 3, D(2025, 6, 1), None, state="outline_revision"),
            m(1, 1, D(2025, 12, 1), None, state="in_progress")]
    columns, _ = milestones(rows, TODAY, legal_end, label_of, VOID)
    assert columns == [(OUTLINE, D(2025, 4, 30)), (ACCEPTANCE, D(2025, 12, 1))]


def test_the_research_columns_follow_the_obligations_and_stay_out_of_the_rate() -> None:
    data = Dataset(year=2025, units=(UnitRow(1, "A", "Đơn vị A", "public"),
                                     UnitRow(2, "B", "Đơn vị B", "public")),
                   tasks=(), obligations=())
    board = dashboard(data, TODAY, legal_end, {}, milestone_rows=[m(1, 7, D(2025, 4, 30), None)],
                      label_of=label_of, void=VOID)
    assert board["milestones"] == [{"label": OUTLINE, "due_on": D(2025, 4, 30)}]
    a, b = board["rows"]
    assert a["cells"] == [{"state": "overdue", "task_id": 7, "due_on": D(2025, 4, 30),
                           "submitted_on": None, "column": 1}]
    assert b["cells"] == [None]
    assert a["counts"]["overdue"] == 0 and a["rate"] is None and board["rate"] is None
    private = dashboard(data, TODAY, legal_end, {}, unit_kind="private",
                        milestone_rows=[m(1, 7, D(2025, 4, 30), None)], label_of=label_of)
    assert private["milestones"] == []  # no unit shown has one: no column
