"""`nckh report …` as a user runs it: the installed CLI in a subprocess, configured by env vars.

Every refused input (bad year, bad format, bad date, an output path that cannot be written) is one
line on stderr, exit 2, and leaves the database exactly as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.app import build
from storage.db import make_engine
from storage.schema import metadata
from tests.acceptance.cli import Ran, nckh_in_process
from tests.conftest import make_settings
from tests.integration.reports_province import build_obligations, build_province

NCKH = str(Path(sys.executable).with_name("nckh"))


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    app = build(make_settings(sqlite_url, tmp_path))
    build_province(app)
    build_obligations(app)
    app.close()
    yield {**os.environ, "NCKH_DATABASE_URL": sqlite_url, "NCKH_DATA_DIR": str(tmp_path),
           "NCKH_NOW": "2025-12-10T09:00"}


def nckh(env: dict[str, str], *args: str) -> Ran:
    """The command run in this process (the console script's own tests are in
    tests/acceptance/test_cli_happy_path.py and the bad-input catalogue)."""
    return nckh_in_process(env, *args)


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in metadata.sorted_tables}
    engine.dispose()
    return found


def test_the_table_is_printed_with_vietnamese_headers_and_totals(env: dict[str, str]) -> None:
    result = nckh(env, "report", "compliance", "--year", "2025")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Báo cáo tổng hợp tình hình thực hiện nhiệm vụ KHCN năm 2025"
    assert lines[1] == "Tính đến ngày 10/12/2025"
    assert lines[3].split()[:4] == ["STT", "Mã", "Đơn", "vị"]
    total = next(line for line in lines if "Tổng cộng toàn tỉnh" in line)
    # …, 1 task published, whose URL is the one publication (on the unit's website: no journal
    # article, domestic or international), overdue 2, sessions held 0 and periods missed 44 (no
    # session recorded here), 7 due, 4.
    assert total.split()[-16:] == ["6", "3", "1", "2", "2", "3", "1", "1", "0", "0", "1", "2",
                                   "0", "44", "7", "4"]
    assert "CƠ SỞ Y TẾ NGOÀI CÔNG LẬP" in result.stdout


def test_csv_on_stdout_parses(env: dict[str, str]) -> None:
    result = nckh(env, "report", "progress", "--year", "2025", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeffLoại dòng;")
    rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff")), delimiter=";"))
    assert rows[-1]["Tên đơn vị"] == "Tổng cộng toàn tỉnh"
    assert rows[-1]["Đề cương đã duyệt"] == "4"
    comma = nckh(env, "report", "progress", "--year", "2025", "--format", "csv",
                 "--delimiter", ",")
    assert comma.stdout.startswith("\ufeffLoại dòng,")
    assert list(csv.DictReader(io.StringIO(comma.stdout.lstrip("\ufeff")))) == rows


def test_xlsx_written_to_a_file(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "bao-cao.xlsx"
    result = nckh(env, "report", "progress", "--year", "2025", "--as-of", "01/03/2025",
                  "--format", "xlsx", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"wrote {out}"
    ws = load_workbook(out)["Tiến độ"]
    assert (ws["A5"].value, ws["C5"].value) == ("Tính đến ngày", dt.datetime(2025, 3, 1))
    assert [ws.cell(row=r, column=4).value for r in (9, 10, 11)] == [2, 2, 0]


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "1999"], "nckh: invalid year 1999: expected 2000–2100"),
    (["--year", "twenty"], "'twenty' is not a valid integer"),
    (["--year", "2025", "--format", "pdf"], "'pdf' is not one of"),
    (["--year", "2025", "--as-of", "2025-02-30"], "nckh: invalid --as-of '2025-02-30'"),
    (["--year", "2025", "--as-of", "2024-12-31"], "nckh: invalid --as-of 31/12/2024: before"),
    (["--year", "2025", "--as-of", "31/02/2025"],
     "nckh: invalid --as-of '31/02/2025': expected DD/MM/YYYY (or YYYY-MM-DD)"),
    (["--year", "2025", "--as-of", "03/31/2025"], "nckh: invalid --as-of '03/31/2025'"),
    (["--year", "2025", "--format", "csv", "--delimiter", "|"],
     "nckh: --delimiter: expected ';', ',' or 'tab', not '|'"),
    (["--year", "2025", "--output", "/nonexistent/dir/r.csv"],
     "nckh: cannot write /nonexistent/dir/r.csv: directory /nonexistent/dir does not exist"),
    (["--year", "2025", "--output", "/tmp"], "File '/tmp' is a directory"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
        env: dict[str, str], args: list[str], message: str) -> None:
    before = counts(env["NCKH_DATABASE_URL"])
    result = nckh(env, "report", "compliance", *args)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert counts(env["NCKH_DATABASE_URL"]) == before
