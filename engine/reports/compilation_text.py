"""The year's compilation as text: a terminal table, CSV for Excel, JSON for scripts.

CSV (UTF-8 with a BOM, `;` unless told otherwise) holds both parts one after the other, as the
office pastes them: the summary's rows (units, subtotals, the province total), a blank line, the
province rates, a blank line, then the danh mục with its own header. JSON carries the same
figures as numbers (rates as fractions), dates as ISO days.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import Any

from engine.reports.compilation import Compilation, Entry
from engine.reports.render import (
    ROW_KINDS,
    cell,
    percent,
    rows_with_kinds,
    to_data,
    to_table,
    vn_date,
)

ENTRY_LABELS = ("STT", "Tên nhiệm vụ", "Chủ nhiệm / tác giả", "Mã đơn vị", "Đơn vị",
                "Cấp / loại", "Nhóm lĩnh vực", "Số quyết định phê duyệt",
                "Ngày phê duyệt", "Số quyết định / biên bản nghiệm thu", "Ngày nghiệm thu",
                "Xếp loại", "Công nhận kết quả", "Số bài báo, công bố", "Ứng dụng kết quả",
                "Kinh phí (nguồn)")


def _entry_cells(e: Entry) -> list[str]:
    def day(value: Any) -> str:
        return vn_date(value) if value is not None else ""

    return [str(e.stt), e.title, e.pi_name, e.unit_code, e.unit_name, e.level,
            "" if e.topic is None else str(e.topic), e.approval_no, day(e.approval_on),
            e.acceptance_no, day(e.acceptance_on), e.grade, e.recognition, str(e.publications),
            e.application, e.funding]


def to_csv(compiled: Compilation, delimiter: str = ";") -> str:
    report = compiled.summary
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Loại dòng", "Khu vực", *[c.label for c in report.columns]])
    for row_kind, section, row in rows_with_kinds(report):
        writer.writerow([ROW_KINDS[row_kind], section,
                         *[cell(c, row, total=row_kind != "unit") for c in report.columns]])
    writer.writerow([])
    for rate in compiled.rates:
        writer.writerow(["tỷ lệ", "", rate.label, percent(rate.value)])
    writer.writerow([])
    writer.writerow(ENTRY_LABELS)
    writer.writerows(_entry_cells(e) for e in compiled.entries)
    return buf.getvalue()


def to_json(compiled: Compilation) -> str:
    data = to_data(compiled.summary)
    data.pop("states")
    data["rates"] = [dataclasses.asdict(r) for r in compiled.rates]
    data["details"] = [{k: v.isoformat() if hasattr(v, "isoformat") else v
                        for k, v in dataclasses.asdict(e).items()} for e in compiled.entries]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def text_table(compiled: Compilation) -> str:
    lines = [to_table(dataclasses.replace(compiled.summary, states=())).rstrip("\n"), ""]
    lines += [f"{rate.label}: {percent(rate.value)}" for rate in compiled.rates]
    lines += ["", f"Danh mục nhiệm vụ ({len(compiled.entries)}):"]
    for e in compiled.entries:
        approval = " ".join(x for x in (e.approval_no, e.approval_on and vn_date(e.approval_on))
                            if x)
        acceptance = " ".join(x for x in (e.acceptance_no, e.acceptance_on
                                          and vn_date(e.acceptance_on), e.grade) if x)
        lines.append(f"{e.stt:>4}. {e.title} — {e.pi_name} — {e.unit_code} — {e.level}"
                     f"{f' — phê duyệt {approval}' if approval else ''}"
                     f"{f' — nghiệm thu {acceptance}' if acceptance else ''}"
                     f" — {e.publications} công bố")
    return "\n".join(lines) + "\n"
