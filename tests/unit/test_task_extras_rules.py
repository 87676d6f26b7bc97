"""The task extras' rules on values, without a database: amounts as people type them, members,
and the end date's limits."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.taskextras import ExtrasInput, Member, check, parse_amount, parse_member
from workflows.errors import InvalidData
from workflows.funding import funding_text, shown_amount


@pytest.mark.parametrize("typed", ["150.000.000", "150000000", " 150.000.000 đ", "150000000VND"])
def test_an_amount_is_read_with_or_without_thousands_dots_and_shown_with_them(typed: str) -> None:
    assert parse_amount(typed) == 150_000_000
    assert shown_amount(150_000_000) == "150.000.000 đ" and shown_amount(0) == "0 đ"


@pytest.mark.parametrize("typed", ["-1", "1,5", "15.00.000", "1.5", "", "một trăm", "10" * 8])
def test_anything_else_is_not_an_amount(typed: str) -> None:
    with pytest.raises(InvalidData) as caught:
        parse_amount(typed)
    assert caught.value.field == "funding_amount"


def test_a_member_has_a_name_a_role_and_maybe_an_e_mail() -> None:
    assert parse_member("Lê Thị Hoa <Hoa@BVDK.vn> : thư ký") == Member("Lê Thị Hoa", "hoa@bvdk.vn",
                                                                        "thư ký")
    assert parse_member("Trần Nam:thành viên") == Member("Trần Nam", None, "thành viên")
    for bad in ("Trần Nam", "<a@b.vn>:x", "Trần Nam:", "A:b:c"):
        with pytest.raises(InvalidData, match="member"):
            parse_member(bad)


def test_the_end_may_be_five_years_after_the_start_and_not_a_day_more() -> None:
    assert check(ExtrasInput("01/03/2025", "01/03/2030"), year=2025).fields["ends_on"] == \
        dt.date(2030, 3, 1)
    with pytest.raises(InvalidData, match="more than 5 years after 01/03/2025"):
        check(ExtrasInput("01/03/2025", "02/03/2030"), year=2025)
    with pytest.raises(InvalidData, match="before the task's year 2025"):
        check(ExtrasInput(ends="31/12/2024"), year=2025)
    # a change is checked against what the task already holds
    with pytest.raises(InvalidData, match="before the start date 01/03/2025"):
        check(ExtrasInput(ends="28/02/2025"), year=2025, starts_on=dt.date(2025, 3, 1))


def test_the_funding_reads_as_one_cell() -> None:
    assert funding_text("unit", 5_000_000) == "5.000.000 đ (Đơn vị tự chủ)"
    assert (funding_text(None, None), funding_text("other", None)) == ("", "Khác")
