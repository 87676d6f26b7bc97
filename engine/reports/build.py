"""The one entry point to the reports: validate the request, load the year, compute, render.

The CLI and the e-mail hook both call `make_report` then `render`; the year's compilation is
`make_compilation` then `render` (the same formats, two sheets). Bad requests (a year outside
2000–2100, an "as of" day before the year starts, an unknown format) raise `InputError` before
anything is read; the reports only ever read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from workflows import inputs
from workflows.dates import shown
from workflows.errors import InputError

if TYPE_CHECKING:
    from engine.reports.compilation import Compilation
    from engine.reports.compute import Report, ReportRules
    from engine.reports.config import Letterhead
    from engine.service import Engine

KINDS = ("compliance", "progress")
FORMATS = ("table", "csv", "xlsx", "json")
CSV_DELIMITERS = (";", ",", "\t")
EXTENSIONS = {"table": "txt", "csv": "csv", "xlsx": "xlsx", "json": "json"}
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv", "json": "application/json", "table": "text/plain",
}


def default_as_of(kind: str, year: int, today: dt.date) -> dt.date:
    """progress: 30 June; compliance: today, kept inside the year."""
    if kind == "progress":
        return dt.date(year, 6, 30)
    return max(dt.date(year, 1, 1), min(today, dt.date(year, 12, 31)))


def make_report(engine: Engine, kind: str, year: int, *, today: dt.date,
                as_of: dt.date | None = None, rules: ReportRules | None = None) -> Report:
    from engine.reports import compute
    from storage.reports import load_year

    if kind not in KINDS:
        raise InputError(f"unknown report '{kind}': expected one of {', '.join(KINDS)}")
    inputs.check_year(year)
    day = as_of or default_as_of(kind, year, today)
    if day < dt.date(year, 1, 1):
        raise InputError(f"invalid --as-of {shown(day)}: before the year {year} begins")
    with engine.transaction(read_only=True) as session:
        data = load_year(session, year, engine.tz, current=engine.registry.current())
    report = (compute.compliance(data, day, rules) if kind == "compliance"
              else compute.progress(data, day, rules))
    return dataclasses.replace(report, made_on=today)


def make_compilation(engine: Engine, year: int, *, today: dt.date,
                     as_of: dt.date | None = None,
                     rules: ReportRules | None = None) -> Compilation:
    """The year's compilation as of `as_of` (default: today, kept inside the year)."""
    from engine.reports.compilation import compilation
    from storage.reports import load_year

    inputs.check_year(year)
    day = as_of or default_as_of("compilation", year, today)
    if day < dt.date(year, 1, 1):
        raise InputError(f"invalid --as-of {shown(day)}: before the year {year} begins")
    with engine.transaction(read_only=True) as session:
        data = load_year(session, year, engine.tz, current=engine.registry.current())
    compiled = compilation(data, day, rules)
    return dataclasses.replace(compiled, summary=dataclasses.replace(compiled.summary,
                                                                     made_on=today))


def render(report: Report | Compilation, fmt: str, *, delimiter: str = ";",
           letterhead: Letterhead | None = None) -> bytes:
    """The report in one format. CSV carries a UTF-8 BOM and `delimiter` (';' by default: Excel
    with Vietnamese regional settings splits on it, and opens the BOM'd file as UTF-8)."""
    from engine.reports import render as text
    from engine.reports.compilation import Compilation

    if isinstance(report, Compilation):
        return _render_compilation(report, fmt, delimiter, letterhead)
    if fmt == "xlsx":
        from engine.reports.xlsx import to_xlsx

        return to_xlsx(report, letterhead)
    if fmt == "csv":
        return text.to_csv(report, delimiter).encode("utf-8")
    if fmt == "json":
        return text.to_json(report).encode("utf-8")
    if fmt == "table":
        return text.to_table(report).encode("utf-8")
    raise InputError(f"unknown format '{fmt}': expected one of {', '.join(FORMATS)}")


def _render_compilation(compiled: Compilation, fmt: str, delimiter: str,
                        letterhead: Letterhead | None) -> bytes:
    from engine.reports import compilation_text as text

    if fmt == "xlsx":
        from engine.reports.compilation_xlsx import compilation_xlsx

        return compilation_xlsx(compiled, letterhead)
    if fmt == "csv":
        return text.to_csv(compiled, delimiter).encode("utf-8")
    if fmt == "json":
        return text.to_json(compiled).encode("utf-8")
    if fmt == "table":
        return text.text_table(compiled).encode("utf-8")
    raise InputError(f"unknown format '{fmt}': expected one of {', '.join(FORMATS)}")


def filename(report: Report, fmt: str) -> str:
    stem = {"compliance": "tuan-thu", "compilation": "tong-hop"}.get(report.kind, "tien-do")
    return f"nckh-{stem}-{report.year}-{report.as_of.isoformat()}.{EXTENSIONS[fmt]}"
