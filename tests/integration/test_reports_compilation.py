"""The year's compilation (`nckh report compilation`), cell by cell with openpyxl: both sheets
carry the Decree 30 blocks, dates are date cells, totals and rates are formulas that come to the
JSON's numbers, and the danh mục has one row per valid task with its decisions as recorded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from engine.app import App
from engine.reports.build import make_compilation, render
from engine.reports.compilation import Compilation
from engine.reports.config import Letterhead, Signer
from tests.integration.compilation_province import DECIDED, build_compilation_province
from tests.integration.reports_province import YEAR
from tests.integration.xlsxformulas import evaluate
from workflows.errors import InputError

HEAD = Letterhead("UBND TỈNH VĨNH PHÚC", "SỞ Y TẾ", "Vĩnh Phúc",
                  (Signer("NGƯỜI LẬP BIỂU", name="Nguyễn Thị Lan"),
                   Signer("TRƯỞNG PHÒNG NGHIỆP VỤ Y"),
                   Signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Văn Minh")))
TOTAL = "Tổng cộng toàn tỉnh"


@pytest.fixture
def compiled(app: App) -> tuple[Compilation, dict[str, Any], Any]:
    build_compilation_province(app)
    result = make_compilation(app.engine, YEAR, today=dt.date(YEAR, 12, 10),
                              rules=app.report_rules())
    data = json.loads(render(result, "json"))
    return result, data, load_workbook(io.BytesIO(render(result, "xlsx", letterhead=HEAD)))


def row_of(ws: Worksheet, name: str) -> int:
    return int(next(c.row for c in ws["C"] if c.value == name))


def texts(ws: Worksheet) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_both_sheets_carry_the_decree_30_blocks_and_print_on_a4(compiled: Any) -> None:
    _, _, wb = compiled
    assert wb.sheetnames == ["Tổng hợp", "Danh mục"]
    for ws in wb.worksheets:
        assert (ws["A1"].value, ws["A2"].value) == ("UBND TỈNH VĨNH PHÚC", "SỞ Y TẾ")
        assert ws["A1"].font.name == "Times New Roman" and ws["A2"].font.bold
        found = texts(ws)
        for block in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                      "Vĩnh Phúc, ngày 10 tháng 12 năm 2025", "NGƯỜI LẬP BIỂU",
                      "TRƯỞNG PHÒNG NGHIỆP VỤ Y", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC",
                      "Nguyễn Thị Lan", "Trần Văn Minh"):
            assert block in found, (ws.title, block)
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb["Tổng hợp"].page_setup.orientation == "portrait"
    assert wb["Danh mục"].page_setup.orientation == "landscape"
    assert wb["Tổng hợp"]["A4"].value == "Tổng hợp kết quả hoạt động nghiên cứu khoa học năm 2025"


def test_the_summary_totals_are_formulas_that_come_to_the_json_numbers(compiled: Any) -> None:
    _, data, wb = compiled
    ws = wb["Tổng hợp"]
    keys = [c["key"] for c in data["columns"]]
    rows = {"Cộng đơn vị công lập": data["sections"][0]["subtotal"],
            "Cộng cơ sở ngoài công lập": data["sections"][1]["subtotal"], TOTAL: data["total"]}
    checked = 0
    for name, expected in rows.items():
        r = row_of(ws, name)
        for i, key in enumerate(keys, 1):
            if key in ("stt", "code", "name"):
                continue
            cell = ws.cell(row=r, column=i)
            if expected[key] is None:  # the quota, for the private hospitals
                assert cell.value == "–", (name, key)
                continue
            assert str(cell.value).startswith(("=SUM(", "=COUNTIF(", "=IFERROR(")), (name, key)
            assert evaluate(ws, cell.coordinate) == pytest.approx(expected[key]), (name, key)
            checked += 1
    assert checked == 3 * 10 - 1  # 10 figures on 3 rows, the private quota "–"
    total = data["total"]
    # Plans acknowledged: BVDK and the private hospital (Phúc Yên's only sent, Tam Dương's
    # waived); the quota: BVDK and Phúc Yên (Tam Dương's only task was cancelled).
    assert (total["plan_accepted"], total["quota_met"]) == (2, 2)
    assert (total["registered"], total["valid"], total["accepted"]) == (8, 6, 3)
    assert total["sessions_held"] == 6
    assert (total["articles_domestic"], total["articles_international"],
            total["articles_total"]) == (0, 1, 2)


def test_unit_rows_hold_numbers_and_flags_and_their_rate_is_a_formula(compiled: Any) -> None:
    _, data, wb = compiled
    ws = wb["Tổng hợp"]
    keys = [c["key"] for c in data["columns"]]
    r = row_of(ws, "Bệnh viện Đa khoa khu vực Phúc Yên")

    def at(key: str) -> Any:
        return ws.cell(row=r, column=keys.index(key) + 1)

    assert (at("plan_accepted").value, at("quota_met").value) == ("Không", "Có")
    assert (at("registered").value, at("valid").value, at("accepted").value) == (3, 3, 2)
    assert at("accepted_rate").value.startswith("=IFERROR(")
    assert at("accepted_rate").number_format == "0.0%"
    assert evaluate(ws, at("accepted_rate").coordinate) == pytest.approx(2 / 3)
    tam = row_of(ws, "Trung tâm Y tế huyện Tam Dương")
    assert ws.cell(row=tam, column=keys.index("quota_met") + 1).value == "Không"


def test_the_province_rates_are_percentage_formulas_equal_to_the_json(compiled: Any) -> None:
    _, data, wb = compiled
    ws = wb["Tổng hợp"]
    cells = {ws.cell(row=c.row, column=1).value: ws.cell(row=c.row, column=4)
             for c in ws["A"] if isinstance(c.value, str) and c.value.startswith("Tỷ lệ ")}
    expected = {r["label"]: r["value"] for r in data["rates"]}
    assert set(cells) == set(expected) and len(expected) == 3
    for label, value in expected.items():
        assert cells[label].number_format == "0.0%"
        assert str(cells[label].value).startswith("=IFERROR(")
        assert evaluate(ws, cells[label].coordinate) == pytest.approx(value), label
    by_key = {r["key"]: r["value"] for r in data["rates"]}
    assert by_key["plan_accepted_rate"] == pytest.approx(2 / 4)  # every unit has the obligation
    assert by_key["quota_met_rate"] == pytest.approx(2 / 3)  # public units only
    assert by_key["accepted_rate"] == pytest.approx(3 / 8)


def test_the_detail_has_one_row_per_valid_task_with_its_decisions(compiled: Any) -> None:
    result, data, wb = compiled
    ws = wb["Danh mục"]
    header = [c.value for c in ws[7]]
    assert header[:6] == ["STT", "Tên nhiệm vụ", "Chủ nhiệm / tác giả", "Đơn vị", "Cấp / loại",
                          "Nhóm lĩnh vực"]
    assert {"Xếp loại", "Công nhận kết quả", "Ứng dụng kết quả"} <= set(header)
    rows = [r for r in ws.iter_rows(min_row=8) if isinstance(r[0].value, int)]
    titles = [r[1].value for r in rows]
    # 8 tasks registered in 2025: BVDK's rejected initiative and Tam Dương's cancelled topic
    # are not valid.
    assert len(rows) == len(result.entries) == len(data["details"]) == 6
    assert "Đề tài BVDK initiative" not in titles and "Đề tài Tam Dương đã hủy" not in titles
    assert [r[0].value for r in rows] == [1, 2, 3, 4, 5, 6]
    row = rows[titles.index(DECIDED)]
    values = {h: c for h, c in zip(header, row, strict=True)}
    assert values["Chủ nhiệm / tác giả"].value == "ThS.BS Nguyễn Thị Mai"
    assert values["Đơn vị"].value == "Bệnh viện Đa khoa khu vực Phúc Yên (PHUCYEN)"
    assert values["Nhóm lĩnh vực"].value == 2
    assert values["Số quyết định phê duyệt"].value == "12/QĐ-BVPY"
    # The decision's own date, not the day it was entered (22/4).
    assert values["Ngày phê duyệt"].value == dt.datetime(2025, 4, 18)
    assert values["Số quyết định / biên bản nghiệm thu"].value == "45/BB-HĐKH"
    assert values["Ngày nghiệm thu"].value == dt.datetime(2025, 11, 25)
    assert values["Xếp loại"].value == "Khá"
    assert values["Số bài báo, công bố"].value == 1
    assert values["Công nhận kết quả"].value is None and values["Ứng dụng kết quả"].value is None
    total = next(r for r in ws.iter_rows(min_row=8) if r[1].value == "Tổng số: 6 nhiệm vụ")
    assert str(total[12].value).startswith("=SUM(")
    assert evaluate(ws, total[12].coordinate) == sum(d["publications"] for d in data["details"])


def test_detail_dates_are_date_cells_shown_dd_mm_yyyy(compiled: Any) -> None:
    _, data, wb = compiled
    ws = wb["Danh mục"]
    assert ws["C5"].value == dt.datetime(2025, 12, 10) and ws["C5"].number_format == "DD/MM/YYYY"
    first = next(ws.iter_rows(min_row=8, max_row=8))
    assert first[1].value == "Đề tài BVDK unit"
    # No decision recorded with it: the day the step took effect.
    assert (first[7].value, first[9].value) == (dt.datetime(2025, 4, 25),
                                                dt.datetime(2025, 11, 20))
    # Five outlines approved, three tasks accepted.
    dates = [c for r in ws.iter_rows(min_row=8) for c in (r[7], r[9]) if c.value is not None
             and isinstance(r[0].value, int)]
    assert len(dates) == 5 + 3 and all(isinstance(c.value, dt.datetime) for c in dates)
    assert all(c.number_format == "DD/MM/YYYY" for c in dates)
    assert data["details"][0]["approval_on"] == "2025-04-25"


def test_csv_holds_the_summary_the_rates_and_the_detail_with_a_bom(compiled: Any) -> None:
    result, _, _ = compiled
    text = render(result, "csv").decode("utf-8")
    assert text.startswith("\ufeffLoại dòng;Khu vực;STT;")
    summary, rates, detail = text.lstrip("\ufeff").split("\r\n\r\n")
    total = list(csv.reader(io.StringIO(summary), delimiter=";"))[-1]
    assert total[:5] == ["tổng", "", "", "", TOTAL] and "37,5%" in total
    assert "tỷ lệ;;Tỷ lệ nhiệm vụ đã nghiệm thu trên số đăng ký;37,5%" in rates
    rows = list(csv.DictReader(io.StringIO(detail), delimiter=";"))
    assert len(rows) == 6
    decided = next(r for r in rows if r["Tên nhiệm vụ"] == DECIDED)
    assert (decided["Ngày phê duyệt"], decided["Xếp loại"]) == ("18/04/2025", "Khá")
    comma = render(result, "csv", delimiter=",").decode("utf-8")
    assert comma.startswith("\ufeffLoại dòng,Khu vực,STT,")


def test_a_year_out_of_range_or_an_unknown_format_is_refused(app: App) -> None:
    with pytest.raises(InputError, match="invalid year 1999"):
        make_compilation(app.engine, 1999, today=dt.date(2025, 12, 10))
    with pytest.raises(InputError, match="before the year 2025 begins"):
        make_compilation(app.engine, 2025, today=dt.date(2025, 12, 10),
                         as_of=dt.date(2024, 12, 31))
    result = make_compilation(app.engine, 2025, today=dt.date(2025, 12, 10))
    with pytest.raises(InputError, match="unknown format 'pdf'"):
        render(result, "pdf")
