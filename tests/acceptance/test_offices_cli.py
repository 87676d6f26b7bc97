"""`nckh` with several offices, as an operator configures it: `doctor` lists them and what each
receives; a bad office stops any command in one line, exit 2, the database untouched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.acceptance.cli import dump_tables, nckh_in_process

OFFICES = """
[mail]
office_head_name = "Nguyễn Văn An"
office_head_title = "Trưởng phòng"

[[offices]]
key = "ke_hoach_tai_chinh"
name = "Phòng Kế hoạch – Tài chính"
email = "khtc@soyte.example.vn"
obligations = ["unit_plan"]

[[offices]]
key = "so_khcn"
name = "Sở Khoa học và Công nghệ"
email = "qlkh@sokhcn.example.vn"
cc_levels = ["province"]
"""


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NCKH_")}
    return {**base, "NCKH_DATABASE_URL": sqlite_url, "NCKH_DATA_DIR": str(tmp_path),
            "NCKH_OFFICE_EMAIL": "nvy@soyte.example.vn", "NCKH_NOW": "2025-03-03T09:00"}


def configured(env: dict[str, str], tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "nckh.toml"
    path.write_text(text, encoding="utf-8")
    return env | {"NCKH_CONFIG": str(path)}


def test_doctor_lists_the_offices_and_what_each_receives(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    result = nckh_in_process(configured(env, tmp_path, OFFICES), "doctor", "--json")
    offices = {c["name"]: c for c in json.loads(result.stdout)}["offices"]
    assert offices["status"] == "ok"
    assert offices["detail"] == (
        "nghiep_vu_y: Phòng Nghiệp vụ Y <nvy@soyte.example.vn>, Trưởng phòng Nguyễn Văn An "
        "(default); ke_hoach_tai_chinh: Phòng Kế hoạch – Tài chính <khtc@soyte.example.vn>, "
        "receives unit_plan; so_khcn: Sở Khoa học và Công nghệ <qlkh@sokhcn.example.vn>, "
        "copied on province tasks")


@pytest.mark.parametrize(("change", "message"), [
    (('"unit_plan"]', '"unit_pln"]'),
     "nckh: [[offices]] 'ke_hoach_tai_chinh' obligations: no obligation 'unit_pln' (known: "
     "unit_plan, outline_review_report, six_month_report, acceptance_report, annual_report)\n"),
    (('key = "so_khcn"', 'key = "ke_hoach_tai_chinh"'),
     "nckh: invalid [[offices]] 'ke_hoach_tai_chinh': this key is used twice\n"),
    (("qlkh@sokhcn.example.vn", "qlkh.sokhcn.example.vn"),
     "nckh: invalid [[offices]] 'so_khcn' email 'qlkh.sokhcn.example.vn': "),
])
def test_a_bad_office_stops_the_command_in_one_line_and_changes_nothing(
        env: dict[str, str], tmp_path: Path, sqlite_url: str, change: tuple[str, str],
        message: str) -> None:
    assert nckh_in_process(env, "unit", "list").returncode == 0  # the schema is there
    before = dump_tables(sqlite_url)
    result = nckh_in_process(configured(env, tmp_path, OFFICES.replace(*change)),
                             "unit", "add", "BVDK", "--name", "Bệnh viện Đa khoa",
                             "--head-name", "Trần Văn Minh",
                             "--head-email", "minh@bvdk.example.vn")
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert dump_tables(sqlite_url) == before
