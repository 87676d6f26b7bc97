"""Councils, acceptance outcomes and recognition on real databases: the outcome moves the task
through the workflow's own events, each bad input is refused in one line with nothing written,
and `nckh council` / `nckh task recognise` run in-process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.app import App
from engine.councils import CouncilInput, MemberInput, OutcomeInput, RecognitionInput
from engine.directory_log import Operator
from engine.publications import Attachment, keep_file
from storage.councils import Council, CouncilMember, CouncilOutcome, Recognition
from storage.models import HistoryEntry, Refusal
from tests.acceptance.cli import cli_env, nckh_in_process
from tests.conftest import local
from tests.integration.councilfixtures import CHAIR, MEMBERS, PI, REVIEWER, SECRETARY, council_app
from tests.scheduling import OFFICE, head_email
from workflows.errors import Conflict, InputError, NotAllowed, NotFound

TABLES = (Council, CouncilMember, CouncilOutcome, Recognition, HistoryEntry)


@pytest.fixture
def capp(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = council_app(db_url, tmp_path)
    yield app
    app.close()


def counts(app: App) -> dict[str, int]:
    with app.sessions() as s:
        return {t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in TABLES}


def in_progress(app: App) -> int:
    task = app.engine.create_task(unit_code="A", level="unit", title="Giảm đau sau mổ",
                                  pi_email=PI, pi_name="ThS. Lê Bình", year=2025,
                                  now=local(2025, 2, 3, 9))
    for i, event in enumerate(("approve_outline", "start")):
        app.engine.fire(task, event, actor_email=OFFICE, now=local(2025, 3, 1 + i))
    return task


def set_council(app: App, task: int, members: tuple[MemberInput, ...] = MEMBERS,
                day: dt.date = dt.date(2025, 11, 3), number: str = "512/QĐ-BVA") -> int:
    return app.engine.set_council(CouncilInput(task, number, day, members),
                                  now=local(day.year, day.month, day.day, 16),
                                  operator=Operator("thu", OFFICE))


def test_a_passed_outcome_fires_accept_with_its_grade_and_is_shown_with_the_council(
        capp: App, tmp_path: Path) -> None:
    task = in_progress(capp)
    set_council(capp, task)
    kept = keep_file(tmp_path / "files", 10**6, Attachment("bien-ban.pdf", b"%PDF-1.4\n%%EOF\n"))
    fired = capp.engine.record_outcome(
        OutcomeInput(task, "passed", grade="kha", score="8,5", held_on=dt.date(2025, 11, 20)),
        actor_email=CHAIR, now=local(2025, 11, 21), kept=kept)
    assert (fired.event, fired.from_state, fired.to_state) == ("accept", "in_progress",
                                                               "accepted")
    detail = capp.engine.task_detail(task, now=local(2025, 11, 21))
    assert detail["history"][-1]["data"] == {"decision_no": "512/QĐ-BVA", "grade": "Khá"}
    [council] = detail["council"]["councils"]
    assert [(m["email"], m["role_label"]) for m in council["members"]] == [
        (CHAIR, "Chủ tịch"), (SECRETARY, "Thư ký"), (REVIEWER, "Phản biện")]
    assert {k: council["outcome"][k] for k in ("result", "grade_label", "score", "held_on",
                                               "event")} == {
        "result": "passed", "grade_label": "Khá", "score": 8.5, "held_on": "20/11/2025",
        "event": "accept"}
    assert council["outcome"]["minutes"]["name"] == "bien-ban.pdf"
    assert council["outcome"]["score_text"] == "8,5"  # a decimal comma, as the office writes
    capp.engine.recognise(RecognitionInput(task, "88/QĐ-SYT", dt.date(2025, 12, 10)),
                          now=local(2025, 12, 11), operator=Operator("thu", OFFICE))
    shown = capp.engine.task_detail(task, now=local(2025, 12, 11))
    assert shown["council"]["recognition"] == {"decision_no": "88/QĐ-SYT",
                                               "decided_on": "10/12/2025",
                                               "issuer": "department",
                                               "issuer_label": "Sở Y tế"}
    assert shown["extra"]["Councils and recognition"][-1] == (
        "Công nhận: Sở Y tế, QĐ số 88/QĐ-SYT ngày 10/12/2025")


def test_a_fail_then_a_new_council_passing_with_revisions_reaches_accepted(capp: App) -> None:
    task = in_progress(capp)
    set_council(capp, task)
    failed = capp.engine.record_outcome(OutcomeInput(task, "failed"), actor_email=OFFICE,
                                        now=local(2025, 11, 21))
    assert (failed.event, failed.to_state) == ("fail_acceptance", "acceptance_failed")
    reason = capp.engine.task_detail(task, now=local(2025, 11, 21))["history"][-1]["reason"]
    assert reason.startswith("Hội đồng nghiệm thu (QĐ số 512/QĐ-BVA ngày 03/11/2025)")
    # The failed council has its outcome: the re-evaluation needs its own decision.
    with pytest.raises(InputError, match="has no acceptance council awaiting its outcome"):
        capp.engine.record_outcome(OutcomeInput(task, "revise"), actor_email=OFFICE,
                                   now=local(2025, 12, 1))
    set_council(capp, task, number="530/QĐ-BVA", day=dt.date(2025, 12, 1))
    again = capp.engine.record_outcome(OutcomeInput(task, "revise"), actor_email=OFFICE,
                                       now=local(2025, 12, 5))
    assert (again.event, again.to_state) == ("accept", "accepted")
    outcomes = [c["outcome"]["result"]
                for c in capp.engine.task_detail(task, now=local(2025, 12, 5))["council"][
                    "councils"]]
    assert outcomes == ["failed", "revise"]


def test_setting_the_council_again_before_its_outcome_corrects_it(capp: App) -> None:
    task = in_progress(capp)
    first = set_council(capp, task)
    second = set_council(capp, task, members=MEMBERS[:2], number="513/QĐ-BVA")
    assert first == second
    [council] = capp.engine.task_detail(task, now=local(2025, 11, 5))["council"]["councils"]
    assert council["decision_no"] == "513/QĐ-BVA" and len(council["members"]) == 2


def test_two_council_decisions_entered_at_once_leave_one_council_awaiting(capp: App) -> None:
    """Each side waits, once, just before inserting its council, for the other to get there
    too: without the task's row held, both have found no council awaiting and both insert. With
    it the second is still waiting for the row, the first goes on after 2 s, and the second then
    finds the first's council and corrects it."""
    import contextlib
    import threading

    from sqlalchemy import event

    from tests.integration.races import race

    task = in_progress(capp)
    barrier, waited = threading.Barrier(2, timeout=2), set()

    def before_execute(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO COUNCIL ") and (
                threading.get_ident() not in waited):
            waited.add(threading.get_ident())
            # Broken after 2 s: the other side is held on the task's row, so go on alone.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()

    event.listen(capp.db, "before_cursor_execute", before_execute)
    try:
        results = race([lambda: set_council(capp, task, number="512/QĐ-BVA"),
                        lambda: set_council(capp, task, number="513/QĐ-BVA")])
    finally:
        event.remove(capp.db, "before_cursor_execute", before_execute)
    assert all(isinstance(r, int | Conflict) for r in results), results
    assert counts(capp)["council"] == 1


