"""People and duties through the installed `nckh`: replacing a unit's head, deactivating people
and units, reading the directory's history, and the refusals of separation of duties — each
refusal one line on stderr, its exit code, and the database unchanged (but for the audit row of a
refused task registration or transition)."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.app import build
from engine.directory import UnitInput
from engine.settings import load_settings
from tests.acceptance.cli import cli_env, copy_db, dump, refusal_rows
from tests.acceptance.cli import nckh_in_process as nckh
from tests.conftest import local

OFFICE = "nghiepvuy@syt.example.vn"
COUNCIL = "hoidong@syt.example.vn"
HEAD_A = "giamdoc@bvdk.example.vn"
HEAD_B = "duc.hv@ttyt-dh.example.vn"
PI = "binh.lv@bvdk.example.vn"
NEW_HEAD = "giamdoc.moi@bvdk.example.vn"
NOW = "2025-06-02T09:00"
LOGIN = "kiemtra"
PROPOSED, IN_PROGRESS, COUNCILS_OWN = 1, 2, 3


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Units BVDK and TTYT-DH; task 1 proposed and 2 in progress, led by PI; task 3 proposed,
    led by a council member."""
    data = tmp_path_factory.mktemp("template")
    app = build(load_settings(env={"NCKH_DATA_DIR": str(data),
                                   "NCKH_DATABASE_URL": f"sqlite:///{data / 'nckh.db'}"}))
    e, t0 = app.engine, local(2025, 2, 3)
    e.add_unit(UnitInput("BVDK", "Bệnh viện Đa khoa tỉnh", "TS.BS Nguyễn Thị Hằng", HEAD_A),
               now=t0)
    e.add_unit(UnitInput("TTYT-DH", "Trung tâm Y tế huyện Đồng Hỷ", "BS.CKII Hoàng Văn Đức",
                         HEAD_B), now=t0)
    e.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=t0)
    e.add_person(email=COUNCIL, name="Lê Thị Lan", role="council", title="PGS.TS", now=t0)
    for title in ("Đề tài đề xuất", "Đề tài đang làm"):
        e.create_task(unit_code="BVDK", level="unit", title=title, pi_email=PI,
                      pi_name="ThS.BS Lê Văn Bình", year=2025, now=t0)
    e.create_task(unit_code="BVDK", level="unit", title="Đề tài của hội đồng", pi_email=COUNCIL,
                  year=2025, actor_email=OFFICE, now=t0)
    e.fire(IN_PROGRESS, "approve_outline", actor_email=OFFICE, now=local(2025, 3, 1))
    e.fire(IN_PROGRESS, "start", actor_email=HEAD_A, now=local(2025, 3, 2))
    app.close()
    return data / "nckh.db"


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path / "data")


def env_for(db: Path) -> dict[str, str]:
    # getpass reads LOGNAME first: the operator the directory's history records.
    return cli_env(db.parent, NOW, LOGNAME=LOGIN, USER=LOGIN)


