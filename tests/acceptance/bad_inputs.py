"""The catalogue of bad inputs to `nckh`: each gives one line on stderr naming the problem, the
documented exit code (2 the caller's input, 3 refused, 1 an operational failure), and leaves the
database unchanged. Run by tests/acceptance/test_cli_bad_inputs.py on SQLite and PostgreSQL.

A case is data: the arguments, the message its one line must contain, the exit code, files written
into the case's directory (`{dir}` in arguments and environment values), environment overrides,
a setup run on the case's own database, and whether the attempt is audited (one `refusal` row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import text as sql

from tests.unit.workflow_samples import BAD, BASE, line_of

OFFICE = "nghiepvuy@syt.example.vn"
COUNCIL = "hoidong@syt.example.vn"
HEAD_A = "giamdoc@bvdk.example.vn"
HEAD_B = "duc.hv@ttyt-dh.example.vn"
PI = "binh.lv@bvdk.example.vn"
NOW = "2025-06-02T09:00"
PROPOSED, IN_PROGRESS, ACCEPTED = 1, 2, 3

Setup = Callable[[str, Path], None]  # (the case's database URL, the case's directory)


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    message: str  # must appear in the one stderr line
    code: int = 2
    # written into the case dir (`{dir}` in a text file stands for that directory)
    files: dict[str, str | bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    setup: Setup | None = None
    refusal: bool = False  # an audited attempt: one refusal row is added
    needs_pg: bool = False  # the case itself talks to the PostgreSQL server


def stamp(revision: str) -> Setup:
    def run(url: str, _dir: Path) -> None:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(sql("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        engine.dispose()
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
                           "unknown person: ai.do@syt.example.vn", refusal=True),
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
                                   "event 'extend' needs --set until=DD/MM/YYYY"),
    "missing-url-or-reference": Case((*FIRE, "3", "publish", "--as", PI),
                                     "event 'publish' needs --set url=… or --set reference=…"),
    "unknown-set-field": Case((*FIRE, "1", "approve_outline", "--as", OFFICE, "--set",
                               "mau=đỏ"), "event 'approve_outline' has no field 'mau'"),
    "bad-set-syntax": Case((*FIRE, "1", "approve_outline", "--as", OFFICE, "--set",
                            "decision_no"), "--set 'decision_no': expected KEY=VALUE"),
    "bad-date-value": Case((*FIRE, "2", "extend", "--as", OFFICE, "--reason", "Chậm", "--set",
                            "until=2026-02-30"),
                           "invalid date '2026-02-30', expected DD/MM/YYYY (or YYYY-MM-DD)"),
    "bad-dd-mm-date-value": Case((*FIRE, "2", "extend", "--as", OFFICE, "--reason", "Chậm",
                                  "--set", "until=30/02/2026"),
                                 "invalid date '30/02/2026', expected DD/MM/YYYY"),
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
    "bad-at": Case((*FIRE, "1", "approve_outline", "--as", OFFICE, "--at", "07/01/2025 8h"),
                   "invalid --at '07/01/2025 8h': expected DD/MM/YYYY [HH:MM]"),
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
    "csv-vietnamese-bad-kind": Case(
        ("unit", "import", "{dir}/units.csv"),
        "units.csv:2: unit BV-K: invalid kind 'bán công', expected public or private",
        files={"units.csv": "Mã đơn vị;Tên đơn vị;Thủ trưởng;Email thủ trưởng;Loại hình\n"
                            "BV-K;Bệnh viện K;BS. K;k@bvk.example.vn;bán công\n"}),
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
    "backdate-in-the-future": Case(
        ("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài", "--pi-email",
         PI, "--backdate", "2099-01-05"), "invalid --backdate 05/01/2099: it is after today"),
    "backdate-too-old": Case(
        ("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài", "--pi-email",
         PI, "--backdate", "2001-01-05"), "invalid --backdate 05/01/2001: at most back to 01/01/"),
    "backdate-not-a-date": Case(
        ("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài", "--pi-email",
         PI, "--backdate", "hôm qua"), "invalid --backdate 'hôm qua': expected"),
    "empty-title": Case(("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "  ",
                         "--pi-email", PI), "task title is empty"),
    # the database itself
    "database-at-a-newer-schema": Case(
        ("task", "list"), "database schema ffff is newer than this nckh knows",
        setup=stamp("ffff")),
    "unsupported-database-url": Case(("task", "list"), "unsupported database 'mysql'",
                                     env={"NCKH_DATABASE_URL": "mysql://nckh@db/nckh"}),
}


# --- added with the input rules (workflows/inputs.py) and the error contract ---------------------
def long(n: int, ch: str = "a") -> str:
    return ch * n


def new_task(*extra: str, title: str = "Đề tài", pi: str = PI) -> tuple[str, ...]:
    return ("task", "new", "--unit", "BVDK", "--level", "unit", "--title", title, "--pi-email",
            pi, *extra)


def config(text: str, *args: str) -> Case:
    """`nckh --config {dir}/nckh.toml ARGS` (default `task list`) with this file; the message is
    filled in by the caller."""
    return Case(("--config", "{dir}/nckh.toml", *(args or ("task", "list"))), "",
                files={"nckh.toml": text})


def with_message(case: Case, message: str, **changes: object) -> Case:
    from dataclasses import replace

    return replace(case, message=message, **changes)  # type: ignore[arg-type]


def write_file(name: str, content: bytes) -> Setup:
    def run(_url: str, where: Path) -> None:
        (where / name).write_bytes(content)
    return run


def other_apps_sqlite(name: str) -> Setup:
    """An SQLite file holding another application's table."""
    def run(_url: str, where: Path) -> None:
        import sqlite3

        conn = sqlite3.connect(where / name)
        with conn:
            conn.execute("CREATE TABLE patient (id INTEGER PRIMARY KEY, name TEXT)")
        conn.close()
    return run


