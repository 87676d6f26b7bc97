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
from workflows.inputs import check_keys, clean_text


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
class Signer:
    title: str  # "KT. GIÁM ĐỐC"
    subtitle: str = ""  # "PHÓ GIÁM ĐỐC"
    name: str = ""  # left blank: the person signs and writes it


@dataclass(frozen=True)
class Letterhead:
    """The Decree 30/2020/NĐ-CP blocks of a printed report: the issuing body and the agency at
    the top left, the national motto at the top right, place and date, and the signatures."""

    issuer: str = "ỦY BAN NHÂN DÂN TỈNH"  # "UBND TỈNH PHÚ THỌ"
    agency: str = "SỞ Y TẾ"
    place: str = ""  # "Phú Thọ": "Phú Thọ, ngày … tháng … năm …"
    signers: tuple[Signer, ...] = (Signer("NGƯỜI LẬP BIỂU"), Signer("TRƯỞNG PHÒNG NGHIỆP VỤ Y"),
                                   Signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"))


def letterhead(section: Mapping[str, Any]) -> Letterhead:
    base = Letterhead()

    def text(key: str, default: str) -> str:
        value = section.get(key, default)
        if not isinstance(value, str):
            raise InputError(f"config [reports] {key}: expected text, not {value!r}")
        return clean_text(value, f"config [reports] {key}", limit=200) if value else ""

    signers = base.signers
    if "signers" in section:
        raw = section["signers"]
        if not isinstance(raw, list) or not all(
                isinstance(s, dict) and isinstance(s.get("title"), str) and set(s) <= {
                    "title", "subtitle", "name"} for s in raw) or not 1 <= len(raw) <= 4:
            raise InputError("config [reports] signers: expected 1 to 4 tables "
                             "{ title = \"…\", subtitle = \"…\", name = \"…\" }")
        signers = tuple(Signer(str(s["title"]), str(s.get("subtitle", "")),
                               str(s.get("name", ""))) for s in raw)
    return Letterhead(text("issuer", base.issuer), text("agency", base.agency),
                      text("place", base.place), signers)


@dataclass(frozen=True)
class ReportsConfig:
    formats: tuple[str, ...] = ("xlsx", "csv")
    to: tuple[str, ...] = ()
    csv_delimiter: str = ";"
    letterhead: Letterhead = Letterhead()


def reports_config(section: Mapping[str, Any]) -> ReportsConfig:
    """The `[reports]` section, checked (a bad value stops the command at start)."""
    check_keys(section, ("formats", "to", "csv_delimiter", "issuer", "agency", "place",
                         "signers"), "reports")
    return ReportsConfig(report_formats(section), report_recipients(section),
                         csv_delimiter(section.get("csv_delimiter", ";")), letterhead(section))