def ok(db: Path, *args: str) -> str:
    result = nckh(env_for(db), *args)
    assert result.returncode == 0, (args, result.stderr)
    assert result.stderr == ""
    return result.stdout


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- replacing a head ----------------------------------------------------------------------------
def test_set_head_replaces_the_head_and_unit_show_tells_the_story(db: Path) -> None:
    out = ok(db, "unit", "set-head", "BVDK", "--name", "BS.CKII Đỗ Văn Mới", "--email",
             NEW_HEAD, "--title", "TS.BS", "--as", OFFICE)
    assert out == f"unit BVDK: head is now {NEW_HEAD} (replacing {HEAD_A}, now inactive)\n"
    assert query(db, "SELECT key, change, operator, acting_as FROM directory_change "
                     "WHERE operator = 'kiemtra' ORDER BY id") == [
        (HEAD_A, "deactivated", LOGIN, OFFICE), (NEW_HEAD, "added", LOGIN, OFFICE),
        ("BVDK", "head_replaced", LOGIN, OFFICE)]

    shown = ok(db, "unit", "show", "bvdk").splitlines()
    assert shown[:7] == [
        "Unit BVDK: Bệnh viện Đa khoa tỉnh",
        "  kind        public",
        "  contact     -",
        "  active      yes",
        f"  head        TS.BS BS.CKII Đỗ Văn Mới <{NEW_HEAD}>",
        "  registered  2025-02-03 08:00",
        "Past heads:",
    ]
    assert shown[7] == f"  TS.BS Nguyễn Thị Hằng <{HEAD_A}>  2025-02-03 08:00 → 2025-06-02 09:00"
    assert shown[8:] == [
        "History:",
        "  2025-02-03 08:00  added         by api",
        "       name: Bệnh viện Đa khoa tỉnh",
        "       kind: public",
        "       contact_email: -",
        f"       head: TS.BS Nguyễn Thị Hằng <{HEAD_A}>",
        f"  2025-06-02 09:00  head_replaced by {LOGIN} as {OFFICE}",
        f"       old: TS.BS Nguyễn Thị Hằng <{HEAD_A}>",
        f"       new: BS.CKII Đỗ Văn Mới <{NEW_HEAD}>",
    ]
    as_json = json.loads(ok(db, "unit", "show", "BVDK", "--json"))
    assert as_json["head"]["email"] == NEW_HEAD
    assert [(h["email"], h["until"]) for h in as_json["past_heads"]] == [
        (HEAD_A, "2025-06-02T09:00:00+07:00")]
    units = {u["code"]: u for u in json.loads(ok(db, "unit", "list", "--json"))}
    assert units["BVDK"]["head_email"] == NEW_HEAD

    old = ok(db, "person", "show", HEAD_A).splitlines()
    assert old[:5] == [f"Person {HEAD_A}: TS.BS Nguyễn Thị Hằng <{HEAD_A}>",
                       "  role        unit_head", "  unit        BVDK", "  active      no",
                       "  registered  2025-02-03 08:00"]
    assert f"  2025-06-02 09:00  deactivated   by {LOGIN} as {OFFICE}" in old
    assert f"       reason: replaced as head of unit BVDK by {NEW_HEAD}" in old

    again = ok(db, "unit", "set-head", "BVDK", "--name", "BS.CKII Đỗ Văn Mới", "--email",
               NEW_HEAD)
    assert again == f"unit BVDK: {NEW_HEAD} is already its head; nothing changed\n"


def test_the_old_head_may_no_longer_act_and_the_new_one_may(db: Path) -> None:
    ok(db, "unit", "set-head", "BVDK", "--name", "BS.CKII Đỗ Văn Mới", "--email", NEW_HEAD)
    assert json.loads(ok(db, "task", "events", "2", "--as", HEAD_A, "--json")) == []
    refused = nckh(env_for(db), "task", "fire", "2", "suspend", "--as", HEAD_A, "--reason", "x")
    assert (refused.returncode, refused.stderr) == (
        3, f"nckh: {HEAD_A} is inactive and may not fire events\n")
    assert ok(db, "task", "fire", "2", "suspend", "--as", NEW_HEAD, "--reason", "Chờ kinh phí") \
        == "task 2: suspend: in_progress → suspended\n"


def test_an_import_names_the_heads_it_replaces(db: Path, tmp_path: Path) -> None:
    csv = tmp_path / "donvi.csv"
    csv.write_text("code,name,head_name,head_email\n"
                   f"BVDK,Bệnh viện Đa khoa tỉnh,BS.CKII Đỗ Văn Mới,{NEW_HEAD}\n"
                   f"TTYT-DH,Trung tâm Y tế huyện Đồng Hỷ,BS.CKII Hoàng Văn Đức,{HEAD_B}\n",
                   encoding="utf-8")
    assert ok(db, "unit", "import", str(csv)) == (
        f"{csv}: 0 added, 1 updated, 1 unchanged\n"
        f"unit BVDK: head is now {NEW_HEAD} (replacing {HEAD_A}, now inactive)\n")
    assert query(db, f"SELECT active FROM person WHERE email = '{HEAD_A}'") == [(0,)]