EXTEND = (*FIRE, "2", "extend", "--as", OFFICE, "--reason", "Chậm tiến độ", "--set")
APPROVE = (*FIRE, "1", "approve_outline", "--as", OFFICE)
OUT_OF_RANGE = "is out of range: dates must lie in the years 2000–2100"
UNIT_HEADER = "code;name;head_name;head_email;contact_email;kind\r\n"
UNIT_ROW = "BV-AN;Bệnh viện An Bình, cơ sở 2;BS. Trần Thu;thu.t@anbinh.example.vn;;private\r\n"

NEW_CASES: dict[str, Case] = {
    # ids beyond the column: unknown, the same on both databases (PostgreSQL INTEGER)
    "id-twenty-digits-show": Case(("task", "show", "99999999999999999999"),
                                  "unknown task: 99999999999999999999"),
    "id-two-to-the-31-show": Case(("task", "show", "2147483648"), "unknown task: 2147483648"),
    "id-zero-show": Case(("task", "show", "0"), "unknown task: 0"),
    "id-negative-show": Case(("task", "show", "--", "-1"), "unknown task: -1"),
    "id-twenty-digits-fire": Case((*FIRE, "99999999999999999999", "approve_outline", "--as",
                                   OFFICE), "unknown task: 99999999999999999999"),
    "id-two-to-the-31-events": Case(("task", "events", "2147483648"),
                                    "unknown task: 2147483648"),
    "id-two-to-the-31-mail-preview": Case(("mail", "preview", "reminder", "--task",
                                           "2147483648"), "unknown task: 2147483648"),
    "id-twenty-digits-outbox-show": Case(("outbox", "show", "99999999999999999999"),
                                         "unknown outbox message: 99999999999999999999"),
    "id-two-to-the-31-outbox-retry": Case(("outbox", "retry", "2147483648"),
                                          "unknown outbox message: 2147483648"),
    # years and dates beyond the calendar (2000–2100)
    "year-twenty-digits-list": Case(("task", "list", "--year", "99999999999999999999"),
                                    "invalid year 99999999999999999999: expected 2000–2100"),
    "year-two-to-the-31-list": Case(("task", "list", "--year", "2147483648"),
                                    "invalid year 2147483648: expected 2000–2100"),
    "year-report-2101": Case(("report", "compliance", "--year", "2101"),
                             "invalid year 2101: expected 2000–2100"),
    "year-days-off-9999": Case(("calendar", "days-off", "--year", "9999"),
                               "Invalid value for '--year': 9999 is not in the range "
                               "2000<=x<=2100"),
    "year-sample-1999": Case(("sample", "load", "--year", "1999"),
                             "invalid year 1999: expected 2000–2100"),
    "date-extend-until-9999": Case((*EXTEND, "until=9999-12-31"),
                                   f"field 'until' of event 'extend': date 9999-12-31 "
                                   f"{OUT_OF_RANGE}"),
    "date-extend-until-2101": Case((*EXTEND, "until=2101-01-01"),
                                   f"date 2101-01-01 {OUT_OF_RANGE}"),
    "date-decided-on-1900": Case((*APPROVE, "--set", "decided_on=1900-01-01"),
                                 f"field 'decided_on' of event 'approve_outline': date 1900-01-01 "
                                 f"{OUT_OF_RANGE}"),
    "date-now-option-9999": Case(("--now", "9999-12-31", "task", "list"),
                                 f"--now/NCKH_NOW 9999-12-31 {OUT_OF_RANGE}"),
    "date-now-environment-year-1": Case(("task", "list"), f"--now/NCKH_NOW 0001-01-01 "
                                                          f"{OUT_OF_RANGE}",
                                        env={"NCKH_NOW": "0001-01-01"}),
    "date-now-9999-firing": Case((*APPROVE, "--now", "9999-12-31T23:59"),
                                 f"--now/NCKH_NOW 9999-12-31T23:59 {OUT_OF_RANGE}"),
    "date-now-9999-calendar-list": Case(("--now", "9999-12-31", "calendar", "list"),
                                        f"--now/NCKH_NOW 9999-12-31 {OUT_OF_RANGE}"),
    "date-at-9999": Case((*APPROVE, "--at", "9999-12-31"), f"--at 9999-12-31 {OUT_OF_RANGE}"),
    "date-at-year-1": Case((*APPROVE, "--at", "0001-01-01T00:00"),
                           f"--at 0001-01-01T00:00 {OUT_OF_RANGE}"),
    "date-as-of-9999": Case(("report", "compliance", "--year", "2025", "--as-of", "9999-12-31"),
                            f"--as-of 9999-12-31 {OUT_OF_RANGE}"),
    "date-calendar-config-9999": with_message(
        config('[calendar]\nextra_holidays = ["2025-09-01", "9999-01-01"]\n'),
        f"config [calendar] extra_holidays: date 9999-01-01 {OUT_OF_RANGE}"),
    # text: NFC, no control or bidirectional characters, something visible, within its limit
    "text-title-ansi-escape": Case(new_task(title="Đề tài \x1b[31mđỏ\x1b[0m"),
                                   "task title contains a control character (U+001B at "
                                   "character 8); remove it"),
    "text-title-zero-width-only": Case(new_task(title="\u200b\u200c\u2060"),
                                       "task title is empty (only invisible characters)"),
    "text-title-bidi-override": Case(new_task(title="Đề tài \u202egnàb"),
                                     "task title contains a bidirectional control character "
                                     "(U+202E at character 8)"),
    "text-title-bidi-isolate": Case(new_task(title="\u2067Đề tài\u2069"),
                                    "task title contains a bidirectional control character "
                                    "(U+2067 at character 1)"),
    "text-title-100-kb": Case(new_task(title=long(100_000)),
                              "task title is 100000 characters long; at most 500"),
    "text-title-501-decomposed": Case(new_task(title="e\u0302\u0303" * 501),  # NFD ễ
                                      "task title is 501 characters long; at most 500"),
    "text-title-two-lines": Case(new_task(title="Dòng một\nDòng hai"),
                                 "task title must be one line (a line break, U+000A, at "
                                 "character 9)"),
    "text-title-not-utf8": Case(new_task(title="Đề tài\udcff"),
                                "(Đề tài\\udcff) is not UTF-8 text"),
    "text-argument-not-utf8": Case(("task", "show", "\udcfe"),
                                   "argument 3 (\\udcfe) is not UTF-8 text"),
    "text-pi-name-too-long": Case(new_task("--pi-name", long(301, "Ễ"), pi="moi@bvdk.example.vn"),
                                  "person name is 301 characters long; at most 300"),
    "text-unit-name-too-long": Case(("unit", "add", "BV-AN", "--name", long(301),
                                     "--head-name", "BS. Trần Thu", "--head-email",
                                     "thu.t@anbinh.example.vn"),
                                    "unit BV-AN: name is 301 characters long; at most 300"),
    "text-unit-head-name-too-long": Case(("unit", "add", "BV-AN", "--name", "Bệnh viện An Bình",
                                          "--head-name", long(301), "--head-email",
                                          "thu.t@anbinh.example.vn"),
                                         "unit BV-AN: head name is 301 characters long; at "
                                         "most 300"),
    "text-unit-name-bidi": Case(("unit", "add", "BV-AN", "--name", "Bệnh viện\u202eAn Bình",
                                 "--head-name", "BS. Trần Thu", "--head-email",
                                 "thu.t@anbinh.example.vn"),
                                "unit BV-AN: name contains a bidirectional control character"),
    "text-person-name-too-long": Case(("person", "add", "--email", "x@syt.example.vn", "--name",
                                       long(301), "--role", "office"),
                                      "person name is 301 characters long; at most 300"),
    "text-person-title-too-long": Case(("person", "add", "--email", "x@syt.example.vn",
                                        "--name", "Trần Văn X", "--role", "office", "--title",
                                        long(61)),
                                       "person title is 61 characters long; at most 60"),
    "text-person-name-zero-width": Case(("person", "add", "--email", "x@syt.example.vn",
                                         "--name", "\ufeff\u200b", "--role", "office"),
                                        "person name is empty (only invisible characters)"),
    "text-reason-too-long": Case((*FIRE, "1", "reject", "--as", COUNCIL, "--reason",
                                  long(2001, "ố")),
                                 "reason is 2001 characters long; at most 2000"),
    "text-reason-ansi-escape": Case((*FIRE, "1", "reject", "--as", COUNCIL, "--reason",
                                     "Trùng lặp\x1b[2J"),
                                    "reason contains a control character (U+001B at character "
                                    "10)"),
    "text-reason-zero-width-only": Case((*FIRE, "1", "reject", "--as", COUNCIL, "--reason",
                                         "\u200b"),
                                        "event 'reject' needs a reason (--reason TEXT)"),
    "text-event-field-too-long": Case((*APPROVE, "--set", "decision_no=" + long(1001)),
                                      "field 'decision_no' of event 'approve_outline' is 1001 "
                                      "characters long; at most 1000"),
    "text-event-field-control": Case((*APPROVE, "--set", "decision_no=15/QĐ\x07"),
                                     "field 'decision_no' of event 'approve_outline' contains a "
                                     "control character (U+0007"),
    "text-csv-nul-in-name": Case(("unit", "import", "{dir}/units.csv"),
                                 "units.csv:2: unit BV-N: name contains a control character "
                                 "(U+0000 at character 10)",
                                 files={"units.csv": HEADER + "BV-N,Bệnh viện\x00N,BS. N,"
                                                              "n@bvn.example.vn,,\n"}),
    "text-csv-name-too-long": Case(("unit", "import", "{dir}/units.csv"),
                                   "units.csv:3: unit BV-L: name is 301 characters long; at "
                                   "most 300",
                                   files={"units.csv": HEADER + ROW_OK + f"BV-L,{long(301)},"
                                                                         "BS. L,l@bvl.vn,,\n"}),
    "text-csv-bidi-head-name": Case(("unit", "import", "{dir}/units.csv"),
                                    "units.csv:2: unit BV-B: head name contains a bidirectional "
                                    "control character (U+202D",
                                    files={"units.csv": HEADER + "BV-B,Bệnh viện B,\u202dBS. B,"
                                                                 "b@bvb.vn,,\n"}),
    # attempts by people outside the directory are audited like refusals (exit 2)
    "unregistered-with-escapes": Case((*APPROVE[:-1], "x\x1b[2J@syt.example.vn"),
                                      "unknown person: x\\x1b[2J@syt.example.vn", refusal=True),
    "unregistered-very-long-address": Case((*APPROVE[:-1], long(400) + "@syt.example.vn"),
                                           f"unknown person: {long(400)}@syt.example.vn",
                                           refusal=True),
    "unregistered-on-unknown-task": Case((*FIRE, "99", "approve_outline", "--as",
                                          "ai.do@syt.example.vn"), "unknown task: 99"),
    "unregistered-listing-events": Case(("task", "events", "1", "--as", "ai.do@syt.example.vn"),
                                        "unknown person: ai.do@syt.example.vn"),
    # listing by state
    "state-typo": Case(("task", "list", "--state", "in-progress"),
                       "unknown state 'in-progress'; states: acceptance_failed, accepted, "),
    "state-label-unknown": Case(("task", "list", "--state", "Đang làm"),
                                "unknown state 'Đang làm'; states: "),
    # unit CSVs as the office's Excel writes them (';', BOM, CRLF) and ones nobody can read
    "csv-semicolon-duplicate-code": Case(("unit", "import", "{dir}/units.csv"),
                                         "units.csv:3: unit bv-an already on line 2",
                                         files={"units.csv": "\ufeff" + UNIT_HEADER + UNIT_ROW
                                                + UNIT_ROW.replace("BV-AN", "bv-an")}),
    "csv-semicolon-missing-column": Case(("unit", "import", "{dir}/units.csv"),
                                         "units.csv:1: missing column(s) head_email",
                                         files={"units.csv": "code;name;head_name\r\nA;B;C\r\n"}),
    "csv-semicolon-wrong-field-count": Case(("unit", "import", "{dir}/units.csv"),
                                            "units.csv:3: wrong number of fields",
                                            files={"units.csv": UNIT_HEADER + UNIT_ROW
                                                   + "BV-Y;Y;BS. Y\r\n"}),
    "csv-tab-separated": Case(("unit", "import", "{dir}/units.csv"),
                              "units.csv:1: cannot read the header: columns must be separated "
                              "by ',' or ';'",
                              files={"units.csv": HEADER.replace(",", "\t")
                                     + ROW_OK.replace(",", "\t")}),
    "csv-is-a-directory": Case(("unit", "import", "{dir}"), "is a directory"),
    # workflow files: YAML anchors and aliases, refused before anything is built
    "definition-yaml-anchor-and-alias": definition_case("yaml-anchor-and-alias"),
    "definition-yaml-alias-bomb": definition_case("yaml-alias-bomb"),
    "definition-yaml-self-reference": definition_case("yaml-self-referencing-anchor"),
    "definition-yaml-alias-without-anchor": definition_case("yaml-alias-without-anchor"),
    "definition-is-a-directory": Case(("workflow", "validate", "{dir}"), "is a directory"),
    "definition-not-utf8": Case(("workflow", "validate", "{dir}/demo.yaml"),
                                "demo.yaml: not UTF-8 text",
                                files={"demo.yaml": BASE.encode("cp1258", "replace")}),
    # configuration: files that are not TOML, sections and keys nobody reads
    "config-is-a-directory": Case(("--config", "{dir}", "task", "list"),
                                  "is a directory, not a TOML file"),
    "config-environment-is-a-directory": Case(("task", "list"),
                                              "is a directory, not a TOML file",
                                              env={"NCKH_CONFIG": "{dir}"}),
    "config-binary-file": Case(("--config", "{dir}/nckh.toml", "task", "list"),
                               "nckh.toml: not UTF-8 text (byte 4); is it a TOML file?",
                               files={"nckh.toml": b"\x7fELF\xff\xfe\x00\x01"}),
    "config-missing-file": Case(("--config", "{dir}/khong-co.toml", "task", "list"),
                                "config file not found: "),
    "config-not-toml": with_message(config("[nckh\n"), "nckh.toml: "),
    "config-unknown-key-nckh": with_message(
        config('[nckh]\ndata_dri = "/var/lib/nckh"\n'),
        "config [nckh]: unknown key 'data_dri'; known keys: data_dir, database_url"),
    "config-unknown-key-smtp": with_message(config('[smtp]\nhots = "mail.syt.example.vn"\n'),
                                            "config [smtp]: unknown key 'hots'"),
    "config-unknown-key-mail": with_message(config('[mail]\nofice_phone = "0210 3 846 xxx"\n'),
                                            "config [mail]: unknown key 'ofice_phone'"),
    "config-unknown-key-reports": with_message(config('[reports]\nfromats = ["csv"]\n'),
                                               "config [reports]: unknown key 'fromats'; known "
                                               "keys: agency, csv_delimiter, formats, issuer, "
                                               "place, signers, to"),
    "config-unknown-key-calendar": with_message(
        config('[calendar]\nextra_holiday = ["2026-01-02"]\n'),
        "config [calendar]: unknown key 'extra_holiday'; known keys: confirmed_years, "
        "extra_holidays, working_saturdays"),
    "config-unknown-key-scheduler": with_message(config('[scheduler]\nsendat = "08:00"\n'),
                                                 "config [scheduler]: unknown key 'sendat'"),
    "config-unknown-section": with_message(config('[mial]\nlang = "vi"\n'),
                                           "unknown section [mial]; sections: [nckh], [smtp]"),
    "config-key-outside-any-section": with_message(
        config('database_url = "sqlite:////tmp/x.db"\n'),
        "key 'database_url' is outside any section; put it under [nckh]"),
    "config-obligation-title-placeholder": with_message(
        config('[[scheduler.obligations]]\nkey = "ke_hoach"\ntitle = "Kế hoạch {nam}"\n'
               'due = "03-31"\n'),
        "config [[scheduler.obligations]] #1.title: only {year} and {month} may be filled in"),
    "config-obligation-title-too-long": with_message(
        config(f'[[scheduler.obligations]]\nkey = "ke_hoach"\ntitle = "{long(497)} {{year}}"\n'
               'due = "03-31"\n'),
        "config [[scheduler.obligations]] #1 title is 504 characters long; at most 500"),
    "config-smtp-port-out-of-range": Case(("task", "list"),
                                          "invalid SMTP port 70000 (NCKH_SMTP_PORT): expected "
                                          "1–65535", env={"NCKH_SMTP_PORT": "70000"}),
    "config-workflows-dir-is-a-file": Case(("workflow", "list"), "workflow directory not found",
                                           env={"NCKH_WORKFLOWS_DIR": "{dir}/afile"},
                                           setup=write_file("afile", b"x")),
    # where the data lives: a data directory that is a file, URLs and files that are no database
    "data-dir-is-a-file": Case(("task", "list"), "afile is a file, not a directory "
                                                 "(NCKH_DATA_DIR or [nckh] data_dir)",
                               env={"NCKH_DATA_DIR": "{dir}/afile", "NCKH_DATABASE_URL": ""},
                               setup=write_file("afile", b"x")),
    "db-url-port-not-a-number": Case(("task", "list"), "invalid database URL "
                                     "'postgresql+psycopg://nckh@127.0.0.1:54x2/nckh': port "
                                     "'54x2' is not a number",
                                     env={"NCKH_DATABASE_URL":
                                          "postgresql://nckh@127.0.0.1:54x2/nckh"}),
    "db-url-port-out-of-range": Case(("task", "list"), "port 99999 is not 1–65535",
                                     env={"NCKH_DATABASE_URL":
                                          "postgresql://nckh@127.0.0.1:99999/nckh"}),
    "db-url-password-not-shown": Case(("task", "list"), "'postgresql+psycopg://nckh:***@db:5x/n'",
                                      env={"NCKH_DATABASE_URL":
                                           "postgresql://nckh:bi-mat@db:5x/n"}),
    "db-url-not-a-url": Case(("task", "list"), "invalid database URL '::::': expected "
                                               "sqlite:///PATH or postgresql://",
                             env={"NCKH_DATABASE_URL": "::::"}),
    "db-file-not-a-database": Case(("task", "list"), "notes.txt: it is not an SQLite database",
                                   env={"NCKH_DATABASE_URL": "sqlite:///{dir}/notes.txt"},
                                   files={"notes.txt": "Ghi chú của phòng\n" * 300}),
    "db-file-not-a-database-init": Case(("init",), "notes.txt: it is not an SQLite database",
                                        env={"NCKH_DATABASE_URL": "sqlite:///{dir}/notes.txt"},
                                        files={"notes.txt": "Ghi chú của phòng\n" * 300}),
    "db-another-applications-sqlite": Case(("task", "list"),
                                           "database is not an nckh database (no "
                                           "alembic_version table)",
                                           env={"NCKH_DATABASE_URL": "sqlite:///{dir}/other.db"},
                                           setup=other_apps_sqlite("other.db")),
    "db-sqlite-under-a-file": Case(("task", "list"), "cannot create the SQLite database",
                                   env={"NCKH_DATABASE_URL": "sqlite:///{dir}/afile/nckh.db"},
                                   setup=write_file("afile", b"x")),
    "db-server-down": Case(("task", "list"), "database error at postgresql+psycopg://nckh@"
                                             "127.0.0.1:1/nckh: connection failed", code=1,
                           env={"NCKH_DATABASE_URL": "postgresql://nckh@127.0.0.1:1/nckh"}),
    "db-server-down-init": Case(("init",), "database error at postgresql+psycopg://nckh@"
                                           "127.0.0.1:1/nckh: connection failed", code=1,
                                env={"NCKH_DATABASE_URL": "postgresql://nckh@127.0.0.1:1/nckh"}),
    "db-missing-database": Case(("task", "list"), 'database "nckh_khong_co" does not exist',
                                code=1, needs_pg=True,
                                env={"NCKH_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/"
                                                          "nckh_khong_co"}),
    "config-value-not-text": with_message(config("[nckh]\ndata_dir = 5\n"),
                                          "config [nckh] data_dir: expected text in quotes, not 5"),
    "config-templates-dir-missing": with_message(
        config('[mail]\ntemplates_dir = "/khong/co/mau-thu"\n'),
        "invalid [mail] templates_dir = '/khong/co/mau-thu': no such directory"),
    "config-kinds-file-binary": Case(("--config", "{dir}/nckh.toml", "task", "list"),
                                     "kinds.yaml: not UTF-8 text (byte 1)",
                                     files={"nckh.toml": '[mail]\nkinds_file = '
                                                         '"{dir}/kinds.yaml"\n',
                                            "kinds.yaml": b"\x00\xff\xfe"}),
    "config-kinds-file-directory": with_message(
        config('[mail]\nkinds_file = "/"\n'),
        "cannot read the notification kinds file /: Is a directory"),
    "sample-file-not-utf8": Case(("sample", "load", "--file", "{dir}/tinh.toml"),
                                 "tinh.toml: not UTF-8 text (byte 1); is it a TOML file?",
                                 files={"tinh.toml": b"\x00\xff\xfe"}),
    # other commands' own arguments
    "mail-preview-html-unwritable": Case(("mail", "preview", "task_registered", "--task", "1",
                                          "--html", "{dir}/khong-co/thu.html"),
                                         "thu.html: No such file or directory"),
    "unit-empty-code-listing": Case(("task", "list", "--unit", ""), "unknown unit: "),
    "mail-preview-unknown-kind": Case(("mail", "preview", "nhac_han", "--task", "1"),
                                      "unknown notification kind 'nhac_han'"),
    "outbox-retry-neither-id-nor-all": Case(("outbox", "retry"),
                                            "give either an outbox ID or --all-dead"),
    "report-output-directory-missing": Case(("report", "compliance", "--year", "2025", "-o",
                                             "{dir}/khong-co/bao-cao.csv"), "does not exist"),
}
CASES.update(NEW_CASES)


