"""Working out the few formulas the report workbooks write, for tests that check them."""

from __future__ import annotations

import re
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet


def evaluate(ws: Worksheet, ref: str, depth: int = 0) -> Any:
    """The value of a cell, working out the few formulas the workbook writes: SUM over ranges
    and cells, COUNTIF of a text, IFERROR(a/b, 0)."""
    assert depth < 10
    value = ws[ref].value
    if not (isinstance(value, str) and value.startswith("=")):
        return value
    if m := re.fullmatch(r"=SUM\((.+)\)", value):
        total = 0
        for part in m.group(1).split(","):
            for row in ws[part] if ":" in part else ((ws[part],),):
                for cell in row:
                    got = evaluate(ws, cell.coordinate, depth + 1)
                    total += got if isinstance(got, int | float) else 0
        return total
    if m := re.fullmatch(r'=COUNTIF\(([A-Z]+\d+:[A-Z]+\d+),"(.+)"\)', value):
        return sum(1 for row in ws[m.group(1)] for c in row if c.value == m.group(2))
    if m := re.fullmatch(r"=IFERROR\(([A-Z]+\d+)/([A-Z]+\d+|\d+),0\)", value):
        num = evaluate(ws, m.group(1), depth + 1)
        den = int(m.group(2)) if m.group(2).isdigit() else evaluate(ws, m.group(2), depth + 1)
        return num / den if den else 0
    raise AssertionError(f"unexpected formula {value}")