def bad_council(**change: Any) -> CouncilInput:
    values: dict[str, Any] = {"decision_no": "512/QĐ-BVA", "decided_on": dt.date(2025, 11, 3),
                              "members": MEMBERS, **change}
    return CouncilInput(change.pop("task_id", 0), **{k: v for k, v in values.items()
                                                     if k != "task_id"})


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"task_id": 999}, NotFound, "unknown task: 999"),
    ({"members": (MemberInput("ai.do@syt.example.vn", "chair"), MEMBERS[1])}, InputError,
     "member ai.do@syt.example.vn is not a registered person"),
    ({"members": (MemberInput(CHAIR, "boss"), MEMBERS[1])}, InputError,
     "member role 'boss': expected one of chair, secretary, reviewer, member"),
    ({"members": (MEMBERS[0], MemberInput(REVIEWER, "chair"), MEMBERS[1])}, InputError,
     "a council has exactly one chair"),
    ({"members": (MEMBERS[0], MEMBERS[1], MemberInput(PI, "member"))}, NotAllowed,
     f"{PI} leads task"),
    ({"decided_on": dt.date(2025, 11, 5)}, InputError,
     "decision date 05/11/2025 is in the future (today is 04/11/2025)"),
    ({"decision_no": " "}, InputError, "decision number is empty"),
])
def test_a_bad_council_is_refused_in_one_line_and_nothing_is_written(
        capp: App, change: dict[str, Any], error: type[Exception], message: str) -> None:
    task = in_progress(capp)
    before = counts(capp)
    data = bad_council(**{"task_id": task, **change})
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        capp.engine.set_council(data, now=local(2025, 11, 4))
    assert counts(capp) == before


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"task_id": 999}, NotFound, "unknown task: 999"),
    ({"result": "failed", "grade": "kha"}, InputError, "a failed acceptance has no grade"),
    ({"result": "passed", "grade": None}, InputError, "a passed acceptance needs its grade"),
    ({"grade": "gioi"}, InputError, "grade 'gioi': expected one of"),
    ({"result": "ok"}, InputError, "result 'ok': expected one of"),
    ({"score": "101"}, InputError, "score '101': expected a number 0–100"),
    ({"held_on": dt.date(2025, 11, 22)}, InputError, "meeting date 22/11/2025 is in the future"),
    ({"held_on": dt.date(2025, 11, 1)}, InputError, "is before the council's decision"),
])
def test_a_bad_outcome_is_refused_and_the_task_does_not_move(
        capp: App, change: dict[str, Any], error: type[Exception], message: str) -> None:
    task = in_progress(capp)
    set_council(capp, task)
    before = counts(capp)
    values: dict[str, Any] = {"task_id": task, "result": "passed", "grade": "dat", **change}
    with pytest.raises(error, match=message):
        capp.engine.record_outcome(OutcomeInput(**values), actor_email=OFFICE,
                                   now=local(2025, 11, 21))
    assert counts(capp) == before
    assert capp.engine.task_detail(task, now=local(2025, 11, 21))["state"] == "in_progress"


