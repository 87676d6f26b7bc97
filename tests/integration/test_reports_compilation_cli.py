"""`nckh report compilation` as the office runs it: the real CLI in this process, configured by
env vars. A refused input is one line on stderr, exit 2, no file written and the database as it
was."""

from __future__ import annotations

import csv
import io
import json
import os
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
from tests.integration.compilation_province import DECIDED, build_compilation_province


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    app = build(make_settings(sqlite_url, tmp_path))
    build_compilation_province(app)
    app.close()
    yield {**os.environ, "NCKH_DATABASE_URL": sqlite_url, "NCKH_DATA_DIR": str(tmp_path),
           "NCKH_NOW": "2025-12-10T09:00"}


def nckh(env: dict[str, str], *args: str) -> Ran:
    return nckh_in_process(env, *args)


def counts(url: str) -> dict[str, int]:
    """Rows per table: a refused command leaves every one as it was."""
    engine = make_engine(url)
    with engine.connect() as conn:
        found = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in metadata.sorted_tables}
    engine.dispose()
    return found


def test_the_table_shows_the_indicators_the_rates_and_the_detail(env: dict[str, str]) -> None:
    result = nckh(env, "report", "compilation", "--year", "2025")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Tổng hợp kết quả hoạt động nghiên cứu khoa học năm 2025",
                         "Tính đến ngày 10/12/2025"]
    assert "Tỷ lệ đơn vị có kế hoạch, quy chế NCKH năm được tiếp nhận: 50,0%" in lines
    assert "Danh mục nhiệm vụ (6):" in lines
    assert any(DECIDED in line and "12/QĐ-BVPY 18/04/2025" in line for line in lines)


def test_xlsx_and_json_are_written_to_files_only_the_owner_reads(
        env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "tong-hop.xlsx"
    result = nckh(env, "report", "compilation", "--year", "2025", "--format", "xlsx",
                  "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"wrote {out}"
    assert load_workbook(out).sheetnames == ["Tổng hợp", "Danh mục"]
    assert out.stat().st_mode & 0o777 == 0o600
    js = tmp_path / "tong-hop.json"
    assert nckh(env, "report", "compilation", "--year", "2025", "--format", "json",
                "--output", str(js)).returncode == 0
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["report"] == "compilation" and len(data["details"]) == 6
    assert data["total"]["accepted_rate"] == pytest.approx(3 / 8)


def test_csv_uses_the_semicolon_and_a_bom_or_the_delimiter_asked(env: dict[str, str]) -> None:
    result = nckh(env, "report", "compilation", "--year", "2025", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeffLoại dòng;Khu vực;")
    detail = result.stdout.split("\r\n\r\n")[-1]
    assert len(list(csv.DictReader(io.StringIO(detail), delimiter=";"))) == 6
    tab = nckh(env, "report", "compilation", "--year", "2025", "--format", "csv",
               "--delimiter", "tab")
    assert tab.stdout.startswith("\ufeffLoại dòng\tKhu vực\t")


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "1999"], "nckh: invalid year 1999: expected 2000–2100"),
    (["--year", "2101"], "nckh: invalid year 2101: expected 2000–2100"),
    (["--year", "twenty"], "'twenty' is not a valid integer"),
    (["--year", "2025", "--format", "pdf"], "'pdf' is not one of"),
    (["--year", "2025", "--as-of", "31/12/2024"], "nckh: invalid --as-of 31/12/2024: before"),
    (["--year", "2025", "--format", "csv", "--delimiter", "|"],
     "nckh: --delimiter: expected ';', ',' or 'tab', not '|'"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
        env: dict[str, str], tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "tong-hop.xlsx"
    before = counts(env["NCKH_DATABASE_URL"])
    result = nckh(env, "report", "compilation", *args, "--output", str(out))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert not out.exists() and not list(tmp_path.glob(".tong-hop*"))
    assert counts(env["NCKH_DATABASE_URL"]) == before


@pytest.mark.parametrize(("where", "message"), [
    ("missing/tong-hop.xlsx", "directory {tmp}/missing does not exist"),
    (".", "is a directory"),
])
def test_an_output_that_cannot_be_written_is_refused_before_anything_is_read(
        env: dict[str, str], tmp_path: Path, where: str, message: str) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    result = nckh(env, "report", "compilation", "--year", "2025", "--format", "xlsx",
                  "--output", str(tmp_path / where))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert message.format(tmp=tmp_path) in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
