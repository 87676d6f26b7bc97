"""Reports against a small province whose figures are worked out by hand below.

The province (plan year 2025), every event recorded at the moment it took effect:

  BVDK (public)     T1 unit-level  created 10/2, outline approved 25/4, started 5/5,
                                   accepted 20/11, published 5/12
                    T2 provincial  created 1/3, outline approved 10/5 (late), started 20/5
                    T3 initiative  created 15/3, rejected 20/4
                    (T4: a 2024 task registered in 2025 — must not count)
  PHUCYEN (public)  T5 unit-level  created 1/2, approved 29/4, started 2/5, accepted 3/12 (late)
                    T6 unit-level  created 15/2, still proposed: its 30/4 deadline is overdue
  TAMDUONG (public) no task: quota not met
  BVTN (private)    T7 initiative  created 5/3, approved 10/4, started 15/4: the initiative's
                                   3-month in-progress deadline (15/7) is overdue from 16/7

Obligations (the scheduler's `unit_report` tasks; not research tasks, so never counted as such):
  unit plan due 31/3 — BVDK submits 28/3, PHUCYEN 3/4 (late), TAMDUONG never, BVTN on 31/3;
  BVDK also: 6-month report due 7/7 submitted 4/7, November session due 30/11 never submitted,
  annual report due 5/12 submitted 1/12.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from engine.app import App
from engine.reports import compute
from engine.reports.build import make_report, render
from engine.reports.compute import ReportRules
from tests.integration.reports_province import (
    YEAR,
    build_obligations,
    build_province,
    build_sessions,
)
from workflows.periods import SessionPlan


@pytest.fixture
def province(app: App) -> App:
    build_province(app)
    build_obligations(app)
    build_sessions(app)
    return app


def _on_time(report: compute.Report, code: str | None = None) -> tuple[int, int]:
    row = report.total if code is None else report.unit(code)
    return row["obligations_due"], row["obligations_on_time"]


def test_obligations_count_as_due_once_passed_and_on_time_when_submitted_by_the_due_day(
        province: App) -> None:
    report = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10))
    assert _on_time(report, "BVDK") == (4, 3)
    assert _on_time(report, "PHUCYEN") == (1, 0)
    assert _on_time(report, "TAMDUONG") == (1, 0)
    assert _on_time(report, "BVTN") == (1, 1)
    assert (report.sections[0].subtotal["obligations_due"],
            report.sections[0].subtotal["obligations_on_time"]) == (6, 3)
    assert _on_time(report) == (7, 4)
    # On 30/11 the November session is due that very day: not late yet; the annual report was
    # not yet submitted and not yet due.
    november = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10),
                           as_of=dt.date(YEAR, 11, 30))
    assert _on_time(november, "BVDK") == (2, 2)
    six_months = make_report(province.engine, "progress", YEAR, today=dt.date(YEAR, 12, 10))
    assert _on_time(six_months, "BVDK") == (1, 1)
    assert _on_time(six_months) == (4, 2)


def _figures(row: dict[str, object], keys: str) -> tuple[object, ...]:
    return tuple(row[k] for k in keys.split())


COMPLIANCE_KEYS = ("registered level_unit level_province level_initiative quota_met "
                   "approved_by_deadline accepted_by_deadline published overdue")


def test_compliance_counts_each_unit_as_worked_out_by_hand(province: App) -> None:
    report = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10))
    assert report.as_of == dt.date(YEAR, 12, 10)
    assert [s.kind for s in report.sections] == ["public", "private"]
    assert [r["code"] for r in report.sections[0].rows] == ["BVDK", "PHUCYEN", "TAMDUONG"]
    assert [r["code"] for r in report.sections[1].rows] == ["BVTN"]
    assert _figures(report.unit("BVDK"), COMPLIANCE_KEYS) == (3, 1, 1, 1, True, 1, 1, 1, 0)
    assert _figures(report.unit("PHUCYEN"), COMPLIANCE_KEYS) == (2, 2, 0, 0, True, 1, 0, 0, 1)
    assert _figures(report.unit("TAMDUONG"), COMPLIANCE_KEYS) == (0, 0, 0, 0, False, 0, 0, 0, 0)
    # A private hospital is outside the quota: "–", not "Có" or "Không".
    assert _figures(report.unit("BVTN"), COMPLIANCE_KEYS) == (1, 0, 0, 1, None, 1, 0, 0, 1)
    assert report.unit("BVDK")["by_state"] == {"published": 1, "in_progress": 1, "rejected": 1}
    assert report.unit("PHUCYEN")["by_state"] == {"accepted": 1, "proposed": 1}


def test_sessions_held_and_periods_missed_are_counted_per_unit(province: App) -> None:
    report = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10))
    held_missed = {r["code"]: (r["sessions_held"], r["sessions_missed"])
                   for r in report.unit_rows()}
    # Monthly: January to November have ended by 10/12; two sessions in March count once.
    assert held_missed == {"BVDK": (4, 8), "PHUCYEN": (1, 10), "TAMDUONG": (0, 11),
                           "BVTN": (1, 10)}
    assert (report.total["sessions_held"], report.total["sessions_missed"]) == (6, 39)
    march = make_report(province.engine, "progress", YEAR, today=dt.date(YEAR, 12, 10),
                        as_of=dt.date(YEAR, 3, 31))
    assert (march.unit("BVDK")["sessions_held"], march.unit("BVDK")["sessions_missed"]) == (4, 0)
    assert march.unit("TAMDUONG")["sessions_missed"] == 3
    quarterly = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10),
                            rules=ReportRules(sessions=SessionPlan(by_unit={"PHUCYEN": "quarter"})))
    # Quarterly, Phúc Yên held one in Q1 and none in Q2 and Q3 (Q4 has not ended).
    assert quarterly.unit("PHUCYEN")["sessions_missed"] == 2


def test_compliance_totals_public_private_and_province(province: App) -> None:
    report = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10))
    public, private = (s.subtotal for s in report.sections)
    assert _figures(public, COMPLIANCE_KEYS) == (5, 3, 1, 1, 2, 2, 1, 1, 1)
    assert _figures(private, COMPLIANCE_KEYS) == (1, 0, 0, 1, None, 1, 0, 0, 1)
    assert _figures(report.total, COMPLIANCE_KEYS) == (6, 3, 1, 2, 2, 3, 1, 1, 2)
    assert report.total["units"] == 4
    assert report.total["by_state"] == {"published": 1, "in_progress": 2, "rejected": 1,
                                        "accepted": 1, "proposed": 1}


def test_compliance_as_of_a_past_day_sees_only_what_had_happened(province: App) -> None:
    report = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10),
                         as_of=dt.date(YEAR, 11, 30))
    # T1's publication (5/12) had not happened; T6 and T7 were already overdue.
    assert _figures(report.total, COMPLIANCE_KEYS) == (6, 3, 1, 2, 2, 3, 1, 0, 2)
    july = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10),
                       as_of=dt.date(YEAR, 7, 15))
    assert july.unit("BVTN")["overdue"] == 0  # due 15/7: overdue only once that day has ended
    assert july.total["accepted_by_deadline"] == 0


PROGRESS_KEYS = "registered approved started accepted published ended overdue"


def test_progress_is_the_six_month_view_by_default(province: App) -> None:
    report = make_report(province.engine, "progress", YEAR, today=dt.date(YEAR, 12, 10))
    assert report.as_of == dt.date(YEAR, 6, 30)
    assert _figures(report.unit("BVDK"), PROGRESS_KEYS) == (3, 2, 2, 0, 0, 1, 0)
    assert _figures(report.unit("PHUCYEN"), PROGRESS_KEYS) == (2, 1, 1, 0, 0, 0, 1)
    assert _figures(report.unit("TAMDUONG"), PROGRESS_KEYS) == (0, 0, 0, 0, 0, 0, 0)
    assert _figures(report.unit("BVTN"), PROGRESS_KEYS) == (1, 1, 1, 0, 0, 0, 0)
    assert _figures(report.total, PROGRESS_KEYS) == (6, 4, 4, 0, 0, 1, 1)
    assert report.unit("BVDK")["by_state"] == {"in_progress": 2, "rejected": 1}


def test_progress_counts_only_tasks_registered_by_the_day(province: App) -> None:
    report = make_report(province.engine, "progress", YEAR, today=dt.date(YEAR, 12, 10),
                         as_of=dt.date(YEAR, 3, 1))
    assert report.unit("BVDK")["registered"] == 2  # T1 and T2 (created that very day)
    assert report.unit("PHUCYEN")["registered"] == 2
    assert report.unit("BVTN")["registered"] == 0
    assert report.total["by_state"] == {"proposed": 4}


def test_csv_parses_into_the_same_rows_and_totals(province: App) -> None:
    report = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10))
    data = render(report, "csv")
    assert data.startswith("\ufeffLoại dòng;Khu vực;".encode())  # BOM, then ';' for vi-VN Excel
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert [(r["Loại dòng"], r["Mã đơn vị"]) for r in rows] == [
        ("đơn vị", "BVDK"), ("đơn vị", "PHUCYEN"), ("đơn vị", "TAMDUONG"), ("cộng", ""),
        ("đơn vị", "BVTN"), ("cộng", ""), ("tổng", "")]
    phuc_yen, tam_duong, total = rows[1], rows[2], rows[-1]
    assert phuc_yen["Tên đơn vị"] == "Bệnh viện Đa khoa khu vực Phúc Yên"
    assert phuc_yen["Tổng số nhiệm vụ đăng ký"] == "2"
    assert phuc_yen["Đạt chỉ tiêu (≥ 1 nhiệm vụ)"] == "Có"
    assert tam_duong["Đạt chỉ tiêu (≥ 1 nhiệm vụ)"] == "Không"
    assert phuc_yen["Trạng thái: Đã đề xuất, chờ xét duyệt đề cương"] == "1"
    assert total["Tên đơn vị"] == "Tổng cộng toàn tỉnh"
    assert total["Đạt chỉ tiêu (≥ 1 nhiệm vụ)"] == "2"
    assert rows[4]["Mã đơn vị"] == "BVTN" and rows[4]["Đạt chỉ tiêu (≥ 1 nhiệm vụ)"] == "–"
    assert total["Hạn đã quá chưa xử lý"] == "2"


def test_csv_takes_another_delimiter_with_the_same_rows(province: App) -> None:
    report = make_report(province.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10))
    semicolon = list(csv.reader(io.StringIO(render(report, "csv").decode("utf-8-sig")),
                                delimiter=";"))
    comma = render(report, "csv", delimiter=",").decode("utf-8-sig")
    assert comma.startswith("Loại dòng,Khu vực,")
    assert list(csv.reader(io.StringIO(comma))) == semicolon
    assert len(semicolon[0]) > 10


def test_json_carries_the_rows_for_scripts(province: App) -> None:
    report = make_report(province.engine, "progress", YEAR, today=dt.date(YEAR, 12, 10))
    data = json.loads(render(report, "json"))
    assert data["report"] == "progress" and data["as_of"] == "2025-06-30"
    assert data["total"]["approved"] == 4
    assert [r["code"] for r in data["sections"][1]["rows"]] == ["BVTN"]


def test_a_province_without_units_gives_an_empty_report_not_an_error(app: App) -> None:
    report = make_report(app.engine, "compliance", YEAR, today=dt.date(YEAR, 5, 1))
    assert report.unit_rows() == [] and report.total["registered"] == 0
    assert render(report, "table").decode().startswith("Báo cáo tổng hợp")
