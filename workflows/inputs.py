"""Input rules: what text, ids, years and dates nckh accepts, in one place, the same on every
database.

Every entry point passes what a caller typed through here before it reaches storage: the directory
(unit and person names), task registration (titles), decisions (reasons and event data), CLI
arguments and options, configuration. Pure: no database, no clock, no I/O. Each rule raises
`InputError` with one line naming the field and the rule, and never echoes the offending text
raw (its control characters would reach the terminal); `printable` makes any message safe.

The rules, and why:
- Text is NFC-normalised and stripped, so a title typed in decomposed (NFD) Vietnamese is stored
  exactly like the same title typed precomposed.
- Refused in text: control characters (C0, DEL, C1; newline and tab are kept in multi-line fields
  such as a reason), bidirectional controls (U+202A–U+202E, U+2066–U+2069, and the marks U+200E,
  U+200F, U+061C), which make a name read differently from what is stored, line and paragraph
  separators in one-line fields, and lone surrogates (bytes that were not UTF-8).
- Text with nothing visible (empty, whitespace, zero-width characters, lone combining marks) is
  empty.
- Every field has a length limit its column holds (`LIMITS`): the longest value PostgreSQL
  stores, so SQLite (which would store anything) agrees with it.
- Ids are 1 … 2**31 − 1, PostgreSQL's INTEGER; any other id names nothing, on either database.
- Years are 2000–2100 and dates lie within them: the range of the business calendar.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from workflows.errors import InputError, InvalidData, NotFound

# Longest value of each caller-entered field, in characters (the column's size where it has one:
# storage/models.py; a sane bound where the column is TEXT or JSON).
LIMITS: Mapping[str, int] = {
    "unit code": 40,  # unit.code String(40)
    "unit name": 300,  # unit.name String(300)
    "person name": 300,  # person.name String(300)
    "person title": 60,  # person.title String(60)
    "task title": 500,  # task.title Text: a subject line, not a document
    "reason": 2000,  # task_history.reason Text: a paragraph or two
    "event field": 1000,  # a value in task_history.data (JSON): a number, a URL, a reference
}
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; SQLite's wider range is never used
MIN_YEAR, MAX_YEAR = 2000, 2100
YEARS = f"{MIN_YEAR}–{MAX_YEAR}"
FIRST_DAY, LAST_DAY = dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31)

BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")
MULTILINE_KEEP = frozenset("\n\t")
CSV_SEPARATORS = (",", ";")


def clean_text(value: str, what: str, *, limit: int, multiline: bool = False,
               field: str | None = None) -> str:
    """`value` NFC-normalised and stripped, or `InvalidData` (an `InputError`; `field` set for
    event data) naming `what` and the broken rule.

    Multi-line text keeps newlines and tabs (Windows line ends become newlines)."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", value).strip()
    for i, ch in enumerate(text, start=1):
        if ch in BIDI_CONTROLS:
            raise InvalidData(f"{what} contains a bidirectional control character "
                              f"({_code(ch)} at character {i}); remove it", field=field)
        if multiline and ch in MULTILINE_KEEP:
            continue
        if ch in LINE_BREAKS:
            raise InvalidData(f"{what} must be one line (a line break, {_code(ch)}, at "
                              f"character {i})", field=field)
        category = unicodedata.category(ch)
        if category == "Cc":
            raise InvalidData(f"{what} contains a control character ({_code(ch)} at "
                              f"character {i}); remove it", field=field)
        if category == "Cs":
            raise InvalidData(f"{what} is not UTF-8 text (an undecodable byte at character "
                              f"{i})", field=field)
    if not _visible(text):
        raise InvalidData(f"{what} is empty" + (" (only invisible characters)" if text else ""),
                          field=field)
    if len(text) > limit:
        raise InvalidData(f"{what} is {len(text)} characters long; at most {limit}", field=field)
    return text


def optional_text(value: str | None, what: str, *, limit: int, multiline: bool = False,
                  field: str | None = None) -> str | None:
    """`clean_text` for an optional field: absent, blank or invisible is None."""
    if value is None or not _visible(value):
        return None
    return clean_text(value, what, limit=limit, multiline=multiline, field=field)