def a_session_held(url: str, data: Path) -> None:
    """BVDK held a session on 15/05/2025 on "Kháng sinh dự phòng"."""
    import datetime as dt

    from engine.app import build
    from engine.sessions import SessionInput
    from engine.settings import load_settings
    from tests.conftest import local

    app = build(load_settings(env={"NCKH_DATA_DIR": str(data), "NCKH_DATABASE_URL": url}))
    app.engine.add_session(SessionInput("BVDK", dt.date(2025, 5, 15), "Kháng sinh dự phòng", PI),
                           now=local(2025, 5, 20))
    app.close()


SESSION = ("session", "add", "--unit", "BVDK", "--date", "15/05/2025",
           "--topic", "Kháng sinh dự phòng", "--presenter-email", PI)


def session(**change: str) -> tuple[str, ...]:
    """`nckh session add` for BVDK with some options changed (or added)."""
    args = list(SESSION)
    for key, value in change.items():
        option = "--" + key.replace("_", "-")
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    return tuple(args)


SESSION_CASES: dict[str, Case] = {
    "session-unknown-unit": Case(session(unit="KHONG-CO"), "unknown unit: KHONG-CO"),
    "session-date-in-the-future": Case(session(date="03/06/2025"),
                                       "--date 03/06/2025 is in the future: record a session "
                                       "once it is held (today is 02/06/2025)"),
    "session-date-not-a-day": Case(session(date="31/04/2025"),
                                   "invalid --date '31/04/2025': expected DD/MM/YYYY"),
    "session-date-month-first": Case(session(date="05/31/2025"),
                                     "invalid --date '05/31/2025': expected DD/MM/YYYY"),
    "session-empty-topic": Case(session(topic="  "), "--topic is empty"),
    "session-bad-presenter": Case(session(presenter_email="bs binh"),
                                  "invalid --presenter-email 'bs binh'"),
    "session-negative-attendance": Case(session(attendance="-3"),
                                        "--attendance -3: expected a whole number 0–100000"),
    "session-attendance-not-a-number": Case(session(attendance="hai mươi"),
                                            "'hai mươi' is not a valid integer"),
    "session-minutes-file-missing": Case(session(file="{dir}/bien-ban.pdf"),
                                         "bien-ban.pdf: no such file"),
    "session-recorded-for-another-unit": Case(session(**{"as": HEAD_B}),
                                              f"{HEAD_B} is neither of the office nor of this "
                                              "unit", code=3),
    "session-twice": Case(SESSION, "unit BVDK already has a session on 15/05/2025 with this "
                                   "topic", code=3, setup=a_session_held),
    "session-list-unknown-unit": Case(("session", "list", "--unit", "KHONG-CO"),
                                      "unknown unit: KHONG-CO"),
    "session-list-bad-year": Case(("session", "list", "--year", "1999"),
                                  "1999 is not in the range 2000<=x<=2100"),
}
CASES.update(SESSION_CASES)


