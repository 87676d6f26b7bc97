"""The printed compilation, cell by cell with openpyxl: the Decree 30 blocks, real date cells,
totals as formulas that come to the JSON's numbers, rates, and one detail row per valid task."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from engine.app import App
from engine.reports.build import make_report, render
from engine.reports.compute import Report
from engine.reports.config import Letterhead, Signer, reports_config
from tests.integration.reports_province import (
    YEAR,
    build_obligations,
    build_province,
    build_sessions,
)
from tests.integration.xlsxformulas import evaluate
from workflows.errors import InputError

HEAD = Letterhead("UBND TỈNH VĨNH PHÚC", "SỞ Y TẾ", "Vĩnh Phúc",
                  (Signer("NGƯỜI LẬP BIỂU", name="Nguyễn Thị Lan"),
                   Signer("TRƯỞNG PHÒNG NGHIỆP VỤ Y"),
                   Signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Văn Minh")))


@pytest.fixture
def province(app: App) -> App:
    build_province(app)
    build_obligations(app)
    build_sessions(app)
    return app


def report_and_sheets(app: App) -> tuple[Report, dict[str, Any], Any]:
    report = make_report(app.engine, "compliance", YEAR, today=dt.date(YEAR, 12, 10),
                         rules=app.report_rules())
    data = json.loads(render(report, "json"))
    return report, data, load_workbook(io.BytesIO(render(report, "xlsx", letterhead=HEAD)))


def row_of(ws: Worksheet, name: str) -> int:
    return next(c.row for c in ws["C"] if c.value == name)


def test_every_sheet_carries_the_decree_30_header_and_signature_blocks(province: App) -> None:
    _, _, wb = report_and_sheets(province)
    assert wb.sheetnames == ["Tuân thủ", "Danh mục", "Theo trạng thái"]
    for name in ("Tuân thủ", "Danh mục"):
        ws = wb[name]
        assert (ws["A1"].value, ws["A2"].value) == ("UBND TỈNH VĨNH PHÚC", "SỞ Y TẾ")
        assert ws["A2"].font.bold and ws["A1"].font.name == "Times New Roman"
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts
        assert "Độc lập - Tự do - Hạnh phúc" in texts
        assert "Vĩnh Phúc, ngày 10 tháng 12 năm 2025" in texts
        for block in ("NGƯỜI LẬP BIỂU", "TRƯỞNG PHÒNG NGHIỆP VỤ Y", "KT. GIÁM ĐỐC",
                      "PHÓ GIÁM ĐỐC", "Nguyễn Thị Lan", "Trần Văn Minh"):
            assert block in texts, (name, block)
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.print_title_rows == "$7:$7"


def test_the_as_of_day_and_the_detail_dates_are_date_cells_shown_dd_mm_yyyy(
        province: App) -> None:
    _, _, wb = report_and_sheets(province)
    ws = wb["Tuân thủ"]
    assert ws["C5"].value == dt.datetime(2025, 12, 10) and ws["C5"].number_format == "DD/MM/YYYY"
    detail = wb["Danh mục"]
    first = next(detail.iter_rows(min_row=8, max_row=8))
    assert first[1].value == "Đề tài BVDK unit"
    dates = [c for c in first[7:11] if c.value is not None]
    assert [c.value for c in dates] == [dt.datetime(2025, 2, 10), dt.datetime(2025, 4, 25),
                                        dt.datetime(2025, 11, 20), dt.datetime(2025, 12, 5)]
    assert all(c.number_format == "DD/MM/YYYY" for c in dates)
    assert first[11].value == 1  # the publication its `publish` URL entered in the register


def test_totals_are_formulas_that_come_to_the_json_numbers(province: App) -> None:
    report, data, wb = report_and_sheets(province)
    ws = wb["Tuân thủ"]
    columns = [c["key"] for c in data["columns"]]
    rows = {"Cộng đơn vị công lập": data["sections"][0]["subtotal"],
            "Cộng cơ sở ngoài công lập": data["sections"][1]["subtotal"],
            "Tổng cộng toàn tỉnh": data["total"]}
    checked = 0
    for name, expected in rows.items():
        r = row_of(ws, name)
        for i, key in enumerate(columns, 1):
            if key in ("stt", "code", "name"):
                continue
            cell = ws.cell(row=r, column=i)
            if expected[key] is None:  # the quota, for the private hospitals: not applicable
                assert cell.value == "–", (name, key)
                continue
            assert str(cell.value).startswith(("=SUM(", "=COUNTIF(")), (name, key, cell.value)
            assert evaluate(ws, cell.coordinate) == expected[key], (name, key)
            checked += 1
    assert checked == 3 * 16 - 1  # 16 figures (3 of them publications), 3 rows, one "–"
    # A unit figure corrected by hand re-sums: the subtotal is a formula over the unit rows.
    ws.cell(row=row_of(ws, "Bệnh viện Đa khoa tỉnh Vĩnh Phúc"), column=4, value=10)
    assert evaluate(ws, f"D{row_of(ws, 'Tổng cộng toàn tỉnh')}") == report.total["registered"] + 7


def test_rates_are_percentages_worked_out_from_the_totals(province: App) -> None:
    report, _, wb = report_and_sheets(province)
    ws = wb["Tuân thủ"]
    rates = {ws.cell(row=c.row, column=1).value: ws.cell(row=c.row, column=4)
             for c in ws["A"]
             if isinstance(c.value, str) and c.value.startswith(("Tỷ lệ ", "Số kỳ"))}
    quota = rates["Tỷ lệ đơn vị đạt chỉ tiêu (≥ 01 nhiệm vụ hợp lệ)"]
    assert quota.number_format == "0.0%"
    assert evaluate(ws, quota.coordinate) == pytest.approx(2 / 3)  # 2 of the 3 public units
    on_time = rates["Tỷ lệ báo cáo định kỳ nộp đúng hạn"]
    assert evaluate(ws, on_time.coordinate) == pytest.approx(
        report.total["obligations_on_time"] / report.total["obligations_due"])
    published = rates["Tỷ lệ nhiệm vụ đã công bố kết quả"]
    assert evaluate(ws, published.coordinate) == pytest.approx(1 / 6)


def test_the_detail_list_has_one_row_per_valid_task(province: App) -> None:
    report, _, wb = report_and_sheets(province)
    ws = wb["Danh mục"]
    titles = [r[1].value for r in ws.iter_rows(min_row=8) if isinstance(r[0].value, int)]
    # Six tasks registered in 2025; BVDK's initiative was rejected: not a valid task.
    assert len(titles) == len(report.details) == 5
    assert "Đề tài BVDK initiative" not in titles
    assert [r[0].value for r in ws.iter_rows(min_row=8, max_row=12)] == [1, 2, 3, 4, 5]
    assert any(c.value == "Tổng số: 5 nhiệm vụ" for row in ws.iter_rows() for c in row)


def test_the_letterhead_is_configured_in_the_reports_section() -> None:
    head = reports_config({"issuer": "UBND TỈNH PHÚ THỌ", "place": "Phú Thọ", "signers": [
        {"title": "NGƯỜI LẬP BIỂU"}, {"title": "KT. GIÁM ĐỐC", "subtitle": "PHÓ GIÁM ĐỐC"}]}
    ).letterhead
    assert (head.issuer, head.agency, head.place) == ("UBND TỈNH PHÚ THỌ", "SỞ Y TẾ", "Phú Thọ")
    assert [s.title for s in head.signers] == ["NGƯỜI LẬP BIỂU", "KT. GIÁM ĐỐC"]
    with pytest.raises(InputError, match=r"^config \[reports\] signers: expected 1 to 4 tables"):
        reports_config({"signers": [{"name": "X"}]})
    with pytest.raises(InputError, match=r"^config \[reports\] issuer: expected text"):
        reports_config({"issuer": 5})
