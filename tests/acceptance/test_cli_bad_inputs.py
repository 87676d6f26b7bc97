"""A catalogue of bad inputs to the installed `nckh`: each gives one line on stderr naming the
problem, the documented exit code (2 bad input, 3 refused), and leaves the database unchanged.

Every case runs on its own copy of one prepared database (built once per module through the
engine API, so only the command under test is a subprocess). "Unchanged" means every row of every
table is identical, except `refusal`: a refused attempt (exit 3, not allowed or invalid
transition) adds exactly one row there — the audit log of refused attempts, by design.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.app import build
from engine.directory import UnitInput
from engine.settings import load_settings
from tests.acceptance.cli import cli_env, copy_db, dump, nckh, refusal_rows
from tests.conftest import local
from tests.unit.test_workflow_loader import BAD, BASE, line_of

OFFICE = "nghiepvuy@syt.example.vn"
COUNCIL = "hoidong@syt.example.vn"
HEAD_A = "giamdoc@bvdk.example.vn"
HEAD_B = "duc.hv@ttyt-dh.example.vn"
PI = "binh.lv@bvdk.example.vn"
NOW = "2025-06-02T09:00"
PROPOSED, IN_PROGRESS, ACCEPTED = 1, 2, 3


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Units BVDK and TTYT-DH, four people, task 1 proposed, 2 in progress, 3 accepted."""
    data = tmp_path_factory.mktemp("template")
    settings = load_settings(env={"NCKH_DATA_DIR": str(data),
                                  "NCKH_DATABASE_URL": f"sqlite:///{data / 'nckh.db'}"})
    app = build(settings)
    e, t0 = app.engine, local(2025, 2, 3)
    e.add_unit(UnitInput("BVDK", "Bệnh viện Đa khoa tỉnh", "TS.BS Nguyễn Thị Hằng", HEAD_A),
               now=t0)
    e.add_unit(UnitInput("TTYT-DH", "Trung tâm Y tế huyện Đồng Hỷ", "BS.CKII Hoàng Văn Đức",
                         HEAD_B), now=t0)
    e.add_person(email=OFFICE, name="Phòng Nghiệp vụ Y", role="office", now=t0)
    e.add_person(email=COUNCIL, name="Hội đồng KHCN", role="council", now=t0)
    for title in ("Đề tài đề xuất", "Đề tài đang làm", "Đề tài đã nghiệm thu"):
        e.create_task(unit_code="BVDK", level="unit", title=title, pi_email=PI,
                      pi_name="ThS.BS Lê Văn Bình", year=2025, now=t0)
    for task, events in ((IN_PROGRESS, ("approve_outline", "start")),
                         (ACCEPTED, ("approve_outline", "start", "accept"))):
        for i, event in enumerate(events):
            e.fire(task, event, actor_email=OFFICE, now=local(2025, 3, 1 + i))
    app.close()
    return data / "nckh.db"


Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    message: str  # must appear in the one stderr line
    code: int = 2
    files: dict[str, str | bytes] = field(default_factory=dict)  # written into the case dir
    env: dict[str, str] = field(default_factory=dict)
    setup: Setup | None = None
    refusal: bool = False  # a refused decision: one refusal row is added


def stamp(revision: str) -> Setup:
    def run(db: Path) -> None:
        conn = sqlite3.connect(db)
        with conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        conn.close()
    return run


def bad_definition(case_id: str) -> tuple[str, str, str]:
    """(file text, expected 'demo.yaml:LINE: reason' start) from the loader's catalogue."""
    for cid, text, marker, nth, reason in BAD:
        if cid == case_id:
            return text, f"demo.yaml:{line_of(text, marker, nth)}: ", reason.replace("\\", "")
    raise KeyError(case_id)


def definition_case(case_id: str) -> Case:
    text, where, reason = bad_definition(case_id)
    return Case(("workflow", "validate", "{dir}/demo.yaml"), where + reason.split("(")[0],
                files={"demo.yaml": text})


HEADER = "code,name,head_name,head_email,contact_email,kind\n"
ROW_OK = "BV-AN,Bệnh viện An Bình,BS. Trần Thu,thu.t@anbinh.example.vn,,private\n"
FIRE = ("task", "fire")
CP1258_ROW = b"BV-W,B\xe1nh vi\xean W,X,w@a.vn,,\n"  # a row saved by a legacy Windows editor

