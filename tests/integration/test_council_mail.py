"""A council's members are told, in their daily letter, what to review and by when: the task
(title, unit, investigator), the stage, their role, the establishing decision, the document on
file, and the meeting day (`--meeting`) or else the task's current deadline. Delivered through
the outbox and the letters to the maildir, as the daemon does; once per member and what they are
told. A bad `--meeting` is one line, exit 2, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.app import App
from engine.councils import CouncilInput
from engine.submissions import Submissions, Upload
from storage.councils import Council, CouncilMember
from storage.outbox import OutboxMessage
from tests.acceptance.cli import cli_env, nckh_in_process
from tests.conftest import local
from tests.integration.councilfixtures import CHAIR, MEMBERS, PI, REVIEWER, SECRETARY, council_app
from tests.integration.mailfixtures import addresses, html_body, maildir_messages, text_body
from tests.scheduling import OFFICE
from workflows.errors import InputError

TITLE = "Giảm đau sau mổ bằng gây tê mặt phẳng cơ dựng sống"
SET_AT = local(2025, 5, 5, 10)  # a Monday, a working day
LETTERS_AT = local(2025, 5, 5, 16)  # the afternoon pass writes the day's letters


@pytest.fixture
def capp(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = council_app(db_url, tmp_path)
    yield app
    app.close()


def in_progress(app: App) -> int:
    task = app.engine.create_task(unit_code="A", level="unit", title=TITLE, pi_email=PI,
                                  pi_name="ThS. Lê Bình", year=2025, now=local(2025, 2, 3, 9))
    for i, event in enumerate(("approve_outline", "start")):
        app.engine.fire(task, event, actor_email=OFFICE, now=local(2025, 3, 3 + i))
    return task


def council_mail(app: App) -> list[OutboxMessage]:
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "council_appointed").order_by(OutboxMessage.id)))


def to(messages: list[EmailMessage], email: str) -> list[EmailMessage]:
    return [m for m in messages if email in addresses(m, "To")]


def test_each_member_reads_the_task_their_role_the_decision_and_the_meeting_day(
        capp: App, tmp_path: Path) -> None:
    task = in_progress(capp)
    capp.engine.set_council(CouncilInput(task, "512/QĐ-SYT", local(2025, 5, 2).date(), MEMBERS,
                                         meeting_on=local(2025, 5, 20).date()), now=SET_AT)
    assert sorted(m.addressed_to[0] for m in council_mail(capp)) == sorted(
        (CHAIR, SECRETARY, REVIEWER))
    capp.tick(LETTERS_AT)
    inbox = maildir_messages(tmp_path)
    mine = to(inbox, REVIEWER)
    assert len(mine) == 1  # one letter that day
    text = " ".join(text_body(mine[0]).split())
    assert "Kính gửi: TS Trần Phản" in text
    assert ("Căn cứ Quyết định số 512/QĐ-SYT ngày 02/05/2025 về việc thành lập hội đồng "
            f"nghiệm thu đề tài “{TITLE}” do Trung tâm Y tế A chủ trì (chủ nhiệm đề tài: "
            "ThS. Lê Bình)") in text
    assert "tham gia Hội đồng với vai trò Phản biện" in text
    assert "nhận xét phản biện bằng văn bản trước phiên họp của Hội đồng ngày 20/05/2025" in text
    assert "Phản biện" in html_body(mine[0])
    chair = " ".join(text_body(to(inbox, CHAIR)[0]).split())
    assert "vai trò Chủ tịch" in chair and "nhận xét, đánh giá trước phiên họp" in chair
    assert "lệnh" not in text and "nckh council" not in text  # no command to run
    assert "hội đồng nghiệm thu" in mine[0]["Subject"]


def test_an_outline_council_names_the_revised_outline_on_file(capp: App,
                                                             tmp_path: Path) -> None:
    task = capp.engine.create_task(unit_code="A", level="unit", title=TITLE, pi_email=PI,
                                   pi_name="ThS. Lê Bình", year=2025, now=local(2025, 2, 3, 9))
    capp.engine.fire(task, "request_revision", actor_email=OFFICE, reason="Bổ sung cỡ mẫu",
                     now=local(2025, 3, 3, 9))
    intake = Submissions(capp.engine, tmp_path / "files", 10 * 1024 * 1024)
    intake.attach(task, "resubmit", actor_email=PI, reason="Giải trình",
                  upload=Upload("de-cuong-sua.pdf", b"%PDF-1.4\n%%EOF\n"), data={},
                  now=local(2025, 3, 10, 9))
    capp.engine.set_council(CouncilInput(task, "40/QĐ-SYT", local(2025, 3, 12).date(), MEMBERS,
                                         stage="outline", meeting_on=local(2025, 3, 20).date()),
                            now=local(2025, 3, 12, 10))
    capp.tick(local(2025, 3, 12, 16))
    text = " ".join(text_body(to(maildir_messages(tmp_path), SECRETARY)[0]).split())
    assert "thành lập hội đồng xét duyệt đề cương đề tài" in text
    assert "nghiên cứu đề cương của đề tài" in text
    assert "- de-cuong-sua.pdf (nhận ngày 10/03/2025)" in text


def test_set_again_unchanged_tells_nobody_twice_and_a_new_meeting_day_tells_everyone(
        capp: App) -> None:
    task = in_progress(capp)
    data = CouncilInput(task, "512/QĐ-SYT", local(2025, 5, 2).date(), MEMBERS,
                        meeting_on=local(2025, 5, 20).date())
    capp.engine.set_council(data, now=SET_AT)
    capp.engine.set_council(data, now=SET_AT)
    assert len(council_mail(capp)) == 3
    moved = CouncilInput(task, "512/QĐ-SYT", local(2025, 5, 2).date(), MEMBERS,
                         meeting_on=local(2025, 5, 27).date())
    capp.engine.set_council(moved, now=SET_AT)
    rows = council_mail(capp)
    assert len(rows) == 6
    assert {r.context["council"]["review_on"] for r in rows[3:]} == {"2025-05-27"}


def test_without_a_meeting_day_the_review_is_due_by_the_tasks_current_deadline(
        capp: App, tmp_path: Path) -> None:
    task = in_progress(capp)
    capp.engine.set_council(CouncilInput(task, "77/QĐ-SYT", local(2025, 5, 2).date(), MEMBERS),
                            now=SET_AT)
    facts = council_mail(capp)[0].context["council"]
    assert (facts["meeting_on"], facts["review_from"]) == (None, "deadline")
    with capp.sessions() as s:
        assert s.scalar(select(Council.meeting_on)) is None
    capp.tick(LETTERS_AT)
    text = " ".join(text_body(to(maildir_messages(tmp_path), SECRETARY)[0]).split())
    due = facts["review_on"]
    shown = f"{due[8:10]}/{due[5:7]}/{due[:4]}"
    assert f"chậm nhất ngày {shown} (thời hạn hiện hành của đề tài" in text


def test_a_meeting_before_the_decision_is_refused_and_nothing_is_written(capp: App) -> None:
    task = in_progress(capp)
    with pytest.raises(InputError, match=r"meeting date 30/04/2025 is before the council's "
                                         r"decision \(02/05/2025\)"):
        capp.engine.set_council(CouncilInput(task, "1/QĐ", local(2025, 5, 2).date(), MEMBERS,
                                             meeting_on=local(2025, 4, 30).date()), now=SET_AT)
    assert council_mail(capp) == []


def _counts(app: App) -> tuple[int, int, int]:
    with app.sessions() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)  # type: ignore[return-value]
                     for t in (Council, CouncilMember, OutboxMessage))


@pytest.mark.parametrize(("meeting", "message"), [
    ("32/05/2025", "--meeting"),
    ("mai", "--meeting"),
    ("30/04/2025", "meeting date 30/04/2025 is before the council's decision (02/05/2025)"),
])
def test_the_cli_refuses_a_bad_meeting_day_in_one_line(
        capp: App, db_url: str, tmp_path: Path, meeting: str, message: str) -> None:
    task = str(in_progress(capp))
    env = cli_env(tmp_path, "2025-05-05T10:00", NCKH_DATABASE_URL=db_url)
    before = _counts(capp)
    ran = nckh_in_process(env, "council", "set", task, "--decision-no", "5/QĐ-SYT",
                          "--decision-date", "02/05/2025", "--meeting", meeting,
                          "--member", f"{CHAIR}:chu-tich", "--member", f"{SECRETARY}:thu-ky")
    assert (ran.returncode, ran.stdout) == (2, "")
    assert ran.stderr.count("\n") == 1 and message in ran.stderr
    assert _counts(capp) == before


def test_the_cli_takes_the_meeting_day(capp: App, db_url: str, tmp_path: Path) -> None:
    task = str(in_progress(capp))
    env = cli_env(tmp_path, "2025-05-05T10:00", NCKH_DATABASE_URL=db_url)
    ran = nckh_in_process(env, "council", "set", task, "--decision-no", "5/QĐ-SYT",
                          "--decision-date", "02/05/2025", "--meeting", "20/05/2025",
                          "--member", f"{CHAIR}:chu-tich", "--member", f"{SECRETARY}:thu-ky")
    assert (ran.returncode, ran.stderr) == (0, ""), ran.stderr
    with capp.sessions() as s:
        assert str(s.scalar(select(Council.meeting_on))) == "2025-05-20"
    assert len(council_mail(capp)) == 2


def test_the_preview_shows_the_tasks_latest_council(capp: App, db_url: str,
                                                    tmp_path: Path) -> None:
    task = in_progress(capp)
    capp.engine.set_council(CouncilInput(task, "512/QĐ-SYT", local(2025, 5, 2).date(), MEMBERS,
                                         meeting_on=local(2025, 5, 20).date()), now=SET_AT)
    env = cli_env(tmp_path, "2025-05-05T10:00", NCKH_DATABASE_URL=db_url)
    ran = nckh_in_process(env, "mail", "preview", "council_appointed", "--task", str(task))
    assert ran.returncode == 0, ran.stderr
    text = " ".join(ran.stdout.split())
    assert "Quyết định số 512/QĐ-SYT ngày 02/05/2025" in text
    assert "vai trò Chủ tịch" in text and "trước phiên họp của Hội đồng ngày 20/05/2025" in text
