"""A `Report` as a workbook formatted for print: the office prints it, signs it and sends it up.

Every sheet carries the Decree 30/2020/NĐ-CP blocks (`Letterhead`): the issuing body and the
agency top left, the national motto top right, place and date, the title, then, after the
table, the signature blocks (NGƯỜI LẬP BIỂU / TRƯỞNG PHÒNG … / KT. GIÁM ĐỐC). Times New Roman, A4,
the header row repeated on every printed page.

Sheet 1 ("Tổng hợp"-style: "Tuân thủ" or "Tiến độ") is the report: a titled block per section
(public units, then private hospitals) closed by its subtotal, and the province total. Figures
are numbers; subtotals and the total are formulas (=SUM over the rows above, =COUNTIF of "Có"
for a flag), so a figure corrected by hand re-sums. Rates follow as formulas shown as
percentages. Sheet 2 ("Danh mục") lists the valid tasks, one a row, with real date cells shown
dd/mm/yyyy. Sheet 3 breaks the tasks down by state.

The blocks and the table (`letterhead_rows`, `report_table`, `rate_block`, `signature_blocks`,
`setup_print`, …) are public: the year's compilation (`compilation_xlsx.py`) prints with them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.reports.compute import Column, Report
from engine.reports.config import Letterhead
from engine.reports.render import NO, YES

HEADER_ROW = 7  # below the letterhead (rows 1–3), the title (4) and the "as of" line (5)
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
FONT = "Times New Roman"  # the font of Vietnamese administrative documents
DATE_FORMAT = "DD/MM/YYYY"
RATE_FORMAT = "0.0%"
SHEET_NAMES = {"compliance": "Tuân thủ", "progress": "Tiến độ"}
DETAIL_SHEET = "Danh mục"
ROMAN = ("I", "II", "III")
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
DETAIL_COLUMNS = (  # (label, width, kind)
    ("STT", 5, "int"), ("Tên nhiệm vụ", 44, "text"), ("Đơn vị", 28, "text"),
    ("Chủ nhiệm / tác giả", 22, "text"), ("Cấp / loại", 16, "text"), ("Nhóm", 7, "int"),
    ("Trạng thái", 22, "text"), ("Ngày đăng ký", 12, "date"), ("Ngày duyệt đề cương", 12, "date"),
    ("Ngày nghiệm thu", 12, "date"), ("Ngày công bố", 12, "date"), ("Số bài báo, công bố", 10,
                                                                     "int"),
    ("Xếp loại nghiệm thu", 14, "text"), ("Ngày công nhận", 12, "date"))


def font(*, bold: bool = False, italic: bool = False, size: int = 12) -> Font:
    return Font(name=FONT, bold=bold, italic=italic, size=size)


def merged(ws: Worksheet, row: int, first: int, last: int, value: Any, font: Font,
            align: str = "center") -> None:
    cell = ws.cell(row=row, column=first, value=value)
    cell.font = font
    cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
    if last > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)


def vi_long_date(day: dt.date) -> str:
    """"ngày 09 tháng 7 năm 2025": two-digit days, months below 3 with a leading zero."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def letterhead_rows(ws: Worksheet, head: Letterhead, ncols: int, title: str, as_of: dt.date,
                made_on: dt.date) -> None:
    """Rows 1–5: the issuing body and agency (left), the motto (right), place and date, the
    title, and the day the figures stand at (a date cell)."""
    left_end = max(2, ncols // 3)
    right_start = left_end + 1
    merged(ws, 1, 1, left_end, head.issuer, font(size=12))
    merged(ws, 2, 1, left_end, head.agency, font(bold=True, size=12))
    merged(ws, 1, right_start, ncols, MOTTO[0], font(bold=True, size=12))
    merged(ws, 2, right_start, ncols, MOTTO[1], font(bold=True, size=13))
    place = f"{head.place}, " if head.place else ""
    merged(ws, 3, right_start, ncols, f"{place}{vi_long_date(made_on)}",
            font(italic=True, size=12))
    merged(ws, 4, 1, ncols, title, font(bold=True, size=14))
    label = ws.cell(row=5, column=1, value="Tính đến ngày")
    label.font = font(italic=True)
    label.alignment = Alignment(horizontal="right")
    ws.merge_cells(start_row=5, start_column=1, end_row=5, end_column=2)
    day = ws.cell(row=5, column=3, value=as_of)
    day.number_format = DATE_FORMAT
    day.font = font(italic=True)
    day.alignment = Alignment(horizontal="left")
    ws.row_dimensions[4].height = 36


def signature_blocks(ws: Worksheet, head: Letterhead, first_row: int, ncols: int) -> int:
    """The signature blocks side by side from `first_row`; the last row used."""
    n = len(head.signers)
    span = max(1, ncols // n)
    for i, signer in enumerate(head.signers):
        first = 1 + i * span
        last = ncols if i == n - 1 else first + span - 1
        merged(ws, first_row, first, last, signer.title, font(bold=True))
        if signer.subtitle:
            merged(ws, first_row + 1, first, last, signer.subtitle, font(bold=True))
        merged(ws, first_row + 2, first, last, "(Ký, ghi rõ họ tên)", font(italic=True,
                                                                           size=11))
        if signer.name:
            merged(ws, first_row + 7, first, last, signer.name, font(bold=True))
    return first_row + 7


def setup_print(ws: Worksheet, last_col: int, *, landscape: bool = True) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = (ws.ORIENTATION_LANDSCAPE if landscape
                                 else ws.ORIENTATION_PORTRAIT)
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


def header_row(ws: Worksheet, labels: Sequence[str], widths: Sequence[int]) -> None:
    for i, (label, width) in enumerate(zip(labels, widths, strict=True), 1):
        c = ws.cell(row=HEADER_ROW, column=i, value=label)
        c.font = font(bold=True, size=11)
        c.fill = HEADER_FILL
        c.border = BOX
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.row_dimensions[HEADER_ROW].height = 48


def table_row(ws: Worksheet, r: int, values: Sequence[Any], kinds: Sequence[str], *,
         bold: bool = False, fill: PatternFill | None = None) -> None:
    for i, (value, kind) in enumerate(zip(values, kinds, strict=True), 1):
        c = ws.cell(row=r, column=i, value=value)
        c.font = font(bold=bold, size=11)
        c.border = BOX
        c.alignment = Alignment(horizontal="left" if kind == "text" else "center",
                                vertical="center", wrap_text=kind == "text")
        if kind == "date" and value is not None:
            c.number_format = DATE_FORMAT
        if kind == "rate":
            c.number_format = RATE_FORMAT
        if fill is not None:
            c.fill = fill


def _rate_formula(cols: Sequence[Column], col: Column, r: int) -> str:
    """A rate column on row `r`: its part over its whole, both on the same row."""
    keys = [c.key for c in cols]
    part, whole = (f"{get_column_letter(keys.index(k) + 1)}{r}" for k in col.of)
    return f"=IFERROR({part}/{whole},0)"


def _unit_value(col: Column, row: dict[str, Any]) -> Any:
    value = row.get(col.key)
    if col.kind == "flag":
        return "–" if value is None else YES if value else NO
    return value


def _total_values(cols: Sequence[Column], row: dict[str, Any],
                  sums: Sequence[str]) -> list[Any]:
    """A total row: the name, then per figure a formula over `sums` (the ranges or cells it
    adds up); a flag counts "Có" over unit rows, or adds the subtotals. "–" where the figure
    does not apply (the quota, for private hospitals)."""
    out: list[Any] = []
    for col in cols:
        value = row.get(col.key)
        if col.key == "name":
            out.append(value)
        elif col.kind == "rate":
            out.append(None if value is None else "")  # filled in by `report_table`
        elif col.kind not in ("int", "flag") or col.key == "stt":
            out.append(None)
        elif value is None:
            out.append("–")
        else:
            letter = get_column_letter(cols.index(col) + 1)
            refs = ",".join(s.format(c=letter) for s in sums)
            if col.kind == "flag" and ":" in refs:
                out.append(f'=COUNTIF({refs},"{YES}")')
            else:
                out.append(f"=SUM({refs})")
    return out


def _rates(ws: Worksheet, report: Report, cols: list[Column], total_row: int, r: int) -> int:
    """Rates under the table, as formulas on the total row, shown as percentages."""
    def ref(key: str) -> str | None:
        keys = [c.key for c in cols]
        return f"{get_column_letter(keys.index(key) + 1)}{total_row}" if key in keys else None

    bound = sum(1 for row in report.unit_rows() if row.get("quota_met") is not None)
    units = len(report.unit_rows())
    rates: list[tuple[str, str]] = []
    if (quota := ref("quota_met")) is not None and bound:
        rates.append(("Tỷ lệ đơn vị đạt chỉ tiêu (≥ 01 nhiệm vụ hợp lệ)",
                      f"=IFERROR({quota}/{bound},0)"))
    if (registered := ref("registered")) is not None:
        for key, label in (("approved_by_deadline", "Tỷ lệ nhiệm vụ có đề cương duyệt trước 30/4"),
                           ("accepted_by_deadline", "Tỷ lệ nhiệm vụ nghiệm thu trước 01/12"),
                           ("accepted", "Tỷ lệ nhiệm vụ đã nghiệm thu"),
                           ("published", "Tỷ lệ nhiệm vụ đã công bố kết quả")):
            if (part := ref(key)) is not None:
                rates.append((label, f"=IFERROR({part}/{registered},0)"))
    if (due := ref("obligations_due")) and (on_time := ref("obligations_on_time")):
        rates.append(("Tỷ lệ báo cáo định kỳ nộp đúng hạn", f"=IFERROR({on_time}/{due},0)"))
    if (articles := ref("articles_total")) is not None and units:
        rates.append(("Số bài báo, công bố bình quân mỗi đơn vị",
                      f"=IFERROR({articles}/{units},0)"))
    if (missed := ref("sessions_missed")) is not None and units:
        rates.append(("Số kỳ không sinh hoạt khoa học bình quân mỗi đơn vị",
                      f"=IFERROR({missed}/{units},0)"))
    return rate_block(ws, r, [(label, formula, "0.00" if "bình quân" in label else RATE_FORMAT)
                              for label, formula in rates])


def rate_block(ws: Worksheet, r: int, rates: Sequence[tuple[str, str, str]]) -> int:
    """Rates under a table from row `r` + 1: (label, formula, number format); the last row."""
    if not rates:
        return r
    r += 1
    ws.cell(row=r, column=1, value="Tỷ lệ").font = font(bold=True, italic=True)
    for label, formula, number_format in rates:
        r += 1
        merged(ws, r, 1, 3, label, font(size=11), align="left")
        cell = ws.cell(row=r, column=4, value=formula)
        cell.font = font(bold=True, size=11)
        cell.number_format = number_format
    return r


def report_table(ws: Worksheet, report: Report, head: Letterhead) -> int:
    """The letterhead, the header row, a titled block per section closed by its subtotal, and
    the province total; the total's row. Rate columns are formulas on their own row."""
    cols = list(report.columns)
    n = len(cols)
    kinds = [c.kind for c in cols]
    letterhead_rows(ws, head, n, report.title, report.as_of, report.made_on or report.as_of)
    header_row(ws, [c.label for c in cols], [c.width for c in cols])
    r = HEADER_ROW + 1
    subtotals: list[int] = []

    def put(r: int, values: list[Any], **style: Any) -> None:
        values = [_rate_formula(cols, c, r) if c.kind == "rate" and v is not None else v
                  for c, v in zip(cols, values, strict=True)]
        table_row(ws, r, values, kinds, **style)

    for number, section in zip(ROMAN, report.sections, strict=False):
        merged(ws, r, 1, n, f"{number}. {section.title}", font(bold=True, italic=True, size=11),
               align="left")
        r += 1
        first = r
        for row in section.rows:
            put(r, [_unit_value(c, row) for c in cols])
            r += 1
        span = f"{{c}}{first}:{{c}}{r - 1}" if section.rows else f"{{c}}{r}"
        put(r, _total_values(cols, section.subtotal, [span]) if section.rows else
            [section.subtotal.get("name") if c.key == "name" else None for c in cols],
            bold=True)
        subtotals.append(r)
        r += 1
    put(r, _total_values(cols, report.total, [f"{{c}}{s}" for s in subtotals]), bold=True,
        fill=TOTAL_FILL)
    return r


def _report_sheet(ws: Worksheet, report: Report, head: Letterhead) -> None:
    n = len(report.columns)
    total_row = report_table(ws, report, head)
    r = _rates(ws, report, list(report.columns), total_row, total_row + 1)
    for note in report.notes:
        r += 1
        merged(ws, r, 1, n, f"Ghi chú: {note}", font(italic=True, size=11), align="left")
    signature_blocks(ws, head, r + 2, n)
    setup_print(ws, n)


def _detail_sheet(ws: Worksheet, report: Report, head: Letterhead) -> None:
    labels = [label for label, _, _ in DETAIL_COLUMNS]
    kinds = [kind for _, _, kind in DETAIL_COLUMNS]
    n = len(labels)
    letterhead_rows(ws, head, n, f"Danh mục nhiệm vụ khoa học và công nghệ năm {report.year}",
                report.as_of, report.made_on or report.as_of)
    header_row(ws, labels, [w for _, w, _ in DETAIL_COLUMNS])
    r = HEADER_ROW + 1
    for d in report.details:
        table_row(ws, r, [d.stt, d.title, f"{d.unit_name} ({d.unit_code})", d.pi_name, d.level,
                     d.topic, d.state, d.registered_on, d.approved_on, d.accepted_on,
                     d.published_on, d.publications, d.grade, d.recognised_on], kinds)
        r += 1
    merged(ws, r, 1, 2, f"Tổng số: {len(report.details)} nhiệm vụ", font(bold=True, size=11),
            align="left")
    signature_blocks(ws, head, r + 2, n)
    setup_print(ws, n)


def _state_sheet(ws: Worksheet, report: Report, head: Letterhead) -> None:
    first = [c for c in report.columns if c.key in ("stt", "code", "name")]
    labels = [c.label for c in first] + [label for _, label in report.states] + ["Tổng"]
    widths = [c.width for c in first] + [14] * (len(report.states) + 1)
    kinds = [c.kind for c in first] + ["int"] * (len(report.states) + 1)
    letterhead_rows(ws, head, len(labels), f"{report.title}: số nhiệm vụ theo trạng thái",
                report.as_of, report.made_on or report.as_of)
    header_row(ws, labels, widths)
    r = HEADER_ROW + 1

    def values(row: dict[str, Any]) -> list[Any]:
        counts = [row["by_state"].get(s, 0) for s, _ in report.states]
        return [row.get(c.key) for c in first] + counts + [sum(counts)]

    for section in report.sections:
        for row in section.rows:
            table_row(ws, r, values(row), kinds)
            r += 1
        table_row(ws, r, values(section.subtotal), kinds, bold=True)
        r += 1
    table_row(ws, r, values(report.total), kinds, bold=True, fill=TOTAL_FILL)
    setup_print(ws, len(labels))


def to_xlsx(report: Report, letterhead: Letterhead | None = None) -> bytes:
    head = letterhead or Letterhead()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_NAMES.get(report.kind, report.kind)
    _report_sheet(ws, report, head)
    _detail_sheet(wb.create_sheet(DETAIL_SHEET), report, head)
    _state_sheet(wb.create_sheet("Theo trạng thái"), report, head)
    wb.properties.title = report.title
    wb.properties.creator = "nckh"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