def test_the_outcome_is_the_workflows_decision_who_fires_it_and_when(capp: App) -> None:
    task = in_progress(capp)
    set_council(capp, task)
    before = counts(capp)
    with pytest.raises(NotAllowed, match="may not fire 'accept'"):
        capp.engine.record_outcome(OutcomeInput(task, "passed", grade="dat"),
                                   actor_email=head_email("A"), now=local(2025, 11, 21))
    assert counts(capp) == before
    with capp.sessions() as s:
        [refusal] = s.scalars(select(Refusal)).all()
        assert (refusal.task_id, refusal.event) == (task, "accept")
    # An outline-stage task has no acceptance council; its outline council is its own.
    proposed = capp.engine.create_task(unit_code="A", level="unit", title="Đề tài mới",
                                       pi_email=PI, year=2025, now=local(2025, 2, 3))
    with pytest.raises(InputError, match="acceptance council is set while it is "
                                         "acceptance_failed or in_progress"):
        set_council(capp, proposed)
    capp.engine.set_council(CouncilInput(proposed, "12/QĐ-BVA", dt.date(2025, 3, 1), MEMBERS,
                                         stage="de-cuong"), now=local(2025, 3, 2))
    [outline] = capp.engine.task_detail(proposed, now=local(2025, 3, 2))["council"]["councils"]
    assert (outline["stage"], outline["outcome"]) == ("outline", None)
    with pytest.raises(InputError, match="has no acceptance council awaiting its outcome"):
        capp.engine.record_outcome(OutcomeInput(proposed, "passed", grade="dat"),
                                   actor_email=OFFICE, now=local(2025, 3, 3))


def test_recognition_follows_the_acceptance_once_and_not_before_its_day(capp: App) -> None:
    task = in_progress(capp)
    before = counts(capp)
    with pytest.raises(InputError, match=f"task {task} is not accepted yet \\('in_progress'\\): "
                                         "a recognition"):
        capp.engine.recognise(RecognitionInput(task, "88/QĐ-SYT", dt.date(2025, 11, 1)),
                              now=local(2025, 11, 2))
    assert counts(capp) == before
    capp.engine.fire(task, "accept", actor_email=OFFICE, now=local(2025, 11, 10))
    for data, error, message in (
            (RecognitionInput(task, "88", dt.date(2025, 11, 9)), InputError,
             "recognition date 09/11/2025 is before the acceptance (10/11/2025)"),
            (RecognitionInput(task, "88", dt.date(2025, 11, 30)), InputError,
             "recognition date 30/11/2025 is in the future"),
            (RecognitionInput(task, "88", dt.date(2025, 11, 20), issuer="ubnd"), InputError,
             "issuer 'ubnd': expected one of so, department, hoi-dong, sector-council"),
            (RecognitionInput(task, "88", dt.date(2025, 11, 20)), NotAllowed,
             f"{head_email('B')} is neither of the office nor the head of unit A")):
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            capp.engine.recognise(data, now=local(2025, 11, 21),
                                  operator=Operator("thu", head_email("B")))
    capp.engine.recognise(RecognitionInput(task, "88", dt.date(2025, 11, 20), "hoi-dong"),
                          now=local(2025, 11, 21), operator=Operator("thu", head_email("A")))
    with pytest.raises(Conflict, match=f"task {task} is already recognised"):
        capp.engine.recognise(RecognitionInput(task, "89", dt.date(2025, 11, 21)),
                              now=local(2025, 11, 21))
    assert counts(capp)["recognition"] == 1


