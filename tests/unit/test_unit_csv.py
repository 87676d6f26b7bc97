"""A unit CSV as the office has it: ';' or ',', a BOM, English or Vietnamese headers."""

from __future__ import annotations

import pytest

from engine.directory import UnitInput
from engine.unitcsv import parse_units_csv
from workflows.errors import InputError

EXPECTED = [
    (2, UnitInput("BVDK", "Bệnh viện Đa khoa tỉnh", "TS.BS Nguyễn Văn An", "giamdoc@bvdk.vn",
                  "khth@bvdk.vn", "public")),
    (3, UnitInput("TN-AN", "Bệnh viện tư nhân An Bình", "BS. Trần Thu", "thu.t@anbinh.vn", None,
                  "private")),
]


def test_an_english_comma_file_is_read() -> None:
    text = ("code,name,head_name,head_email,contact_email,kind\n"
            "BVDK,Bệnh viện Đa khoa tỉnh,TS.BS Nguyễn Văn An,giamdoc@bvdk.vn,khth@bvdk.vn,public\n"
            "TN-AN,Bệnh viện tư nhân An Bình,BS. Trần Thu,thu.t@anbinh.vn,,private\n")
    assert parse_units_csv(text, "u.csv") == EXPECTED


def test_a_vietnamese_excel_file_with_semicolons_a_bom_and_vietnamese_headers_is_read() -> None:
    text = ("\ufeffMã đơn vị;Tên đơn vị;Thủ trưởng;Email thủ trưởng;Email liên hệ;Loại hình\r\n"
            "BVDK;Bệnh viện Đa khoa tỉnh;TS.BS Nguyễn Văn An;giamdoc@bvdk.vn;khth@bvdk.vn;"
            "Công lập\r\n"
            "TN-AN;Bệnh viện tư nhân An Bình;BS. Trần Thu;thu.t@anbinh.vn;;ngoài công lập\r\n")
    assert parse_units_csv(text, "u.csv") == EXPECTED


def test_headers_match_whatever_their_case_spacing_and_composition() -> None:
    decomposed = "Ma\u0303 đơn vị"  # "Mã" typed with a combining tilde
    text = (f"{decomposed} , TÊN ĐƠN VỊ,Họ và tên thủ trưởng,E-mail  thủ trưởng\n"
            "BVDK,Bệnh viện Đa khoa tỉnh,TS.BS Nguyễn Văn An,giamdoc@bvdk.vn\n")
    [(line, unit)] = parse_units_csv(text, "u.csv")
    assert (line, unit.code, unit.head_email, unit.kind) == (2, "BVDK", "giamdoc@bvdk.vn",
                                                              "public")


def test_a_semicolon_file_with_commas_inside_names_keeps_them() -> None:
    text = ("code;name;head_name;head_email\n"
            "BVDK;Bệnh viện Đa khoa, tỉnh;TS.BS Nguyễn Văn An;giamdoc@bvdk.vn\n")
    assert parse_units_csv(text, "u.csv")[0][1].name == "Bệnh viện Đa khoa, tỉnh"


@pytest.mark.parametrize(("text", "message"), [
    ("Mã đơn vị;Tên đơn vị;Thủ trưởng\nA;B;C\n",
     r"^u\.csv:1: missing column\(s\) head_email; expected code,name,head_name,head_email,"
     r"contact_email,kind \(or the Vietnamese headers: Mã đơn vị, "),
    ("Mã đơn vị;Tên đơn vị;Thủ trưởng;Email thủ trưởng;Số giường\nA;B;C;d@e.vn;5\n",
     r"^u\.csv:1: unknown column\(s\) Số giường$"),
    ("Mã đơn vị;code;Tên đơn vị;Thủ trưởng;Email thủ trưởng\nA;A;B;C;d@e.vn\n",
     r"^u\.csv:1: column code given twice$"),
    ("Mã đơn vị;Tên đơn vị;Thủ trưởng;Email thủ trưởng;Loại hình\nA;B;C;d@e.vn;bán công\n",
     r"^u\.csv:2: unit A: invalid kind 'bán công', expected public or private$"),
    ("Mã đơn vị\tTên đơn vị\nA\tB\n", r"^u\.csv:1: cannot read the header"),
    ("Mã đơn vị;Tên đơn vị;Thủ trưởng;Email thủ trưởng\n", r"^u\.csv: no units in the file$"),
])
def test_a_bad_file_is_refused_in_one_line_naming_file_and_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_units_csv(text, "u.csv")
