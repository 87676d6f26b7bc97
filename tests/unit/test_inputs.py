"""The input rules (workflows/inputs.py), pure: text, ids, years, dates, config keys and CSV."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from workflows import inputs
from workflows.errors import InputError, InvalidData, NotFound

TITLE = "Ứng dụng trí tuệ nhân tạo đọc phim X-quang ngực"


def clean(text: str, *, limit: int = 500, multiline: bool = False) -> str:
    return inputs.clean_text(text, "task title", limit=limit, multiline=multiline)


def test_text_typed_decomposed_is_stored_precomposed() -> None:
    nfd = unicodedata.normalize("NFD", TITLE)
    assert nfd != TITLE
    assert clean(nfd) == clean(TITLE) == TITLE


def test_text_is_stripped_and_otherwise_kept_exactly() -> None:
    assert clean("  Đề tài “A” – năm 2025\u00a0 ") == "Đề tài “A” – năm 2025"
    assert clean("a\u200bb") == "a\u200bb"  # a zero-width space inside text is harmless


@pytest.mark.parametrize(("text", "message"), [
    ("", r"^task title is empty$"),
    ("   ", r"^task title is empty$"),
    ("\u200b\u200c\u200d\ufeff", r"^task title is empty \(only invisible characters\)$"),
    ("\u0301\u0303", r"^task title is empty \(only invisible characters\)$"),
    ("a\x00b", r"^task title contains a control character \(U\+0000 at character 2\); remove it$"),
    ("\x1b[31mđỏ", r"contains a control character \(U\+001B at character 1\)"),
    ("a\x7fb", r"contains a control character \(U\+007F"),
    ("a\x9bb", r"contains a control character \(U\+009B"),
    ("tab\there", r"contains a control character \(U\+0009"),
    ("abc\u202edef", r"^task title contains a bidirectional control character \(U\+202E at "
                     r"character 4\); remove it$"),
    ("\u2066x\u2069", r"bidirectional control character \(U\+2066"),
    ("x\u200fy", r"bidirectional control character \(U\+200F"),
    ("one\ntwo", r"^task title must be one line \(a line break, U\+000A, at character 4\)$"),
    ("one\u2028two", r"must be one line \(a line break, U\+2028"),
    ("a\udcffb", r"^task title is not UTF-8 text \(an undecodable byte at character 2\)$"),
    ("a" * 501, r"^task title is 501 characters long; at most 500$"),
])
def test_text_that_breaks_a_rule_is_refused_naming_the_field_and_the_rule(
        text: str, message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        clean(text)


def test_the_length_limit_counts_characters_after_normalising() -> None:
    nfd = unicodedata.normalize("NFD", "ễ" * 500)  # 1,500 code points typed, 500 stored
    assert clean(nfd) == "ễ" * 500


def test_multi_line_text_keeps_newlines_and_tabs_and_unifies_line_ends() -> None:
    assert clean("Ý kiến:\r\n\t1. cỡ mẫu\r2. đạo đức", multiline=True) == \
        "Ý kiến:\n\t1. cỡ mẫu\n2. đạo đức"
    with pytest.raises(InvalidData, match="contains a control character"):
        clean("a\x1bb", multiline=True)
    with pytest.raises(InvalidData, match="bidirectional"):
        clean("a\u202eb", multiline=True)


def test_an_optional_field_left_blank_or_invisible_is_absent() -> None:
    for blank in (None, "", "  \n", "\u200b"):
        assert inputs.optional_text(blank, "person title", limit=60) is None
    assert inputs.optional_text(" TS.BS ", "person title", limit=60) == "TS.BS"
    with pytest.raises(InvalidData, match="person title is 61 characters long; at most 60"):
        inputs.optional_text("x" * 61, "person title", limit=60)


def test_every_limit_fits_its_column() -> None:
    from storage.models import Person, Unit

    for field, column in (("unit code", Unit.code), ("unit name", Unit.name),
                          ("person name", Person.name), ("person title", Person.title)):
        assert inputs.LIMITS[field] <= column.type.length


@pytest.mark.parametrize("value", [0, -1, 2**31, 10**20])
def test_an_id_beyond_the_column_is_unknown(value: int) -> None:
    with pytest.raises(NotFound, match=f"^unknown task: {value}$"):
        inputs.check_id("task", value)


def test_the_ids_a_database_can_hold_pass() -> None:
    assert inputs.check_id("task", 1) == 1
    assert inputs.check_id("task", 2**31 - 1) == 2**31 - 1


@pytest.mark.parametrize("day", [dt.date(1999, 12, 31), dt.date(2101, 1, 1), dt.date.max,
                                 dt.date.min])
def test_a_date_beyond_the_calendar_is_refused(day: dt.date) -> None:
    with pytest.raises(InvalidData, match=f"^--at {day.isoformat()} is out of range: dates must "
                                          "lie in the years 2000–2100$"):
        inputs.check_date(day, "--at")


def test_the_first_and_last_day_of_the_calendar_pass() -> None:
    assert inputs.check_date(dt.date(2000, 1, 1), "x") == dt.date(2000, 1, 1)
    moment = dt.datetime(2100, 12, 31, 23, 59, tzinfo=dt.UTC)
    assert inputs.check_date(moment, "x") == moment
    assert inputs.check_year(2100) == 2100
    with pytest.raises(InputError, match=r"^invalid year 1999: expected 2000–2100$"):
        inputs.check_year(1999)


def test_an_unknown_config_key_is_refused_with_the_section_and_the_known_keys() -> None:
    inputs.check_keys({"formats": ["csv"]}, ("formats", "to"), "reports")
    with pytest.raises(InputError, match=r"^config \[reports\]: unknown key 'fromats'; known keys: "
                                         r"formats, to$"):
        inputs.check_keys({"fromats": []}, ("formats", "to"), "reports")


@pytest.mark.parametrize(("header", "separator"), [
    ("code,name,head_name,head_email\n", ","),
    ("\ufeffcode;name;head_name;head_email\r\n", ";"),
    ("code;name;head_name;head_email,contact_email\n", ";"),
    ("code,name\n", ","),  # readable: the missing columns are the next rule's to name
    ("a;b\n", ";"),
])
def test_the_csv_separator_is_read_from_the_header(header: str, separator: str) -> None:
    assert inputs.csv_separator(header + "x\n", "u.csv", ("code", "name", "head_name")) == \
        separator


def test_a_header_with_neither_separator_names_the_separator_problem() -> None:
    with pytest.raises(InputError, match=r"^u\.csv:1: cannot read the header: columns must be "
                                         r"separated by ',' or ';' \(expected code,name\)$"):
        inputs.csv_separator("code\tname\nA\tB\n", "u.csv", ("code", "name"))


def test_arguments_that_are_not_utf8_are_refused() -> None:
    inputs.check_argv(["task", "new", "--title", "Đề tài"])
    with pytest.raises(InputError, match=r"^argument 3 \(\\udcff\) is not UTF-8 text$"):
        inputs.check_argv(["task", "show", "\udcff"])


def test_printable_escapes_what_would_break_a_line_or_reach_the_terminal() -> None:
    assert inputs.printable("Đề tài\x1b[2J\n\u202e\udcff\x00") == \
        "Đề tài\\x1b[2J\\n\\u202e\\udcff\\x00"
    assert inputs.printable("Nguyễn Văn A") == "Nguyễn Văn A"


def test_a_lookup_key_that_no_stored_name_can_equal_is_none() -> None:
    assert inputs.lookup_key(unicodedata.normalize("NFD", " Bệnh ")) == "Bệnh"
    for hopeless in ("a\x00", "\udcff", "x" * 321):
        assert inputs.lookup_key(hopeless) is None
