"""A `Report` as text: an aligned table for the terminal, CSV for spreadsheets, JSON for scripts.

CSV is UTF-8 with a byte-order mark (so Excel shows Vietnamese correctly) and carries the same
rows as the printed report: units, section subtotals and the province total, each marked in the
first column. Flags print as "Có"/"Không" on unit rows; on total rows they are counts of units.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Any

from engine.reports.compute import Column, Report

YES, NO = "Có", "Không"
ROW_KINDS = {"unit": "đơn vị", "subtotal": "cộng", "total": "tổng"}


def vn_date(day: Any) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def cell(col: Column, row: dict[str, Any], *, total: bool) -> str:
    value = row.get(col.key)
    if value is None:
        return "" if col.kind not in ("int", "flag") or col.key == "stt" else "–"
    if col.kind == "flag" and not total:
        return YES if value else NO
    if col.kind == "rate":
        return percent(value)
    return str(value)


def percent(value: float) -> str:
    """"66,7%": one decimal, a decimal comma, as Excel with Vietnamese settings reads it."""
    return f"{value * 100:.1f}%".replace(".", ",")


def rows_with_kinds(report: Report) -> list[tuple[str, str, dict[str, Any]]]:
    """(row kind, section kind, row) in print order."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for section in report.sections:
        out.extend(("unit", section.kind, row) for row in section.rows)
        out.append(("subtotal", section.kind, section.subtotal))
    out.append(("total", "", report.total))
    return out


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def _cut(text: str, limit: int) -> str:
    return text if _width(text) <= limit else text[: limit - 1] + "…"


def to_table(report: Report) -> str:
    lines = [report.title, f"Tính đến ngày {vn_date(report.as_of)}", ""]
    cols = report.columns
    grid: list[list[str] | str] = [[c.short or c.label for c in cols]]
    for section in report.sections:
        grid.append(section.title.upper())
        grid.extend([_cut(cell(c, r, total=False), 40) for c in cols] for r in section.rows)
        grid.append([_cut(cell(c, section.subtotal, total=True), 40) for c in cols])
    grid.append([_cut(cell(c, report.total, total=True), 40) for c in cols])
    widths = [max(_width(g[i]) for g in grid if isinstance(g, list)) for i in range(len(cols))]

    def fmt(values: list[str]) -> str:
        parts = [v + " " * (w - _width(v)) if c.kind == "text" else " " * (w - _width(v)) + v
                 for v, w, c in zip(values, widths, cols, strict=True)]
        return "  ".join(parts).rstrip()

    for i, g in enumerate(grid):
        if isinstance(g, str):
            lines.append(g)
            continue
        lines.append(fmt(g))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    if report.states:
        lines += ["", "Số nhiệm vụ theo trạng thái (toàn tỉnh):"]
        for state, label in report.states:
            lines.append(f"  {report.total['by_state'].get(state, 0):>4}  {label} ({state})")
    lines += [f"Ghi chú: {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def to_csv(report: Report, delimiter: str = ";") -> str:
    """With a BOM, so Excel reads UTF-8, and `delimiter` between fields."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    states = [s for s, _ in report.states]
    writer.writerow(["Loại dòng", "Khu vực", *[c.label for c in report.columns],
                     *[f"Trạng thái: {label}" for _, label in report.states]])
    for row_kind, section, row in rows_with_kinds(report):
        total = row_kind != "unit"
        writer.writerow([ROW_KINDS[row_kind], section,
                         *[cell(c, row, total=total) for c in report.columns],
                         *[row["by_state"].get(s, 0) for s in states]])
    return buf.getvalue()


def to_data(report: Report) -> dict[str, Any]:
    return {
        "report": report.kind,
        "title": report.title,
        "year": report.year,
        "as_of": report.as_of.isoformat(),
        "columns": [{"key": c.key, "label": c.label, "en": c.en, "kind": c.kind}
                    for c in report.columns],
        "sections": [{"kind": s.kind, "title": s.title, "rows": list(s.rows),
                      "subtotal": s.subtotal} for s in report.sections],
        "total": report.total,
        "states": [{"state": s, "label": label} for s, label in report.states],
        "notes": list(report.notes),
    }


def to_json(report: Report) -> str:
    return json.dumps(to_data(report), ensure_ascii=False, indent=2) + "\n"
