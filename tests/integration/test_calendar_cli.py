"""`nckh calendar days-off`: a year's days off and make-up Saturdays, named in Vietnamese."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.acceptance.cli import nckh_in_process


def test_days_off_list_the_swap_of_2_january_2026_and_its_make_up_saturday(
        tmp_path: Path) -> None:
    env = {**os.environ, "NCKH_DATA_DIR": str(tmp_path)}
    result = nckh_in_process(env, "calendar", "days-off", "--year", "2026")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NGÀY", "THỨ", "LOẠI", "TÊN"]
    friday = next(line for line in lines if line.startswith("02/01/2026"))
    assert "Thứ Sáu" in friday and "nghỉ" in friday and "12729/VPCP-KGVX" in friday
    saturday = next(line for line in lines if line.startswith("10/01/2026"))
    assert "Thứ Bảy" in saturday and "làm bù" in saturday
    assert "Chưa xác nhận" not in result.stdout
    rows = json.loads(nckh_in_process(env, "calendar", "days-off", "--year", "2026",
                                      "--json").stdout)
    assert {"date": "2026-01-10", "day": "10/01/2026", "weekday": "Thứ Bảy", "kind": "worked",
            "name": "Ngày làm việc bù"} in rows


def test_a_year_without_confirmed_swaps_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "NCKH_DATA_DIR": str(tmp_path)}
    result = nckh_in_process(env, "calendar", "days-off", "--year", "2027")
    assert result.returncode == 0, result.stderr
    assert "Chưa xác nhận lịch hoán đổi ngày làm việc năm 2027" in result.stdout
    assert "01/01/2027  Thứ Sáu   nghỉ  Tết Dương lịch" in result.stdout
