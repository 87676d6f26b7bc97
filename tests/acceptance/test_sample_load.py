"""`nckh sample load` and `nckh doctor` as a newcomer runs them: the installed CLI in a subprocess.

The sample plays its year through the engine, so what it leaves is checked through the same
reports and task listings a user would read.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from storage.db import make_engine
from storage.schema import metadata
from tests.acceptance.cli import Ran, nckh_in_process

NCKH = str(Path(sys.executable).with_name("nckh"))


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


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NCKH_")}
    return {**base, "NCKH_DATABASE_URL": sqlite_url, "NCKH_DATA_DIR": str(tmp_path),
            "NCKH_NOW": "2025-12-31T17:00"}


def test_the_sample_year_leaves_every_unit_and_tasks_in_varied_states(env: dict[str, str]) -> None:
    result = nckh(env, "sample", "load", "--year", "2025")
    assert result.returncode == 0, result.stderr
    # 29 people before councils: the sample now seats two more experts on them.
    assert result.stdout == ("sample province 2025: 11 units, 31 people, 16 tasks, "
                             "39 transitions\n")
    units = json.loads(nckh(env, "unit", "list", "--json").stdout)
    names = {u["code"]: u["name"] for u in units}
    assert names["BVDKT"] == "Bệnh viện Đa khoa tỉnh Vĩnh Phúc"
    assert names["BVPY"] == "Bệnh viện Đa khoa khu vực Phúc Yên"
    assert names["TTYT-VT"] == "Trung tâm Y tế huyện Vĩnh Tường"
    assert names["TTYT-TD"] == "Trung tâm Y tế huyện Tam Dương"
    assert sorted(u["code"] for u in units if u["kind"] == "private") == ["TN-HP", "TN-MT"]
    assert all(u["head_email"].endswith(".nckh.example") for u in units)
    tasks = json.loads(nckh(env, "task", "list", "--year", "2025", "--json").stdout)
    states = sorted({t["state"] for t in tasks})
    assert states == ["acceptance_failed", "accepted", "cancelled", "in_progress",
                      "outline_revision", "proposed", "published", "rejected", "suspended"]
    report = json.loads(nckh(env, "report", "compliance", "--year", "2025",
                             "--format", "json").stdout)
    total = report["total"]
    # Nine units have a task, but TN-HP is a private hospital, outside the quota ("–").
    assert (total["registered"], total["quota_met"], total["published"]) == (16, 8, 2)
    assert report["sections"][1]["kind"] == "private"
    assert {r["code"]: r["quota_met"] for r in report["sections"][1]["rows"]} == {
        "TN-HP": None, "TN-MT": None}
    # The acceptances are the councils' outcomes: every grade, a pass with revisions, a fail,
    # and the recognition of the excellent one.
    by_title = {t["title"]: t["id"] for t in tasks}
    pci = nckh(env, "task", "show", str(by_title[
        "Đánh giá kết quả can thiệp động mạch vành qua da tại Bệnh viện Đa khoa tỉnh Vĩnh Phúc"
    ])).stdout
    assert "Hội đồng nghiệm thu: QĐ số 152/QĐ-SYT ngày 22/07/2025" in pci
    assert "  Chủ tịch: Vũ Thị Lan <giamdoc@bvtt.nckh.example>" in pci
    assert "kết quả ngày 18/11/2025: Đạt, xếp loại Xuất sắc (accept)" in pci
    assert "Công nhận: Sở Y tế, QĐ số 215/QĐ-SYT ngày 05/12/2025" in pci
    verdicts = {t: nckh(env, "task", "show", str(i)).stdout for t, i in by_title.items()}
    shown = "".join(verdicts.values())
    for verdict in ("xếp loại Khá", "xếp loại Đạt", "Đạt, phải chỉnh sửa, bổ sung",
                    ": Không đạt (fail_acceptance)",
                    "Hội đồng xét duyệt đề cương: QĐ số 87/QĐ-SYT"):
        assert verdict in shown, verdict


def test_a_second_load_adds_nothing(env: dict[str, str]) -> None:
    assert nckh(env, "sample", "load", "--year", "2025").returncode == 0
    before = counts(env["NCKH_DATABASE_URL"])
    again = nckh(env, "sample", "load", "--year", "2025")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "sample province 2025: already loaded, nothing added\n"
    assert counts(env["NCKH_DATABASE_URL"]) == before


def test_steps_dated_after_now_wait(env: dict[str, str]) -> None:
    result = nckh(env | {"NCKH_NOW": "2025-04-20T12:00"}, "sample", "load", "--json")
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert (loaded["year"], loaded["tasks"], loaded["transitions"]) == (2025, 16, 14)
    assert loaded["steps_later_than_now"] == 25
    assert (loaded["councils"], loaded["recognitions"]) == (0, 0)  # the first is set on 24/4


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "1999"], "nckh: invalid year 1999: expected 2000–2100\n"),
    (["--year", "2026"], "nckh: year 2026 has not begun yet: the sample plays a past or the "
                         "current year\n"),
    (["--file", "/nonexistent.toml"], "nckh: sample file not found: /nonexistent.toml\n"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
        env: dict[str, str], args: list[str], message: str) -> None:
    before = counts(env["NCKH_DATABASE_URL"])
    result = nckh(env, "sample", "load", *args)
    assert (result.returncode, result.stderr, result.stdout) == (2, message, "")
    assert counts(env["NCKH_DATABASE_URL"]) == before


def test_a_task_in_an_unknown_unit_refuses_the_whole_file(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "engine/sample/province.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('unit = "TN-HP"', 'unit = "NOWHERE"'))
    before = counts(env["NCKH_DATABASE_URL"])
    result = nckh(env, "sample", "load", "--year", "2025", "--file", str(bad))
    assert result.returncode == 2
    assert result.stderr == "nckh: bad.toml: task #16: unknown unit 'NOWHERE'\n"
    assert counts(env["NCKH_DATABASE_URL"]) == before


def test_a_council_meeting_before_its_decision_refuses_the_whole_file(
        env: dict[str, str], tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "engine/sample/province.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('meeting = "09-15"', 'meeting = "07-01"'))
    before = counts(env["NCKH_DATABASE_URL"])
    result = nckh(env, "sample", "load", "--year", "2025", "--file", str(bad))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("nckh: bad.toml: task #16 council #1: `decided` must not be after "
                             "`on`, nor `meeting` before `decided`\n")
    assert counts(env["NCKH_DATABASE_URL"]) == before


class _Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


@pytest.fixture
def smtp_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(_Sink(), hostname="127.0.0.1", port=port, server_hostname="mx.test")
    controller.start()
    yield port
    controller.stop()


def test_doctor_passes_on_a_ready_install_and_talks_to_the_smtp_server(
        env: dict[str, str], smtp_port: int) -> None:
    smtp = {"NCKH_SMTP_HOST": "127.0.0.1", "NCKH_SMTP_PORT": str(smtp_port)}
    result = nckh(env | smtp | {"NCKH_MAIL_FROM": "nckh@soyte.example.vn"}, "doctor", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["database"]["status"] == "ok"
    assert "up to date" in checks["database"]["detail"]
    assert checks["SMTP"]["status"] == "ok"
    assert f"127.0.0.1:{smtp_port} (none) says hello: 250 mx.test" in checks["SMTP"]["detail"]
    # Warnings do not fail the doctor, but they name what the office would miss.
    assert checks["mail addresses"]["status"] == "warn"
    assert "no office address" in checks["mail addresses"]["detail"]
    # The default sender with a real server configured: nobody could answer, servers reject it.
    local = nckh(env | smtp, "doctor", "--json")
    assert local.returncode == 1
    sender = {c["name"]: c for c in json.loads(local.stdout)}["mail addresses"]
    assert sender["status"] == "fail" and "nckh@localhost will be rejected" in sender["detail"]
    ready = nckh(env | {"NCKH_SMTP_HOST": "127.0.0.1", "NCKH_SMTP_PORT": str(smtp_port),
                        "NCKH_OFFICE_EMAIL": "nvy@soyte.example.vn",
                        "NCKH_MAIL_FROM": "nckh@soyte.example.vn"}, "doctor", "--json")
    addresses = {c["name"]: c for c in json.loads(ready.stdout)}["mail addresses"]
    assert addresses["status"] == "ok" and "office nvy@soyte.example.vn" in addresses["detail"]


def test_doctor_says_what_to_fix(env: dict[str, str], tmp_path: Path) -> None:
    fresh = env | {"NCKH_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                   "NCKH_SMTP_HOST": "127.0.0.1", "NCKH_SMTP_PORT": "1"}
    result = nckh(fresh, "doctor")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("[FAIL] database: ") and "is empty" in line for line in lines)
    assert "       fix: run `nckh init`" in lines
    assert any(line.startswith("[FAIL] SMTP: cannot talk to 127.0.0.1:1") for line in lines)
    bad = nckh(env | {"NCKH_SMTP_TLS": "maybe"}, "doctor")
    assert bad.returncode == 1
    assert bad.stdout.startswith("[FAIL] configuration: invalid NCKH_SMTP_TLS 'maybe'")
