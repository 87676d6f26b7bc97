"""The year's compilation as a workbook for print: "Tổng hợp" (the indicators) and "Danh mục"
(the valid tasks with their decisions), each with the Decree 30 blocks of `xlsx.py` (issuing
body and motto, place and date, signatures), Times New Roman, A4 fitted to the page's width.

The summary is `xlsx.report_table`'s: figures as numbers, subtotals and the province total as
=SUM / =COUNTIF formulas, a unit's acceptance rate as a formula on its row; the province rates
follow as formulas over the total row, shown as percentages. The detail sheet is printed
landscape (fourteen columns); its dates are date cells shown dd/mm/yyyy and its count of
publications is summed by a formula.
"""

from __future__ import annotations

import io
import math
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.reports.compilation import Compilation
from engine.reports.config import Letterhead
from engine.reports.xlsx import (
    HEADER_ROW,
    RATE_FORMAT,
    TOTAL_FILL,
    font,
    header_row,
    letterhead_rows,
    merged,
    rate_block,
    report_table,
    setup_print,
    signature_blocks,
    table_row,
)

SUMMARY_SHEET, DETAIL_SHEET = "Tổng hợp", "Danh mục"
DETAIL_COLUMNS = (  # (label, width, kind)
    ("STT", 5, "int"), ("Tên nhiệm vụ", 40, "text"), ("Chủ nhiệm / tác giả", 20, "text"),
    ("Đơn vị", 24, "text"), ("Cấp / loại", 14, "text"), ("Nhóm lĩnh vực", 8, "int"),
    ("Số quyết định phê duyệt", 14, "text"), ("Ngày phê duyệt", 12, "date"),
    ("Số quyết định / biên bản nghiệm thu", 14, "text"), ("Ngày nghiệm thu", 12, "date"),
    ("Xếp loại", 10, "text"), ("Công nhận kết quả", 12, "text"),
    ("Số bài báo, công bố", 9, "int"), ("Ứng dụng kết quả", 16, "text"),
    ("Kinh phí (nguồn)", 18, "text"),  # last: the annex's own columns keep their places
)
PUBLICATIONS_COLUMN = [label for label, _, _ in DETAIL_COLUMNS].index("Số bài báo, công bố") + 1
NOTE = ("Ngày phê duyệt, ngày nghiệm thu: ngày ghi trên quyết định nếu đã nhập, nếu không là "
        "ngày ghi nhận trên hệ thống. Công nhận kết quả và ứng dụng kết quả: để trống khi chưa "
        "ghi nhận.")


def _fit_height(ws: Worksheet, r: int, values: list[Any], widths: list[int],
                base: float = 15.0) -> None:
    """A row tall enough for its wrapped text: LibreOffice (and Excel, for merged cells) do not
    size rows on opening, and a title over two lines would print over the next row."""
    lines = max((math.ceil(len(v) / max(1.0, w * 1.15)) for v, w in zip(values, widths,
                                                                        strict=True)
                 if isinstance(v, str) and not v.startswith("=")), default=1)
    ws.row_dimensions[r].height = base * max(1, lines)


def _summary_sheet(ws: Worksheet, compiled: Compilation, head: Letterhead) -> None:
    report = compiled.summary
    cols = [c.key for c in report.columns]
    n = len(cols)
    total_row = report_table(ws, report, head)

    def cell(key: str) -> str:
        return f"{get_column_letter(cols.index(key) + 1)}{total_row}"

    rates = [(rate.label, f"=IFERROR({cell(rate.part)}/"
                          f"{rate.whole if isinstance(rate.whole, int) else cell(rate.whole)},0)",
              RATE_FORMAT) for rate in compiled.rates]
    r = rate_block(ws, total_row + 1, rates)
    widths = [c.width for c in report.columns]
    for note in report.notes:
        r += 1
        merged(ws, r, 1, n, f"Ghi chú: {note}", font(italic=True, size=11), align="left")
        _fit_height(ws, r, [f"Ghi chú: {note}"], [sum(widths)])
    signature_blocks(ws, head, r + 2, n)
    setup_print(ws, n, landscape=False)


def _detail_sheet(ws: Worksheet, compiled: Compilation, head: Letterhead) -> None:
    labels = [label for label, _, _ in DETAIL_COLUMNS]
    kinds = [kind for _, _, kind in DETAIL_COLUMNS]
    n = len(labels)
    report = compiled.summary
    letterhead_rows(ws, head, n, f"Danh mục nhiệm vụ khoa học và công nghệ năm {report.year}",
                    report.as_of, report.made_on or report.as_of)
    header_row(ws, labels, [w for _, w, _ in DETAIL_COLUMNS])
    r = HEADER_ROW + 1
    widths = [w for _, w, _ in DETAIL_COLUMNS]
    for e in compiled.entries:
        values = [e.stt, e.title, e.pi_name, f"{e.unit_name} ({e.unit_code})", e.level,
                  e.topic, e.approval_no, e.approval_on, e.acceptance_no,
                  e.acceptance_on, e.grade, e.recognition, e.publications, e.application,
                  e.funding or None]
        table_row(ws, r, values, kinds)
        _fit_height(ws, r, values, widths)
        r += 1
    letter = get_column_letter(PUBLICATIONS_COLUMN)
    total: list[Any] = [None] * n
    total[1] = f"Tổng số: {len(compiled.entries)} nhiệm vụ"
    total[PUBLICATIONS_COLUMN - 1] = (f"=SUM({letter}{HEADER_ROW + 1}:{letter}{r - 1})"
                                      if compiled.entries else 0)
    table_row(ws, r, total, kinds, bold=True, fill=TOTAL_FILL)
    merged(ws, r + 1, 1, n, f"Ghi chú: {NOTE}", font(italic=True, size=11), align="left")
    _fit_height(ws, r + 1, [f"Ghi chú: {NOTE}"], [sum(widths)])
    signature_blocks(ws, head, r + 3, n)
    setup_print(ws, n, landscape=True)


def compilation_xlsx(compiled: Compilation, letterhead: Letterhead | None = None) -> bytes:
    head = letterhead or Letterhead()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SUMMARY_SHEET
    _summary_sheet(ws, compiled, head)
    _detail_sheet(wb.create_sheet(DETAIL_SHEET), compiled, head)
    wb.properties.title = compiled.summary.title
    wb.properties.creator = "nckh"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