def a_publication_recorded(url: str, data: Path) -> None:
    """BVDK's article of 15/05/2025 in Tạp chí Y học Việt Nam, already in the register."""
    import datetime as dt

    from engine.app import build
    from engine.publications import PublicationInput
    from engine.settings import load_settings
    from tests.conftest import local

    app = build(load_settings(env={"NCKH_DATA_DIR": str(data), "NCKH_DATABASE_URL": url}))
    app.engine.add_publication(
        PublicationInput("BVDK", "Hiệu quả giảm đau sau mổ", "Lê Văn Bình", "journal_domestic",
                         dt.date(2025, 5, 15), venue_name="Tạp chí Y học Việt Nam"),
        now=local(2025, 5, 20))
    app.close()


PUBLICATION = ("publication", "add", "--unit", "BVDK", "--title", "Hiệu quả giảm đau sau mổ",
               "--authors", "Lê Văn Bình", "--kind", "journal_domestic",
               "--venue", "Tạp chí Y học Việt Nam", "--date", "15/05/2025")


def publication(*drop: str, **change: str) -> tuple[str, ...]:
    """`nckh publication add` for BVDK with options dropped, changed or added."""
    args = list(PUBLICATION)
    for option in drop:
        i = args.index(option)
        del args[i:i + 2]
    for key, value in change.items():
        option = "--" + key.replace("_", "-")
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    return tuple(args)


