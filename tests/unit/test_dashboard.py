"""The dashboard's cells: on time, late (after the legal end), overdue, not yet due."""

from __future__ import annotations

import datetime as dt

from engine.reports.dashboard import cell_state, dashboard
from storage.reportrows import Dataset, ObligationRow, UnitRow

D = dt.date
# a due date on Saturday 5/7/2025 ends on Monday 7/7 (art. 148); here: two days later
LEGAL_END = {D(2025, 7, 5): D(2025, 7, 7), D(2025, 3, 31): D(2025, 3, 31)}


def legal_end(day: dt.date) -> dt.date:
    return LEGAL_END.get(day, day)


def ob(unit: int, due: dt.date, submitted: dt.date | None, key: str = "six_month_report",
       task: int = 1) -> ObligationRow:
    return ObligationRow(unit, key, 0, due, submitted, task)


def test_a_report_sent_by_the_legal_end_is_on_time_and_after_it_late() -> None:
    due = D(2025, 7, 5)
    assert cell_state(ob(1, due, D(2025, 7, 7)), D(2025, 8, 1), legal_end) == "done"
    assert cell_state(ob(1, due, D(2025, 7, 8)), D(2025, 8, 1), legal_end) == "late"


def test_a_report_not_sent_is_overdue_only_after_the_legal_end() -> None:
    due = D(2025, 7, 5)
    assert cell_state(ob(1, due, None), D(2025, 7, 7), legal_end) == "open"
    assert cell_state(ob(1, due, None), D(2025, 7, 8), legal_end) == "overdue"


def test_a_submission_after_the_day_shown_does_not_count_yet() -> None:
    assert cell_state(ob(1, D(2025, 7, 5), D(2025, 7, 6)), D(2025, 7, 5), legal_end) == "open"


def test_rows_count_and_rate_per_unit_and_for_the_province() -> None:
    data = Dataset(year=2025, units=(UnitRow(1, "A", "Đơn vị A", "public"),
                                     UnitRow(2, "B", "Đơn vị B", "private")),
                   tasks=(), obligations=(
                       ob(1, D(2025, 3, 31), D(2025, 3, 30), "unit_plan", 10),
                       ob(1, D(2025, 7, 5), None, "six_month_report", 11),
                       ob(2, D(2025, 3, 31), D(2025, 4, 2), "unit_plan", 12)))
    board = dashboard(data, D(2025, 7, 10), legal_end, {"unit_plan": "kế hoạch",
                                                        "six_month_report": "sơ kết"})
    assert [c["key"] for c in board["columns"]] == ["unit_plan", "six_month_report"]
    a, b = board["rows"]
    assert [c["state"] if c else None for c in a["cells"]] == ["done", "overdue"]
    assert [c["state"] if c else None for c in b["cells"]] == ["late", None]
    assert (a["rate"], b["rate"], board["rate"]) == (50.0, 0.0, 33.3)
    assert board["total"] == {"done": 1, "late": 1, "overdue": 1, "open": 0}
    private = dashboard(data, D(2025, 7, 10), legal_end, {}, unit_kind="private")
    assert [r["code"] for r in private["rows"]] == ["B"]