CASES: dict[str, Case] = {
    # malformed workflow definitions
    "definition-unknown-state": definition_case("unknown-destination-state"),
    "definition-unreachable-state": definition_case("unreachable-state"),
    "definition-duplicate-event": definition_case("duplicate-event"),
    "definition-dead-end": definition_case("non-final-dead-end"),
    "definition-unknown-role": definition_case("unknown-role"),
    "definition-bad-date": definition_case("bad-date-february-30"),
    "definition-bad-duration": definition_case("bad-duration-unit"),
    "definition-on-overdue-not-for-system": definition_case(
        "on-overdue-event-not-allowed-for-system"),
    "definition-name-differs-from-file": Case(
        ("workflow", "validate", "{dir}/khac.yaml"),
        "khac.yaml:1: workflow name 'demo' must match its file name 'khac'",
        files={"khac.yaml": BASE}),
    # unknown things
    "unknown-task": Case((*FIRE, "99", "approve_outline", "--as", OFFICE), "unknown task: 99"),
    "unknown-task-show": Case(("task", "show", "42"), "unknown task: 42"),
    "unknown-unit": Case(("task", "new", "--unit", "KHONG-CO", "--level", "unit", "--title",
                          "Đề tài", "--pi-email", PI), "unknown unit: KHONG-CO"),
    "unknown-person": Case((*FIRE, "1", "approve_outline", "--as", "ai.do@syt.example.vn"),
                           "unknown person: ai.do@syt.example.vn"),
    "unknown-pi-without-name": Case(
        ("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài mới",
         "--pi-email", "moi@bvdk.example.vn"),
        "unknown person moi@bvdk.example.vn: give --pi-name to register them"),
    "unknown-event": Case((*FIRE, "1", "approve", "--as", OFFICE),
                          "unknown event 'approve' in workflow unit_task"),
    "unknown-workflow": Case(("workflow", "show", "de_tai"), "unknown workflow: de_tai"),
    # refusals
    "event-not-allowed-from-state": Case(
        (*FIRE, "1", "publish", "--as", OFFICE, "--set", "url=https://bvdk.example.vn/kq"),
        "task 1: event 'publish' cannot fire from state 'proposed'; allowed now: "
        "approve_outline, request_revision, reject, cancel", code=3, refusal=True),
    "wrong-role": Case((*FIRE, "1", "approve_outline", "--as", PI),
                       f"{PI} (role pi) may not fire 'approve_outline' on task 1; allowed roles: "
                       "council, office", code=3, refusal=True),
    "other-units-head": Case(
        (*FIRE, "2", "suspend", "--as", HEAD_B, "--reason", "Tạm dừng"),
        f"{HEAD_B} is unit head of TTYT-DH and may act only on that unit's tasks; task 2 "
        "belongs to BVDK", code=3, refusal=True),
    "stale-expected-version": Case(
        (*FIRE, "1", "approve_outline", "--as", OFFICE, "--expect-version", "7"),
        "task 1 changed since version 7 (now 1): reload and retry", code=3),
    "as-system": Case((*FIRE, "1", "approve_outline", "--as", "system"),
                      "'system' is reserved for the scheduler; act as a person"),
    # missing or malformed event data
    "missing-reason": Case((*FIRE, "1", "reject", "--as", COUNCIL),
                           "event 'reject' needs a reason (--reason TEXT)"),
    "missing-required-field": Case((*FIRE, "2", "extend", "--as", OFFICE, "--reason", "Chậm"),
                                   "event 'extend' needs --set until=YYYY-MM-DD"),
    "missing-url-or-reference": Case((*FIRE, "3", "publish", "--as", PI),
                                     "event 'publish' needs --set url=… or --set reference=…"),
    "unknown-set-field": Case((*FIRE, "1", "approve_outline", "--as", OFFICE, "--set",
                               "mau=đỏ"), "event 'approve_outline' has no field 'mau'"),
    "bad-set-syntax": Case((*FIRE, "1", "approve_outline", "--as", OFFICE, "--set",
                            "decision_no"), "--set 'decision_no': expected KEY=VALUE"),
    "bad-date-value": Case((*FIRE, "2", "extend", "--as", OFFICE, "--reason", "Chậm", "--set",
                            "until=2026-02-30"), "invalid date '2026-02-30', expected YYYY-MM-DD"),
    "extension-not-later": Case((*FIRE, "2", "extend", "--as", OFFICE, "--reason", "Chậm",
                                 "--set", "until=2025-11-30"),
                                "until 2025-11-30 must be later than the current deadline "
                                "2025-12-01"),
    "bad-url": Case((*FIRE, "3", "publish", "--as", PI, "--set", "url=www.bvdk.example.vn"),
                    "'www.bvdk.example.vn' is not an http(s) URL"),
    # time
    "bad-now-option": Case(("--now", "2025-13-01", "task", "list"),
                           "invalid --now/NCKH_NOW '2025-13-01'"),
    "bad-now-environment": Case(("task", "list"), "invalid --now/NCKH_NOW 'ngày mai'",
                                env={"NCKH_NOW": "ngày mai"}),
    "at-in-the-future": Case((*FIRE, "1", "approve_outline", "--as", OFFICE, "--at",
                              "2025-07-01"), "effective time 2025-07-01T00:00:00+07:00 is in "
                                             "the future"),
    "bad-at": Case((*FIRE, "1", "approve_outline", "--as", OFFICE, "--at", "01/07/2025"),
                   "invalid --at '01/07/2025'"),
    "at-before-last-transition": Case(
        (*FIRE, "2", "suspend", "--as", OFFICE, "--reason", "x", "--at", "2025-03-01T00:00"),
        "is before the task's last transition"),
    # the directory
    "bad-email-unit-add": Case(("unit", "add", "BV-AN", "--name", "Bệnh viện An Bình",
                                "--head-name", "BS. Trần Thu", "--head-email", "thu.t@"),
                               "invalid head e-mail of unit BV-AN 'thu.t@'"),
    "bad-email-person-add": Case(("person", "add", "--email", "an tai bvdk.vn", "--name", "An",
                                  "--role", "office"), "invalid e-mail 'an tai bvdk.vn'"),
    "duplicate-unit": Case(("unit", "add", "bvdk", "--name", "Trùng", "--head-name", "X",
                            "--head-email", "x@bvdk.example.vn"), "unit bvdk already exists"),
    "duplicate-person": Case(("person", "add", "--email", OFFICE.upper(), "--name", "Trùng",
                              "--role", "office"), f"person {OFFICE} already exists"),
    "person-in-unknown-unit": Case(("person", "add", "--email", "x@a.vn", "--name", "X",
                                    "--role", "pi", "--unit", "KHONG-CO"),
                                   "unknown unit: KHONG-CO"),
    # unit CSV files
    "csv-missing-column": Case(("unit", "import", "{dir}/units.csv"),
                               "units.csv:1: missing column(s) head_email",
                               files={"units.csv": "code,name,head_name\nA,B,C\n"}),
    "csv-bad-email-on-line-3": Case(
        ("unit", "import", "{dir}/units.csv"),
        "units.csv:3: invalid head e-mail of unit BV-X 'thu.x.anbinh'",
        files={"units.csv": HEADER + ROW_OK + "BV-X,Bệnh viện X,BS. X,thu.x.anbinh,,\n"}),
    "csv-duplicate-code": Case(("unit", "import", "{dir}/units.csv"),
                               "units.csv:3: unit bv-an already on line 2",
                               files={"units.csv": HEADER + ROW_OK + ROW_OK.replace(
                                   "BV-AN", "bv-an").replace("thu.t@", "thu.t2@")}),
    "csv-wrong-field-count": Case(("unit", "import", "{dir}/units.csv"),
                                  "units.csv:3: wrong number of fields",
                                  files={"units.csv": HEADER + ROW_OK + "BV-Y,Y,BS. Y\n"}),
    "csv-not-utf8": Case(("unit", "import", "{dir}/units.csv"), "units.csv: not UTF-8 text",
                         files={"units.csv": (HEADER + ROW_OK).encode() + CP1258_ROW}),
    "csv-conflicts-with-database-on-last-row": Case(
        ("unit", "import", "{dir}/units.csv"),
        f"units.csv:3: {OFFICE} is already registered as office (no unit)",
        files={"units.csv": HEADER + ROW_OK + f"BV-Z,Bệnh viện Z,BS. Z,{OFFICE},,\n"}),
    # task registration
    "bad-topic": Case(("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài",
                       "--pi-email", PI, "--topic", "6"),
                      "invalid topic group 6: expected 1–5"),
    "bad-year": Case(("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài",
                      "--pi-email", PI, "--year", "1990"), "invalid year 1990: expected 2000–2100"),
    "year-not-a-number": Case(("task", "new", "--unit", "BVDK", "--level", "unit", "--title",
                               "Đề tài", "--pi-email", PI, "--year", "năm nay"),
                              "Invalid value for '--year': 'năm nay' is not a valid integer"),
    "bad-level": Case(("task", "new", "--unit", "BVDK", "--level", "national", "--title", "X",
                       "--pi-email", PI), "Invalid value for '--level': 'national' is not one of"),
    "empty-title": Case(("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "  ",
                         "--pi-email", PI), "task title is empty"),
    # the database itself
    "database-at-a-newer-schema": Case(
        ("task", "list"), "database schema ffff is newer than this nckh knows",
        setup=stamp("ffff")),
    "unsupported-database-url": Case(("task", "list"), "unsupported database 'mysql'",
                                     env={"NCKH_DATABASE_URL": "mysql://nckh@db/nckh"}),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=k) for k, c in CASES.items()])
def test_a_bad_input_gets_one_line_an_exit_code_and_changes_nothing(
        case: Case, template: Path, tmp_path: Path) -> None:
    db = copy_db(template, tmp_path / "data")
    for name, content in case.files.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    if case.setup is not None:
        case.setup(db)
    before, refused_before = dump(db), refusal_rows(db)

    args = [a.replace("{dir}", str(tmp_path)) for a in case.args]
    result = nckh(cli_env(db.parent, NOW, **case.env), *args)

    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nckh: ")
    assert case.message in lines[0], lines[0]
    assert result.returncode == case.code, result.stderr
    assert result.stdout == ""
    assert dump(db) == before
    added = refusal_rows(db)[len(refused_before):]
    assert refusal_rows(db)[: len(refused_before)] == refused_before
    if case.refusal:
        assert len(added) == 1 and added[0][4] in lines[0], added
    else:
        assert added == []


def test_the_catalogue_has_at_least_25_cases_of_each_exit_code_kind() -> None:
    assert len(CASES) >= 25
    assert {c.code for c in CASES.values()} == {2, 3}