# --- deactivating and reactivating ---------------------------------------------------------------
def test_deactivating_a_pi_warns_about_the_open_tasks_they_lead(db: Path) -> None:
    out = ok(db, "person", "deactivate", PI, "--reason", "Chuyển công tác")
    assert out == (f"person {PI} deactivated\n"
                   f"warning: {PI} leads 2 open task(s), which stay open; the head of their unit "
                   "acts on them: 1 (BVDK, proposed), 2 (BVDK, in_progress)\n")
    shown = ok(db, "person", "show", PI)
    assert "  active      no" in shown and "Open tasks led:" in shown
    assert f"  2025-06-02 09:00  deactivated   by {LOGIN}\n       reason: Chuyển công tác" in shown
    assert ok(db, "person", "activate", PI) == f"person {PI} activated\n"
    assert ok(db, "person", "deactivate", OFFICE, "--reason", "Nghỉ hưu") == \
        f"person {OFFICE} deactivated\n"  # no open tasks: no warning


def test_a_deactivated_unit_gets_no_new_task(db: Path) -> None:
    out = ok(db, "unit", "deactivate", "BVDK", "--reason", "Sáp nhập")
    assert out == ("unit BVDK deactivated\nwarning: unit BVDK has 3 open task(s), which run to "
                   "their end: 1 (BVDK, proposed), 2 (BVDK, in_progress), 3 (BVDK, proposed)\n")
    before, refused_before = dump(db), refusal_rows(db)
    result = nckh(env_for(db), "task", "new", "--unit", "BVDK", "--level", "unit", "--title",
                  "Đề tài mới", "--pi-email", PI)
    assert (result.returncode, result.stdout, result.stderr) == (
        3, "", "nckh: unit BVDK is inactive and gets no new tasks\n")
    assert dump(db) == before
    assert refusal_rows(db) == [*refused_before, (None, "create", "admin", "NotAllowed",
                                                  "unit BVDK is inactive and gets no new tasks")]
    assert ok(db, "unit", "activate", "BVDK") == "unit BVDK activated\n"
    assert ok(db, "task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài mới",
              "--pi-email", PI, "--as", HEAD_A) == "4\n"


def test_every_directory_command_the_docs_show_exists() -> None:
    from engine.cli.admin import person, unit

    groups = {"unit": unit, "person": person}
    root = Path(__file__).parents[2]
    shown = set()
    for doc in ("README.md", "docs/operators.md", "docs/office-guide.md"):
        text = (root / doc).read_text(encoding="utf-8")
        shown |= set(re.findall(r"nckh (unit|person) ([a-z][a-z-]*)", text))
    assert {("unit", "set-head"), ("unit", "deactivate"), ("person", "deactivate"),
            ("unit", "show"), ("person", "show")} <= shown
    for group, command in shown:
        assert command in groups[group].commands, (group, command)


# --- separation of duties ------------------------------------------------------------------------
def test_a_council_member_is_not_offered_the_review_of_their_own_task(db: Path) -> None:
    assert json.loads(ok(db, "task", "events", str(COUNCILS_OWN), "--as", COUNCIL,
                         "--json")) == []
    offered = json.loads(ok(db, "task", "events", str(PROPOSED), "--as", COUNCIL, "--json"))
    assert [e["event"] for e in offered] == ["approve_outline", "request_revision", "reject"]
    shown = ok(db, "workflow", "show", "unit_task", "--lang", "en")
    assert "approve_outline    proposed → outline_approved  [council, office; not by pi]" in shown


# --- refusals and bad input: one line, an exit code, nothing changed -----------------------------
@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    message: str
    code: int = 3
    audited: bool = False  # a refused task registration or transition adds one refusal row