PUBLICATION_CASES: dict[str, Case] = {
    "publication-unknown-unit": Case(publication(unit="KHONG-CO"), "unknown unit: KHONG-CO"),
    "publication-unknown-task": Case(publication(task="99"), "unknown task: 99"),
    "publication-on-another-units-task": Case(
        publication(unit="TTYT-DH", task=str(ACCEPTED)),
        f"task {ACCEPTED} belongs to unit BVDK, not TTYT-DH", code=3),
    "publication-neither-unit-nor-task": Case(publication("--unit"),
                                              "give --unit CODE or --task ID"),
    "publication-date-in-the-future": Case(publication(date="03/06/2025"),
                                           "date 03/06/2025 is in the future: record a "
                                           "publication once it has appeared (today is "
                                           "02/06/2025)"),
    "publication-date-not-a-day": Case(publication(date="31/04/2025"),
                                       "invalid --date '31/04/2025': expected DD/MM/YYYY"),
    "publication-empty-title": Case(publication(title=" "), "title is empty"),
    "publication-empty-authors": Case(publication(authors="\u200b"),
                                      "authors is empty (only invisible characters)"),
    "publication-unknown-kind": Case(publication(kind="bao"),
                                     "venue kind 'bao': expected one of journal_domestic, "
                                     "journal_international, conference, unit_website, other"),
    "publication-journal-without-venue": Case(publication("--venue"),
                                              "venue: name the journal, conference or site"),
    "publication-website-without-url": Case(
        publication("--venue", kind="unit_website"),
        "URL: a publication on the unit's website needs its address"),
    "publication-bad-url": Case(publication(url="bvdk.example.vn/kq"),
                                "URL 'bvdk.example.vn/kq' is not an http(s) address"),
    "publication-bad-doi": Case(publication(doi="VMJ-540-1"),
                                "DOI 'VMJ-540-1': expected 10.NNNN/…"),
    "publication-recorded-for-another-unit": Case(
        publication(**{"as": HEAD_B}),
        f"{HEAD_B} is neither of the office nor of unit BVDK", code=3),
    "publication-file-without-as": Case(publication(file="{dir}/bai-bao.pdf"),
                                        "--file needs --as",
                                        files={"bai-bao.pdf": b"%PDF-1.4\n%%EOF\n"}),
    "publication-file-missing": Case(publication(file="{dir}/bai-bao.pdf", **{"as": OFFICE}),
                                     "bai-bao.pdf: no such file"),
    "publication-file-not-a-document": Case(
        publication(file="{dir}/bai-bao.pdf", **{"as": OFFICE}),
        "is not a PDF, DOCX or XLSX file (its content is exe)",
        files={"bai-bao.pdf": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
               + b"\x00" * 200}),
    "publication-twice": Case(PUBLICATION, "unit BVDK already has 'Hiệu quả giảm đau sau mổ' "
                                           "in Tạp chí Y học Việt Nam on 15/05/2025", code=3,
                              setup=a_publication_recorded),
    "publication-list-unknown-unit": Case(("publication", "list", "--unit", "KHONG-CO"),
                                          "unknown unit: KHONG-CO"),
    "publication-list-bad-year": Case(("publication", "list", "--year", "1999"),
                                      "1999 is not in the range 2000<=x<=2100"),
    "publication-list-bad-delimiter": Case(("publication", "list", "--csv", "--delimiter", "|"),
                                           "--delimiter: expected ';', ',' or 'tab'"),
}
CASES.update(PUBLICATION_CASES)