def lookup_key(value: str) -> str | None:
    """A name typed to look something up (a unit code, an e-mail for `--as`), NFC-normalised and
    stripped; None when no stored name can equal it (control characters, undecodable bytes, or
    longer than any column), so the caller answers "unknown" without asking the database, which
    would refuse it on PostgreSQL and search for it on SQLite."""
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > 320 or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        return None
    return text


def check_id(kind: str, value: int) -> int:
    """An id as the database stores it; any other is `NotFound` (exit 2), on every database."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(kind, value)
    return value


def id_in_range(value: int) -> bool:
    return 1 <= value <= MAX_ID


def check_year(year: int, what: str = "year", *, field: str | None = None) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidData(f"invalid {what} {year}: expected {YEARS}", field=field)
    return year


def check_date(value: dt.date, what: str, *, shown: str | None = None,
               field: str | None = None) -> dt.date:
    """A date (or a datetime's calendar day, as written) within the years the calendar covers;
    beyond them date arithmetic overflows (9999-12-31 plus a day)."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidData(f"{what} {shown or value.isoformat()} is out of range: dates must lie "
                          f"in the years {YEARS}", field=field)
    return value


def check_keys(section: Mapping[str, object], known: Iterable[str], name: str) -> None:
    """Refuse a configuration section's unknown key (a typo would otherwise be ignored)."""
    allowed = set(known)
    unknown = sorted(str(k) for k in section if k not in allowed)
    if unknown:
        raise InputError(f"config [{name}]: unknown key '{printable(unknown[0])}'; known keys: "
                         f"{', '.join(sorted(allowed))}")


def csv_separator(text: str, file: str, required: Iterable[str],
                  column: Callable[[str], str] = str.strip) -> str:
    """The separator of a CSV file, read from its header: ',' or ';' (Excel with Vietnamese
    regional settings writes ';'). `column` maps a header cell to its column name (aliases).
    A header that splits into none of the required columns either way names the separator
    problem."""
    header = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    needed = list(required)
    found = {sep: sum(column(col) in needed for col in header.split(sep)) for sep in
             CSV_SEPARATORS}
    best = max(CSV_SEPARATORS, key=lambda sep: (found[sep], header.count(sep)))
    if found[best] == 0 and not any(sep in header for sep in CSV_SEPARATORS):
        raise InputError(f"{file}:1: cannot read the header: columns must be separated by ',' "
                         f"or ';' (expected {','.join(needed)})")
    return best


def check_argv(args: Iterable[str]) -> None:
    """Command-line arguments are text: a byte that is not UTF-8 is refused before anything
    reads it (Python hands it over as a lone surrogate, which no database can store)."""
    for n, arg in enumerate(args, start=1):
        if any(unicodedata.category(ch) == "Cs" for ch in arg):
            raise InputError(f"argument {n} ({printable(arg)}) is not UTF-8 text")


def printable(text: str) -> str:
    """`text` on one line with every control, bidirectional and undecodable character shown as
    an escape (`\\x1b`, `\\u202e`), so a message can quote what a caller typed."""
    out = []
    for ch in text:
        if (ch in BIDI_CONTROLS or ch in LINE_BREAKS
                or unicodedata.category(ch) in ("Cc", "Cs")):
            out.append(ascii(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out)


def _visible(text: str) -> bool:
    """Has a letter, digit, punctuation or symbol: not only spaces, zero-width characters or
    lone combining marks."""
    return any(unicodedata.category(ch)[0] in "LNPS" for ch in text)


def _code(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def parse_dmy(text: str, what: str, *, field: str | None = None) -> dt.date:
    """A date as people write it, dd/mm/yyyy (d/m/yyyy too), within the calendar's years."""
    raw = (text or "").strip()
    parts = raw.split("/")
    try:
        if len(parts) != 3 or len(parts[2]) != 4:
            raise ValueError(raw)
        day = dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise InvalidData(f"{what}: invalid date '{printable(raw)}', expected dd/mm/yyyy",
                          field=field) from None
    return check_date(day, what, shown=raw, field=field)
