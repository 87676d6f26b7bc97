"""A `Report` as a workbook formatted for print: the office prints it for the leadership.

Sheet 1 is the report: a title and "as of" line, one header row (Vietnamese labels, wrapped,
repeated on every printed page), a titled block per section (public units, then private
hospitals) closed by its subtotal, and the province total, on A4 landscape fitted to the page
width. Sheet 2 breaks the tasks down by state. Numbers are numbers (the office re-sums them);
flags read "Có"/"Không" on unit rows and count units on total rows.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.reports.compute import Column, Report
from engine.reports.render import NO, YES, vn_date

HEADER_ROW = 4
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
FONT = "Times New Roman"  # the font of Vietnamese administrative documents
SHEET_NAMES = {"compliance": "Tuân thủ", "progress": "Tiến độ"}
ROMAN = ("I", "II", "III")


def _value(col: Column, row: dict[str, Any], *, total: bool) -> Any:
    value = row.get(col.key)
    if col.kind == "flag" and not total and value is not None:
        return YES if value else NO
    if col.kind == "flag" and value is None:
        return "–"  # the quota does not bind this unit (a private hospital)
    return value


def _setup_print(ws: Worksheet, last_col: int) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "Trang &P / &N"
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    ws.print_area = f"A1:{get_column_letter(last_col)}{ws.max_row}"


def _title(ws: Worksheet, report: Report, ncols: int) -> None:
    ws.cell(row=1, column=1, value=report.title).font = Font(name=FONT, bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    as_of = ws.cell(row=2, column=1, value=f"Tính đến ngày {vn_date(report.as_of)}")
    as_of.font = Font(name=FONT, italic=True, size=12)
    as_of.alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncols)


def _header(ws: Worksheet, labels: list[str], widths: list[int]) -> None:
    for i, (label, width) in enumerate(zip(labels, widths, strict=True), 1):
        c = ws.cell(row=HEADER_ROW, column=i, value=label)
        c.font = Font(name=FONT, bold=True, size=11)
        c.fill = HEADER_FILL
        c.border = BOX
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.row_dimensions[HEADER_ROW].height = 48


def _row(ws: Worksheet, r: int, values: list[Any], kinds: list[str], *, bold: bool = False,
         fill: PatternFill | None = None) -> None:
    for i, (value, kind) in enumerate(zip(values, kinds, strict=True), 1):
        c = ws.cell(row=r, column=i, value=value)
        c.font = Font(name=FONT, bold=bold, size=11)
        c.border = BOX
        c.alignment = Alignment(horizontal="left" if kind == "text" else "center",
                                vertical="center", wrap_text=kind == "text")
        if fill is not None:
            c.fill = fill


def _report_sheet(ws: Worksheet, report: Report) -> None:
    cols = list(report.columns)
    n = len(cols)
    kinds = [c.kind for c in cols]
    _title(ws, report, n)
    _header(ws, [c.label for c in cols], [c.width for c in cols])
    r = HEADER_ROW + 1
    for number, section in zip(ROMAN, report.sections, strict=False):
        c = ws.cell(row=r, column=1, value=f"{number}. {section.title}")
        c.font = Font(name=FONT, bold=True, italic=True, size=11)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n)
        r += 1
        for row in section.rows:
            _row(ws, r, [_value(c, row, total=False) for c in cols], kinds)
            r += 1
        _row(ws, r, [_value(c, section.subtotal, total=True) for c in cols], kinds, bold=True)
        r += 1
    _row(ws, r, [_value(c, report.total, total=True) for c in cols], kinds, bold=True,
         fill=TOTAL_FILL)
    for note in report.notes:
        r += 2
        ws.cell(row=r, column=1, value=f"Ghi chú: {note}").font = Font(name=FONT, italic=True)
    _setup_print(ws, n)


def _state_sheet(ws: Worksheet, report: Report) -> None:
    head = [c for c in report.columns if c.key in ("stt", "code", "name")]
    labels = [c.label for c in head] + [label for _, label in report.states] + ["Tổng"]
    widths = [c.width for c in head] + [14] * (len(report.states) + 1)
    kinds = [c.kind for c in head] + ["int"] * (len(report.states) + 1)
    ws.cell(row=1, column=1, value=f"{report.title}: số nhiệm vụ theo trạng thái").font = Font(
        name=FONT, bold=True, size=13)
    ws.cell(row=2, column=1, value=f"Tính đến ngày {vn_date(report.as_of)}").font = Font(
        name=FONT, italic=True)
    _header(ws, labels, widths)
    r = HEADER_ROW + 1

    def values(row: dict[str, Any]) -> list[Any]:
        counts = [row["by_state"].get(s, 0) for s, _ in report.states]
        return [row.get(c.key) for c in head] + counts + [sum(counts)]

    for section in report.sections:
        for row in section.rows:
            _row(ws, r, values(row), kinds)
            r += 1
        _row(ws, r, values(section.subtotal), kinds, bold=True)
        r += 1
    _row(ws, r, values(report.total), kinds, bold=True, fill=TOTAL_FILL)
    _setup_print(ws, len(labels))


def to_xlsx(report: Report) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_NAMES.get(report.kind, report.kind)
    _report_sheet(ws, report)
    _state_sheet(wb.create_sheet("Theo trạng thái"), report)
    wb.properties.title = report.title
    wb.properties.creator = "nckh"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