def a_council_set(url: str, data: Path) -> None:
    """Task 2 (in progress) has its acceptance council: the council's person chairs it, the
    office's is its secretary."""
    import datetime as dt

    from engine.app import build
    from engine.councils import CouncilInput, MemberInput
    from engine.settings import load_settings
    from tests.conftest import local

    app = build(load_settings(env={"NCKH_DATA_DIR": str(data), "NCKH_DATABASE_URL": url}))
    app.engine.set_council(CouncilInput(IN_PROGRESS, "512/QĐ-BVĐK", dt.date(2025, 5, 20),
                                        (MemberInput(COUNCIL, "chair"),
                                         MemberInput(OFFICE, "secretary"))),
                           now=local(2025, 5, 21))
    app.close()


def council(task: int = IN_PROGRESS, *extra: str, date: str = "20/05/2025",
            members: tuple[str, ...] = (f"{COUNCIL}:chu-tich", f"{OFFICE}:thu-ky")
            ) -> tuple[str, ...]:
    """`nckh council set TASK` with a chair and a secretary, and more options."""
    args = ["council", "set", str(task), "--decision-no", "512/QĐ-BVĐK", "--decision-date",
            date]
    for member in members:
        args += ["--member", member]
    return (*args, *extra)


def outcome(task: int = IN_PROGRESS, *extra: str) -> tuple[str, ...]:
    return ("council", "outcome", str(task), "--as", OFFICE, *extra)


