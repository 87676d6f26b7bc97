"""The `[reports]` section: which formats are attached to the reports mailed on their dates, and
who receives them besides the office. Checked at start, like every section.

Config, `[reports]`:  formats = ["xlsx", "csv"]   to = ["lanhdao@…"]  (added to the office)
                      csv_delimiter = ";"   (Excel with Vietnamese regional settings splits on ";")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.reports.build import CSV_DELIMITERS, FORMATS
from workflows import addresses
from workflows.errors import InputError
from workflows.inputs import check_keys


def report_formats(section: Mapping[str, Any]) -> tuple[str, ...]:
    formats = section.get("formats", ["xlsx", "csv"])
    if not isinstance(formats, list) or not formats or any(f not in FORMATS for f in formats):
        raise InputError(f"config [reports] formats: expected a list drawn from "
                         f"{', '.join(FORMATS)}, not {formats!r}")
    return tuple(formats)


def report_recipients(section: Mapping[str, Any]) -> tuple[str, ...]:
    to = section.get("to", [])
    if not isinstance(to, list) or not all(isinstance(a, str) for a in to):
        raise InputError(f"config [reports] to: expected a list of e-mail addresses, not {to!r}")
    return tuple(addresses.normalise(a, what="address in [reports] to") for a in to)


def csv_delimiter(value: object, what: str = "config [reports] csv_delimiter") -> str:
    """';' (the default: vi-VN Excel's list separator), ',' or a tab ('tab' or '\\t')."""
    text = "\t" if value in ("tab", "\\t") else value
    if text not in CSV_DELIMITERS:
        raise InputError(f"{what}: expected ';', ',' or 'tab', not {value!r}")
    return str(text)


@dataclass(frozen=True)
class ReportsConfig:
    formats: tuple[str, ...] = ("xlsx", "csv")
    to: tuple[str, ...] = ()
    csv_delimiter: str = ";"


def reports_config(section: Mapping[str, Any]) -> ReportsConfig:
    """The `[reports]` section, checked (a bad value stops the command at start)."""
    check_keys(section, ("formats", "to", "csv_delimiter"), "reports")
    return ReportsConfig(report_formats(section), report_recipients(section),
                         csv_delimiter(section.get("csv_delimiter", ";")))


