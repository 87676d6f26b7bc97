"""A unit CSV as the office has it: read into validated `UnitInput` rows, or refused in one line.

Owns the file's shape: the separator (',' or ';': Excel with Vietnamese regional settings writes
';'), an optional BOM, the column headers in English (`code,name,head_name,head_email,
contact_email,kind`) or in Vietnamese ("Mã đơn vị", "Tên đơn vị", "Thủ trưởng", "Email thủ
trưởng", "Email liên hệ", "Loại hình"), matched whatever their case or spacing, and a unit kind
written "công lập" / "ngoài công lập". It writes nothing: `directory.import_units` does.
"""

from __future__ import annotations

import csv
import io
import unicodedata

from engine.directory import CSV_COLUMNS, UnitInput, validate_unit
from workflows import inputs
from workflows.errors import InputError

REQUIRED = CSV_COLUMNS[:4]

# Each column's accepted headers besides its English name (compared after `header_key`).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("mã", "mã đơn vị", "mã đv"),
    "name": ("tên", "tên đơn vị", "đơn vị"),
    "head_name": ("thủ trưởng", "thủ trưởng đơn vị", "họ tên thủ trưởng",
                  "họ và tên thủ trưởng", "giám đốc", "họ tên giám đốc"),
    "head_email": ("email thủ trưởng", "e-mail thủ trưởng", "thư điện tử thủ trưởng",
                   "email giám đốc", "e-mail giám đốc"),
    "contact_email": ("email liên hệ", "e-mail liên hệ", "email đầu mối", "e-mail đầu mối",
                      "thư điện tử liên hệ"),
    "kind": ("loại", "loại hình", "loại đơn vị", "loại hình đơn vị"),
}
KIND_VALUES = {"public": "public", "private": "private", "công lập": "public",
               "ngoài công lập": "private", "tư nhân": "private"}


def header_key(text: str) -> str:
    """A header as compared: NFC, case-folded, inner spaces collapsed, no BOM."""
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    return " ".join(text.casefold().split())


_COLUMN_OF = {header_key(alias): col for col, aliases in HEADER_ALIASES.items()
              for alias in (col, *aliases)}


def column(cell: str) -> str:
    """The column a header cell names: its canonical English name, else the cell as written."""
    return _COLUMN_OF.get(header_key(cell), cell.strip())


def _kind(value: str | None) -> str:
    """A kind as written in the file; an unknown one is passed on for validate_unit to refuse."""
    text = (value or "").strip()
    return KIND_VALUES.get(header_key(text), text) if text else "public"


def parse_units_csv(text: str, file: str) -> list[tuple[int, UnitInput]]:
    """Rows of a unit CSV, each validated; the first bad one raises naming file and line."""
    body = text.lstrip("\ufeff")
    separator = inputs.csv_separator(body, file, REQUIRED, column)
    reader = csv.reader(io.StringIO(body), delimiter=separator)
    try:
        raw_header = next(reader)
    except StopIteration:
        raise InputError(f"{file}: no units in the file") from None
    header = [column(c) for c in raw_header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{file}:1: missing column(s) {', '.join(missing)}; expected "
                         f"{','.join(CSV_COLUMNS)} (or the Vietnamese headers: Mã đơn vị, "
                         "Tên đơn vị, Thủ trưởng, Email thủ trưởng, Email liên hệ, Loại hình)")
    unknown = [raw for raw, c in zip(raw_header, header, strict=True) if c not in CSV_COLUMNS]
    if unknown:
        raise InputError(f"{file}:1: unknown column(s) {', '.join(unknown)}")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise InputError(f"{file}:1: column {twice[0]} given twice")
    rows: list[tuple[int, UnitInput]] = []
    seen: dict[str, int] = {}
    for fields in reader:
        line = reader.line_num
        if not fields:
            continue
        if len(fields) != len(header):
            raise InputError(f"{file}:{line}: wrong number of fields")
        row = dict(zip(header, fields, strict=True))
        try:
            unit = validate_unit(UnitInput(
                code=row["code"], name=row["name"], head_name=row["head_name"],
                head_email=row["head_email"], contact_email=row.get("contact_email") or None,
                kind=_kind(row.get("kind")),
            ))
        except InputError as exc:
            raise InputError(f"{file}:{line}: {exc.message}") from None
        key = unit.code.lower()
        if key in seen:
            raise InputError(f"{file}:{line}: unit {unit.code} already on line {seen[key]}")
        seen[key] = line
        rows.append((line, unit))
    if not rows:
        raise InputError(f"{file}: no units in the file")
    return rows