def recognise(task: int = ACCEPTED, date: str = "01/06/2025") -> tuple[str, ...]:
    return ("task", "recognise", str(task), "--decision-no", "88/QĐ-SYT", "--date", date)


COUNCIL_CASES: dict[str, Case] = {
    "council-unknown-task": Case(council(99), "unknown task: 99"),
    "council-member-not-registered": Case(
        council(members=(f"{COUNCIL}:chair", "ai.do@syt.example.vn:secretary")),
        "member ai.do@syt.example.vn is not a registered person"),
    "council-member-bad-role": Case(council(members=(f"{COUNCIL}:chair", f"{OFFICE}:boss")),
                                   "member role 'boss': expected one of"),
    "council-member-without-role": Case(council(members=(COUNCIL,)),
                                        f"--member '{COUNCIL}': expected EMAIL:ROLE"),
    "council-two-chairs": Case(council(members=(f"{COUNCIL}:chair", f"{OFFICE}:chair")),
                               "a council has exactly one chair"),
    "council-investigator-on-the-council": Case(
        council(members=(f"{COUNCIL}:chair", f"{OFFICE}:secretary", f"{PI}:member")),
        f"{PI} leads task {IN_PROGRESS} and may not sit on its council", code=3),
    "council-decision-date-in-the-future": Case(
        council(date="03/06/2025"),
        "decision date 03/06/2025 is in the future (today is 02/06/2025)"),
    "council-acceptance-of-a-proposed-task": Case(council(PROPOSED),
                                                  f"task {PROPOSED} is 'proposed'"),
    "council-recorded-by-another-units-head": Case(
        council(IN_PROGRESS, "--as", HEAD_B),
        f"{HEAD_B} is neither of the office nor the head of unit BVDK", code=3),
    "outcome-unknown-task": Case(outcome(99, "--result", "failed"), "unknown task: 99"),
    "outcome-grade-with-failed": Case(outcome(IN_PROGRESS, "--result", "failed", "--grade",
                                              "kha"), "a failed acceptance has no grade"),
    "outcome-passed-without-grade": Case(outcome(IN_PROGRESS, "--result", "passed"),
                                         "a passed acceptance needs its grade"),
    "outcome-bad-score": Case(outcome(IN_PROGRESS, "--result", "revise", "--score", "mười"),
                              "score 'mười': expected a number 0–100"),
    "outcome-without-council": Case(outcome(IN_PROGRESS, "--result", "passed", "--grade", "dat"),
                                    f"task {IN_PROGRESS} has no acceptance council awaiting"),
    "outcome-meeting-in-the-future": Case(
        outcome(IN_PROGRESS, "--result", "failed", "--date", "03/06/2025"),
        "meeting date 03/06/2025 is in the future", setup=a_council_set),
    "outcome-by-the-investigator": Case(
        ("council", "outcome", str(IN_PROGRESS), "--result", "passed", "--grade", "dat",
         "--as", PI),
        f"{PI} (role pi) may not fire 'accept' on task {IN_PROGRESS}", code=3, refusal=True,
        setup=a_council_set),
    "recognise-before-acceptance": Case(
        recognise(IN_PROGRESS),
        f"task {IN_PROGRESS} is not accepted yet ('in_progress'): a recognition (công nhận) "
        "follows the acceptance (nghiệm thu)"),
    "recognise-unknown-task": Case(recognise(99), "unknown task: 99"),
    "recognise-date-in-the-future": Case(recognise(date="03/06/2025"),
                                         "recognition date 03/06/2025 is in the future"),
    "recognise-before-the-acceptance-day": Case(
        recognise(date="01/03/2025"),
        "recognition date 01/03/2025 is before the acceptance (03/03/2025)"),
    "recognise-date-not-a-day": Case(recognise(date="31/04/2025"),
                                     "invalid --date '31/04/2025': expected DD/MM/YYYY"),
}
CASES.update(COUNCIL_CASES)