NEW_TASK = ("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài mới")
CASES: dict[str, Case] = {
    "deactivate-the-only-head": Case(
        ("person", "deactivate", HEAD_A, "--reason", "Nghỉ hưu"),
        f"{HEAD_A} is the only active head of unit BVDK: name the new head with `nckh unit "
        f"set-head BVDK --name NAME --email EMAIL`, which deactivates {HEAD_A}"),
    "second-head-as-a-person": Case(
        ("person", "add", "--email", NEW_HEAD, "--name", "X", "--role", "unit_head", "--unit",
         "BVDK"), f"unit BVDK already has an active head ({HEAD_A}); replace them with "
                  "`nckh unit set-head BVDK"),
    "activate-an-active-unit": Case(("unit", "activate", "BVDK"), "unit BVDK is already active"),
    "activate-an-active-person": Case(("person", "activate", OFFICE),
                                      f"person {OFFICE} is already active"),
    "directory-as-council": Case(
        ("unit", "deactivate", "TTYT-DH", "--reason", "x", "--as", COUNCIL),
        f"{COUNCIL} (role council) may not change the directory; only the office may"),
    "directory-as-unknown": Case(
        ("unit", "set-head", "BVDK", "--name", "X", "--email", NEW_HEAD, "--as", "ai@x.vn"),
        "unknown person: ai@x.vn", code=2),
    "head-of-another-role": Case(
        ("unit", "set-head", "BVDK", "--name", "X", "--email", PI),
        f"{PI} is already registered as pi (BVDK)", code=2),
    "head-with-a-bad-email": Case(
        ("unit", "set-head", "BVDK", "--name", "X", "--email", "giamdoc@"),
        "invalid head e-mail of unit BVDK 'giamdoc@'", code=2),
    "set-head-of-an-unknown-unit": Case(
        ("unit", "set-head", "KHONG", "--name", "X", "--email", NEW_HEAD),
        "unknown unit: KHONG", code=2),
    "empty-reason": Case(("person", "deactivate", PI, "--reason", "  "),
                         "--reason is empty: say why the person is deactivated", code=2),
    "missing-reason": Case(("unit", "deactivate", "BVDK"), "Missing option '--reason'", code=2),
    "deactivate-an-unknown-person": Case(("person", "deactivate", "ai@x.vn", "--reason", "x"),
                                         "unknown person: ai@x.vn", code=2),
    "show-an-unknown-unit": Case(("unit", "show", "KHONG"), "unknown unit: KHONG", code=2),
    "register-for-another-unit": Case(
        (*NEW_TASK, "--pi-email", PI, "--as", HEAD_B),
        f"{HEAD_B} is unit head of TTYT-DH and may register tasks only for that unit, not for "
        "BVDK", audited=True),
    "register-as-council": Case(
        (*NEW_TASK, "--pi-email", PI, "--as", COUNCIL),
        f"{COUNCIL} (role council) may not register tasks", audited=True),
    "register-for-another-pi": Case(
        (*NEW_TASK, "--pi-email", COUNCIL, "--as", PI),
        f"{PI} may register only tasks they lead themselves (--pi-email {PI}), not one for "
        f"{COUNCIL}", audited=True),
    "approve-ones-own-outline": Case(
        ("task", "fire", str(COUNCILS_OWN), "approve_outline", "--as", COUNCIL),
        f"{COUNCIL} is the principal investigator of task {COUNCILS_OWN} and may not approve "
        "outline (approve_outline) on their own task", audited=True),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=k) for k, c in CASES.items()])
def test_a_refused_or_bad_people_command_gets_one_line_and_changes_nothing(
        case: Case, db: Path) -> None:
    before, refused_before = dump(db), refusal_rows(db)
    result = nckh(env_for(db), *case.args)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nckh: ") and case.message in lines[0], lines[0]
    assert (result.returncode, result.stdout) == (case.code, "")
    assert dump(db) == before
    added = refusal_rows(db)[len(refused_before):]
    assert refusal_rows(db)[: len(refused_before)] == refused_before
    if case.audited:
        assert len(added) == 1 and added[0][4] in lines[0], added
    else:
        assert added == []
