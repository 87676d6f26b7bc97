"""An administrator's first session with `nckh`: set up the directory, register tasks, move one
through its whole workflow, read it back — configured only by NCKH_* variables. The commands run
in this process (`nckh_in_process`, exactly what the console script runs); the console script
itself is exercised by the bad-input catalogue's subprocess cases and the daemon tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.acceptance.cli import cli_env
from tests.acceptance.cli import nckh_in_process as nckh
from workflows.registry import PACKAGED_DIR, Registry

OFFICE = "nghiepvuy@syt.example.vn"
COUNCIL = "hoidong@syt.example.vn"
HEAD = "giamdoc@bvdk.example.vn"
PI = "binh.lv@bvdk.example.vn"
INITIATIVE_EN = "Improvement initiative"
TITLE = "Nghiên cứu tỷ lệ nhiễm khuẩn vết mổ ở người bệnh cao tuổi tại Khoa Ngoại"


def ok(env: dict[str, str], *args: str, now: str | None = None) -> str:
    result = nckh({**env, "NCKH_NOW": now} if now else env, *args)
    assert result.returncode == 0, (args, result.stderr)
    assert result.stderr == ""
    return result.stdout


def test_a_task_goes_from_registration_to_publication_through_the_cli(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", "2025-02-03T08:30")
    assert re.fullmatch(r"database created \(schema - → \w+\): sqlite:///.*nckh.db\n",
                        ok(env, "init"))
    assert ok(env, "unit", "add", "BVDK", "--name", "Bệnh viện Đa khoa tỉnh",
              "--head-name", "TS.BS Nguyễn Thị Hằng", "--head-email", HEAD,
              "--contact-email", "khth@bvdk.example.vn") == "unit BVDK added\n"
    units_csv = tmp_path / "donvi.csv"
    units_csv.write_text(
        "code,name,head_name,head_email,contact_email,kind\n"
        "TTYT-DH,Trung tâm Y tế huyện Đồng Hỷ,BS.CKII Hoàng Văn Đức,duc.hv@ttyt-dh.example.vn,,\n"
        "BV-AN,Bệnh viện Đa khoa An Bình,BS. Trần Thu,thu.t@anbinh.example.vn,,private\n",
        encoding="utf-8")
    assert ok(env, "unit", "import", str(units_csv)) == (
        f"{units_csv}: 2 added, 0 updated, 0 unchanged\n")
    ok(env, "person", "add", "--email", OFFICE, "--name", "Phòng Nghiệp vụ Y", "--role", "office")
    ok(env, "person", "add", "--email", COUNCIL, "--name", "Hội đồng KHCN", "--role", "council")

    task = ok(env, "task", "new", "--unit", "BVDK", "--level", "unit", "--title", TITLE,
              "--pi-email", PI, "--pi-name", "ThS.BS Lê Văn Bình", "--year", "2025",
              "--topic", "1")
    assert task == "1\n"
    province = json.loads(ok(env, "task", "new", "--json", "--unit", "TTYT-DH", "--level",
                             "province", "--title", "Ứng dụng AI đọc phim X-quang", "--pi-email",
                             PI, "--year", "2025", "--topic", "4"))
    assert province == {"id": 2}

    events = json.loads(ok(env, "task", "events", "1", "--as", COUNCIL, "--json"))
    assert [e["event"] for e in events] == ["approve_outline", "request_revision", "reject"]
    assert ok(env, "task", "events", "1", "--as", PI, "--json") == "[]\n"

    steps = [
        ("2025-03-02T09:00", ["request_revision", "--as", COUNCIL, "--reason",
                              "Bổ sung cỡ mẫu và giải trình phương pháp"]),
        ("2025-03-20T09:00", ["resubmit", "--as", PI]),
        ("2025-04-10T16:00", ["approve_outline", "--as", OFFICE, "--set",
                              "decision_no=Số 41/QĐ-BVĐK", "--set", "decided_on=2025-04-08",
                              "--at", "2025-04-08T10:00"]),
        ("2025-04-15T09:00", ["start", "--as", HEAD]),
        ("2025-11-20T09:00", ["extend", "--as", HEAD, "--reason", "Chờ đủ cỡ mẫu",
                              "--set", "until=2026-02-28"]),
        ("2026-02-20T09:00", ["accept", "--as", COUNCIL, "--set", "grade=Xuất sắc"]),
        ("2026-03-05T09:00", ["publish", "--as", PI, "--set",
                              "url=https://bvdk.example.vn/nckh/2025/nhiem-khuan"]),
    ]
    for now, (event, *rest) in steps:
        out = ok(env, "task", "fire", "1", event, *rest, now=now)
        assert out.startswith(f"task 1: {event}: ")

    show = json.loads(ok(env, "task", "show", "1", "--json", now="2026-03-06T09:00"))
    assert {"id", "state", "unit", "title", "year", "deadlines", "history"} <= set(show)
    assert (show["id"], show["state"], show["unit"], show["title"], show["year"]) == (
        1, "published", "BVDK", TITLE, 2025)
    history = [(h["event"], h["from"], h["to"], h["actor"], h["reason"], h["at"])
               for h in show["history"]]
    assert history == [
        ("create", None, "proposed", "admin", None, "2025-02-03T08:30:00+07:00"),
        ("request_revision", "proposed", "outline_revision", COUNCIL,
         "Bổ sung cỡ mẫu và giải trình phương pháp", "2025-03-02T09:00:00+07:00"),
        ("resubmit", "outline_revision", "proposed", PI, None, "2025-03-20T09:00:00+07:00"),
        ("approve_outline", "proposed", "outline_approved", OFFICE, None,
         "2025-04-08T10:00:00+07:00"),
        ("start", "outline_approved", "in_progress", HEAD, None, "2025-04-15T09:00:00+07:00"),
        ("extend", "in_progress", "in_progress", HEAD, "Chờ đủ cỡ mẫu",
         "2025-11-20T09:00:00+07:00"),
        ("accept", "in_progress", "accepted", COUNCIL, None, "2026-02-20T09:00:00+07:00"),
        ("publish", "accepted", "published", PI, None, "2026-03-05T09:00:00+07:00"),
    ]
    assert show["history"][3]["data"] == {"decision_no": "Số 41/QĐ-BVĐK",
                                          "decided_on": "2025-04-08"}
    assert show["history"][3]["recorded_at"] == "2025-04-10T16:00:00+07:00"
    assert [(d["state"], d["due_on"], d["outcome"]) for d in show["deadlines"]] == [
        ("proposed", "2025-04-30", "on_time"),
        ("outline_revision", "2025-04-30", "on_time"),
        ("proposed", "2025-04-30", "on_time"),
        ("outline_approved", "2025-05-08", "on_time"),
        ("in_progress", "2025-12-01", "extended"),
        ("in_progress", "2026-02-28", "on_time"),
        ("accepted", "2026-05-20", "on_time"),
    ]

    text = ok(env, "task", "show", "1", now="2026-03-06T09:00")
    assert f"Task 1: {TITLE}" in text and "Đã công bố kết quả" in text

    # The provincial task's outline review (60 days) ran out on 4 April 2025.
    overdue = json.loads(ok(env, "task", "list", "--overdue", "--json", now="2025-04-05T09:00"))
    assert [(t["id"], t["due_on"], t["overdue"]) for t in overdue] == [(2, "2025-04-04", True)]
    everything = ok(env, "task", "list", "--year", "2025", now="2025-04-05T09:00")
    assert "Ứng dụng AI đọc phim X-quang" in everything

    units = json.loads(ok(env, "unit", "list", "--json"))
    assert [(u["code"], u["kind"], u["head_email"]) for u in units] == [
        ("BV-AN", "private", "thu.t@anbinh.example.vn"), ("BVDK", "public", HEAD),
        ("TTYT-DH", "public", "duc.hv@ttyt-dh.example.vn")]


def test_the_workflow_commands_list_show_validate_and_draw(tmp_path: Path) -> None:
    env = cli_env(tmp_path, "2025-02-03T08:30")
    listed = json.loads(ok(env, "workflow", "list", "--json"))
    assert {"unit_task", "province_task", "initiative"} <= {w["name"] for w in listed}
    shown = json.loads(ok(env, "workflow", "show", "initiative", "--json", "--lang", "en"))
    assert shown["label"] == INITIATIVE_EN
    assert {e["name"] for e in shown["events"]} >= {"approve_outline", "start", "accept",
                                                     "publish"}
    wf = Registry().get("unit_task")
    assert ok(env, "workflow", "validate", str(PACKAGED_DIR / "unit_task.yaml")) == (
        f"{PACKAGED_DIR / 'unit_task.yaml'}: valid (unit_task v{wf.version}, "
        f"{len(wf.states)} states, "
        f"{len(wf.events)} events, sha256 {wf.sha256[:12]})\n")
    mermaid = ok(env, "workflow", "diagram", "unit_task")
    assert mermaid.startswith("stateDiagram-v2\n")
    assert "    proposed --> outline_approved: approve_outline\n" in mermaid
    dot = ok(env, "workflow", "diagram", "unit_task", "--format", "dot", "--lang", "en")
    assert dot.startswith('digraph "unit_task" {') and dot.endswith("}\n")
    assert 'published [label="Published", shape=doublecircle];' in dot
    assert not (tmp_path / "nckh.db").exists()  # describing workflows needs no database