def edit_extras(task: int = PROPOSED, *extra: str) -> tuple[str, ...]:
    return ("task", "edit-extras", str(task), "--as", OFFICE, *extra)


NEW_TASK = ("task", "new", "--unit", "BVDK", "--level", "unit", "--title", "Đề tài ba năm",
            "--pi-email", PI)
EXTRAS_CASES: dict[str, Case] = {
    "extras-end-before-start": Case(
        (*NEW_TASK, "--starts", "01/03/2025", "--ends", "28/02/2025"),
        "end date 28/02/2025 is before the start date 01/03/2025"),
    "extras-end-too-far": Case(edit_extras(PROPOSED, "--ends", "02/01/2031"),
                               "end date 02/01/2031 is more than 5 years after 01/01/2025"),
    "extras-end-not-a-day": Case(edit_extras(PROPOSED, "--ends", "31/06/2026"),
                                 "end date '31/06/2026': expected DD/MM/YYYY"),
    "extras-amount-negative": Case(
        edit_extras(PROPOSED, "--funding-source", "khac", "--funding-amount", "-150.000"),
        "funding amount '-150.000': expected a whole number of đồng, 0 or more"),
    "extras-amount-not-a-number": Case(
        (*NEW_TASK, "--funding-source", "don-vi", "--funding-amount", "một trăm triệu"),
        "funding amount 'một trăm triệu': expected a whole number of đồng"),
    "extras-amount-without-source": Case(edit_extras(PROPOSED, "--funding-amount", "100"),
                                         "funding amount needs its source"),
    "extras-unknown-funding-source": Case(
        edit_extras(PROPOSED, "--funding-source", "ngan-hang"),
        "funding source 'ngan-hang': expected one of recurrent, provincial_fund, unit, other"),
    "extras-member-malformed": Case(
        edit_extras(PROPOSED, "--member", "Lê Thị Hoa hoa@bvdk.example.vn"),
        "member 'Lê Thị Hoa hoa@bvdk.example.vn': expected 'Name <e-mail>:role'"),
    "extras-member-twice": Case(
        edit_extras(PROPOSED, "--member", "Hoa <hoa@bvdk.example.vn>:thư ký", "--member",
                    "Hoa <HOA@bvdk.example.vn>:thành viên"),
        "member hoa@bvdk.example.vn is listed twice"),
    "extras-by-another-units-head": Case(
        ("task", "edit-extras", str(PROPOSED), "--ends", "01/12/2026", "--as", HEAD_B),
        f"{HEAD_B} is neither of the office, the head of unit BVDK nor the investigator",
        code=3),
    "extras-unknown-task": Case(
        edit_extras(99, "--ends", "01/12/2026"), "unknown task: 99"),
}
CASES.update(EXTRAS_CASES)


def application(task: int = ACCEPTED, *extra: str, kind: str = "transfer",
                since: str = "01/06/2025") -> tuple[str, ...]:
    """`nckh application add TASK`: a technology transfer to a private hospital."""
    return ("application", "add", str(task), "--kind", kind, "--where",
            "Bệnh viện tư nhân An Phú", "--receiver-kind", "private_hospital", "--since", since,
            *extra)


APPLICATION_CASES: dict[str, Case] = {
    "application-unknown-task": Case(application(99), "unknown task: 99"),
    "application-before-acceptance": Case(
        application(IN_PROGRESS),
        f"task {IN_PROGRESS} is not accepted yet ('in_progress'): a result is applied after "
        "its acceptance (nghiệm thu)"),
    "application-since-in-the-future": Case(application(since="03/06/2025"),
                                            "since 03/06/2025 is in the future (today is "
                                            "02/06/2025)"),
    "application-since-before-the-acceptance-day": Case(
        application(since="01/03/2025"), "since 01/03/2025 is before the acceptance (03/03/2025)"),
    "application-since-not-a-day": Case(application(since="31/04/2025"),
                                        "invalid --since '31/04/2025': expected DD/MM/YYYY"),
    "application-bad-kind": Case(application(kind="ban"),
                                 "kind 'ban': expected one of applied, transfer, cooperation"),
    "application-bad-receiver-kind": Case(
        ("application", "add", str(ACCEPTED), "--kind", "applied", "--where", "BVDK",
         "--receiver-kind", "xa", "--since", "01/06/2025"),
        "receiver kind 'xa': expected one of same_unit"),
    "application-recorded-by-another-units-head": Case(
        application(ACCEPTED, "--as", HEAD_B),
        f"{HEAD_B} is neither of the office, the head of unit BVDK nor task {ACCEPTED}'s "
        "investigator", code=3),
    "application-list-unknown-unit": Case(("application", "list", "--unit", "KHONG-CO"),
                                          "unknown unit: KHONG-CO"),
    "application-list-another-unit-for-its-head": Case(
        ("application", "list", "--unit", "BVDK", "--as", HEAD_B), "unknown unit: BVDK"),
}
CASES.update(APPLICATION_CASES)