def test_the_cli_sets_the_council_records_the_outcome_and_the_recognition(
        capp: App, db_url: str, tmp_path: Path) -> None:
    task = str(in_progress(capp))
    env = cli_env(tmp_path, "2025-11-21T09:00", NCKH_DATABASE_URL=db_url)
    (tmp_path / "bb.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    steps = [
        (("council", "set", task, "--decision-no", "512/QĐ-BVA", "--decision-date",
          "03/11/2025", "--member", f"{CHAIR}:chu-tich", "--member", f"{SECRETARY}:thu-ky",
          "--member", f"{REVIEWER}:phan-bien", "--as", OFFICE), "council "),
        (("council", "outcome", task, "--result", "passed", "--grade", "xuat-sac", "--score",
          "92", "--date", "20/11/2025", "--minutes", str(tmp_path / "bb.pdf"), "--as", CHAIR),
         f"task {task}: accept: in_progress → accepted"),
        (("task", "recognise", task, "--decision-no", "88/QĐ-SYT", "--date", "21/11/2025"),
         f"task {task}: recognised"),
    ]
    for args, out in steps:
        ran = nckh_in_process(env, *args)
        assert (ran.returncode, ran.stderr) == (0, ""), args
        assert out in ran.stdout
    shown = nckh_in_process(env, "task", "show", task).stdout
    assert "Hội đồng nghiệm thu: QĐ số 512/QĐ-BVA ngày 03/11/2025" in shown
    assert "  Chủ tịch: PGS.TS Nguyễn Văn Chủ <chu.tich@syt.example.vn>" in shown
    assert ("kết quả ngày 20/11/2025: Đạt, xếp loại Xuất sắc, điểm 92, biên bản bb.pdf "
            "(accept)") in shown
    assert "Công nhận: Sở Y tế, QĐ số 88/QĐ-SYT ngày 21/11/2025" in shown
    before = counts(capp)
    for args, code, message in (
            (("council", "set", task, "--decision-no", "1", "--decision-date", "03/11/2025",
              "--member", f"{CHAIR}:chair", "--member", "ai.do@syt.example.vn:secretary"),
             2, "member ai.do@syt.example.vn is not a registered person"),
            (("council", "outcome", "999", "--result", "failed", "--as", OFFICE), 2,
             "unknown task: 999"),
            (("task", "recognise", task, "--decision-no", "89", "--date", "21/11/2025"), 3,
             f"task {task} is already recognised")):
        ran = nckh_in_process(env, *args)
        assert (ran.returncode, ran.stdout) == (code, "")
        assert ran.stderr.count("\n") == 1 and message in ran.stderr
    assert counts(capp) == before


def test_the_detail_list_grades_and_dates_the_recognition_as_of_the_reports_day(
        capp: App) -> None:
    import io

    from openpyxl import load_workbook

    from engine.reports.build import make_report, render

    task = in_progress(capp)
    set_council(capp, task)
    capp.engine.record_outcome(OutcomeInput(task, "passed", grade="kha",
                                            held_on=dt.date(2025, 11, 20)),
                               actor_email=OFFICE, now=local(2025, 11, 20, 15))
    capp.engine.recognise(RecognitionInput(task, "88/QĐ-SYT", dt.date(2025, 12, 10)),
                          now=local(2025, 12, 10))

    def detail_row(day: dt.date) -> list[object]:
        report = make_report(capp.engine, "compliance", 2025, today=day,
                             rules=capp.report_rules())
        [row] = report.details
        wb = load_workbook(io.BytesIO(render(report, "xlsx")))
        sheet = wb["Danh mục"]
        cells = [c.value for c in next(sheet.iter_rows(min_row=8, max_row=8))]
        assert cells[12] == row.grade
        return [row.grade, row.recognised_on]

    assert detail_row(dt.date(2025, 11, 19)) == [None, None]
    assert detail_row(dt.date(2025, 12, 1)) == ["Khá", None]
    assert detail_row(dt.date(2025, 12, 31)) == ["Khá", dt.date(2025, 12, 10)]
