"""The outbox on SQLite and PostgreSQL: rows written with their event, once; the maildir default."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, update

from engine.app import App, build
from notifications.dispatcher import Dispatcher
from notifications.outbox import enqueue
from storage.models import Deadline, Person, Task
from storage.outbox import OutboxAttachment, OutboxMessage
from storage.tasks import queue_mails
from tests.conftest import make_settings
from tests.integration.mailfixtures import (
    CONTACT,
    COUNCIL,
    HEAD,
    MAIL_ENV,
    OFFICE,
    PI,
    T0,
    addresses,
    attachments,
    html_body,
    maildir_messages,
    province,
    rows,
    text_body,
)
from workflows.effects import Mail
from workflows.errors import InputError, InvalidTransition


@pytest.fixture
def mapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    application = build(make_settings(db_url, tmp_path, **MAIL_ENV))
    yield application
    application.close()


def test_registering_a_task_queues_its_mail_in_the_same_transaction(mapp: App) -> None:
    task_id = province(mapp)
    queued = rows(mapp)
    assert [(r.kind, r.task_id, r.state) for r in queued] == [
        ("task_registered", task_id, "pending")]
    assert queued[0].dedupe_key == f"registered:{task_id}"


def test_a_refused_transition_queues_nothing(mapp: App) -> None:
    task_id = province(mapp)
    with pytest.raises(InvalidTransition):
        mapp.engine.fire(task_id, "publish", actor_email=OFFICE, data={"url": "https://x.vn"},
                         now=T0)
    assert len(rows(mapp)) == 1


def test_the_same_event_written_twice_queues_one_mail(mapp: App) -> None:
    task_id = province(mapp)
    mapp.engine.fire(task_id, "request_revision", actor_email=OFFICE, reason="Bổ sung cỡ mẫu",
                     now=T0)
    assert rows(mapp)[-1].dedupe_key == f"transition:{task_id}:2"  # the task's history entry
    again = mapp.rules.mails.transition(
        task_id, 2, event="request_revision", from_state="proposed", to_state="outline_revision",
        actor=OFFICE, actor_role="office", reason="x", data={}, effective_at=T0)
    assert again is not None
    with mapp.engine.transaction() as s:
        queue_mails(s.connection(), (again,), task_id, T0)
    assert [r.kind for r in rows(mapp)] == ["task_registered", "revision_requested"]


def test_tick_delivers_into_the_maildir_once_with_a_stable_message_id(
        mapp: App, tmp_path: Path) -> None:
    task_id = province(mapp)
    mapp.engine.fire(task_id, "request_revision", actor_email=OFFICE,
                     reason="Bổ sung cỡ mẫu và tiêu chí chọn", now=T0)
    counts = mapp.tick(T0 + dt.timedelta(minutes=1))
    sent = [r for r in rows(mapp) if r.state == "sent"]
    assert counts["outbox"]["sent"] == len(sent)  # with the scheduler's own mails
    assert mapp.tick(T0 + dt.timedelta(minutes=2))["outbox"].get("sent", 0) == 0
    delivered = [m["X-Nckh-Kind"] for m in maildir_messages(tmp_path)]
    # The investigator's two steps at once; the head and the research contact one letter with
    # both (the registration and the revision asked), the same day; the office its weekly digest.
    assert delivered.count("task_registered") == delivered.count("revision_requested") == 1
    assert delivered.count("letter") == delivered.count("digest") == 1
    assert len(delivered) == len(sent) == 4
    msgs = {m["X-Nckh-Kind"]: m for m in maildir_messages(tmp_path)}
    assert addresses(msgs["letter"], "To") == [CONTACT, HEAD]
    assert msgs["letter"]["Subject"].startswith("[Sở Y tế] 2 nội dung cần lưu ý ngày 03/03/2025")
    msg = msgs["revision_requested"]
    assert addresses(msg, "To") == [PI]
    assert addresses(msg, "Cc") == []
    assert msg["Subject"] == ("[Sở Y tế] V/v đề nghị chỉnh sửa, bổ sung đề cương đề tài "
                              "“Đánh giá kết quả điều trị tăng huyết áp tại tuyến huyện”")
    text = text_body(msg)
    assert "Kính gửi: ThS.BS Nguyễn Thị Hoa – Chủ nhiệm đề tài" in text
    assert "Ông/Bà" not in text
    assert "Nội dung đề nghị chỉnh sửa: Bổ sung cỡ mẫu và tiêu chí chọn" in text
    assert "Trân trọng./." in text and "không phải văn bản hành chính có chữ ký" in text
    assert "trước ngày 30 tháng 4 năm 2025" in text
    assert "Kính gửi:" in html_body(msg)
    row = next(r for r in rows(mapp) if r.kind == "revision_requested")
    assert msg["Message-ID"] == row.message_id and row.state == "sent"
    assert row.message_id.startswith(f"<nckh.outbox.{row.id}.")


def test_a_reminder_carries_an_ics_file_for_its_deadline(mapp: App, tmp_path: Path) -> None:
    task_id = province(mapp)
    with mapp.engine.transaction() as s:
        deadline = s.scalar(select(Deadline).where(Deadline.task_id == task_id))
        assert deadline is not None
        queue_mails(s.connection(), (mapp.rules.mails.reminder(
            task_id, 77, deadline_id=deadline.id, state="proposed",
            due_on=dt.date(2025, 4, 30), days_before=14),), task_id, T0)
    mapp.tick(T0)
    msg = next(m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "reminder")
    assert msg["Subject"] == ("[Sở Y tế] V/v nhắc hạn báo cáo kết quả xét duyệt đề cương của "
                              "đề tài “Đánh giá kết quả điều trị tăng huyết áp tại tuyến huyện”")
    # Days left are counted on the day the mail is written (T0 is 3 March), whatever the plan;
    # the calendar entry goes on the last working day before the holiday of 30 April.
    assert "trước ngày 30 tháng 4 năm 2025 (còn 58 ngày)" in text_body(msg)
    ics = attachments(msg)["han-2025-04-29.ics"]
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "PUBLISH"
    body = ics.get_content()
    body = body.decode() if isinstance(body, bytes) else body
    assert "METHOD:PUBLISH" in body and "DTSTART;VALUE=DATE:20250429" in body
    # The calendar entry names the topic too (a PI with two topics has two entries).
    summary = Calendar.from_ical(body).walk("VEVENT")[0]["SUMMARY"]
    assert summary == ("V/v nhắc hạn báo cáo kết quả xét duyệt đề cương của đề tài “Đánh giá "
                       "kết quả điều trị tăng huyết áp tại tuyến huyện”")


def test_a_reminder_written_after_its_date_does_not_count_days_left(mapp: App,
                                                                   tmp_path: Path) -> None:
    task_id = province(mapp)  # e.g. held through a downtime: it must not say "14 days left"
    with mapp.engine.transaction() as s:
        deadline = s.scalar(select(Deadline).where(Deadline.task_id == task_id))
        assert deadline is not None
        queue_mails(s.connection(), (mapp.rules.mails.reminder(
            task_id, 78, deadline_id=deadline.id, state="proposed",
            due_on=dt.date(2025, 3, 1), days_before=14),), task_id, T0)
    mapp.tick(T0)
    msg = next(m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "reminder")
    assert "trước ngày 01 tháng 3 năm 2025; thời hạn này đã qua." in text_body(msg)
    assert "còn" not in text_body(msg).split("Thông tin:")[0]
    assert "đúng thời hạn" not in text_body(msg)


def test_quota_not_met_goes_to_the_unit_head_with_the_office_copied(
        mapp: App, tmp_path: Path) -> None:
    province(mapp)
    with mapp.engine.transaction() as s:
        unit_id = s.scalar(select(Deadline.task_id))  # the only task is in unit 1
        assert unit_id is not None
        quota = mapp.rules.mails.quota_not_met(1, 2025)
        queue_mails(s.connection(), (quota, quota), None, T0)
    mapp.tick(T0)
    # One letter to the head and the unit's research contact: the task's registration and this.
    (msg,) = [m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "letter"]
    assert addresses(msg, "To") == [HEAD]
    assert addresses(msg, "Cc") == [CONTACT]
    assert "2 nội dung" in msg["Subject"] and "năm 2025" in msg["Subject"]
    assert "chưa ghi nhận Bệnh viện Đa khoa tỉnh có đề tài hoặc sáng kiến hợp lệ" in text_body(msg)
    # The office reads it in its digest: the first one, written the same pass.
    (digest,) = [m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "digest"]
    assert "Bệnh viện Đa khoa tỉnh: chưa đăng ký đề tài, sáng kiến nào cho năm 2025" in (
        text_body(digest))
    mapp.tick(T0 + dt.timedelta(days=7))  # and not again in the next one
    digest = [m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "digest"][-1]
    assert "chưa đăng ký đề tài, sáng kiến nào" not in text_body(digest)


def test_enqueue_with_attachments_for_the_reports(mapp: App, tmp_path: Path) -> None:
    province(mapp)
    xlsx = b"PK\x03\x04 not really a workbook"
    with mapp.engine.transaction() as s:
        first = enqueue(s.connection(), kind="report", to=["giamdoc@syt.example.vn"], now=T0,
                        dedupe_key="report:progress:2025-Q1",
                        context={"report": {"title": "Báo cáo tiến độ", "period": "Quý I/2025",
                                            "note": None}},
                        attachments=[("tien-do.xlsx", xlsx, "application/vnd.openxmlformats-"
                                      "officedocument.spreadsheetml.sheet")])
        again = enqueue(s.connection(), kind="report", to=["giamdoc@syt.example.vn"], now=T0,
                        dedupe_key="report:progress:2025-Q1", context={})
    assert first is not None and again is None
    mapp.tick(T0)
    msg = next(m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "report")
    assert addresses(msg, "To") == ["giamdoc@syt.example.vn"]
    assert addresses(msg, "Cc") == []  # the office reads it in its digest, with the file
    assert attachments(msg)["tien-do.xlsx"].get_content() == xlsx
    (digest,) = [m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "digest"]
    assert attachments(digest)["tien-do.xlsx"].get_content() == xlsx
    # Attachments are listed by what they are, and the unregistered addressee greeted by role.
    assert "  - Bảng tính Excel (.xlsx)" in text_body(msg)
    assert "Kính gửi: Lãnh đạo Sở Y tế" in text_body(msg)


def test_enqueue_refuses_bad_input_and_writes_nothing(mapp: App) -> None:
    province(mapp)
    for kwargs in ({"kind": "nope"}, {"kind": "report", "to": ["not an address"]},
                   {"kind": "report", "lang": "fr"}):
        with pytest.raises(InputError), mapp.engine.transaction() as s:
            enqueue(s.connection(), now=T0, dedupe_key="k", **kwargs)  # type: ignore[arg-type]
    with mapp.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxAttachment)) == 0


def test_a_digest_due_on_a_holiday_waits_for_the_next_working_day(mapp: App,
                                                                  tmp_path: Path) -> None:
    province(mapp)
    tz = T0.tzinfo
    for day in (1, 2, 3):  # Monday 1/9/2025 and Tuesday 2/9 are days off (National Day)
        mapp.tick(dt.datetime(2025, 9, day, 8, 30, tzinfo=tz))
        digests = [r for r in rows(mapp) if r.kind == "digest"]
        assert len(digests) == (1 if day == 3 else 0), day
    assert digests[0].dedupe_key == "digest:2025-09-03"
    assert digests[0].created_at.astimezone(tz).date() == dt.date(2025, 9, 3)


def test_without_an_office_address_the_office_staff_get_its_mail_and_else_it_is_dead(
        db_url: str, tmp_path: Path) -> None:
    application = build(make_settings(db_url, tmp_path))  # no office address configured
    try:
        province(application)
        monday = dt.datetime(2025, 3, 10, 8, 30, tzinfo=T0.tzinfo)
        application.tick(monday)
        (sent,) = [m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "digest"]
        assert addresses(sent, "To") == [OFFICE]  # the person registered with role office
        with application.engine.transaction() as s:
            s.execute(update(Person).where(Person.role == "office").values(active=False))
            enqueue(s.connection(), kind="digest", now=monday, dedupe_key="digest:nobody")
        application.tick(monday + dt.timedelta(days=7))  # no digest queued for nobody
        assert [r.dedupe_key for r in rows(application) if r.kind == "digest"] == [
            "digest:2025-03-10", "digest:nobody"]
        dead = next(r for r in rows(application) if r.dedupe_key == "digest:nobody")
        assert dead.state == "dead" and "no recipient" in (dead.last_error or "")
    finally:
        application.close()


def test_a_message_that_cannot_render_is_dead_and_the_others_still_go(mapp: App,
                                                                      tmp_path: Path) -> None:
    province(mapp)
    with mapp.engine.transaction() as s:  # a digest without its facts: its subject cannot render
        enqueue(s.connection(), kind="digest", now=T0, dedupe_key="digest:broken")
    mapp.tick(T0)
    dead = next(r for r in rows(mapp) if r.dedupe_key == "digest:broken")
    assert dead.state == "dead" and "digest.subject.txt" in (dead.last_error or "")
    assert "not a date" in (dead.last_error or "")
    kinds = [m["X-Nckh-Kind"] for m in maildir_messages(tmp_path)]
    sent_digests = [r for r in rows(mapp) if r.kind == "digest" and r.state == "sent"]
    assert "task_registered" in kinds and kinds.count("digest") == len(sent_digests)


def test_a_title_with_a_newline_cannot_add_a_header(mapp: App, tmp_path: Path) -> None:
    hostile = "Đề tài A\r\nBcc: attacker@evil.example\nX-Evil: 1"
    task_id = province(mapp)
    # Registration refuses it now (workflows/inputs.py); a title stored before that rule existed
    # must still render safely, so it is written into the row directly.
    with pytest.raises(InputError, match="task title must be one line"):
        mapp.engine.create_task(unit_code="BVDK", level="unit", title=hostile, pi_email=PI,
                                year=2025, now=T0)
    with mapp.db.begin() as conn:
        conn.execute(update(Task).where(Task.id == task_id).values(title=hostile))
    mapp.engine.fire(task_id, "request_revision", actor_email=OFFICE, reason="Bổ sung", now=T0)
    mapp.tick(T0)
    (msg,) = [m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "revision_requested"]
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert addresses(msg, "To") == [PI]
    assert "\n" not in msg["Subject"] and "Bcc: attacker@evil.example" in msg["Subject"]


def test_the_digest_is_queued_once_per_week_for_the_office(mapp: App, tmp_path: Path) -> None:
    province(mapp)
    monday = dt.datetime(2025, 3, 10, 8, 30, tzinfo=T0.tzinfo)
    mapp.tick(monday - dt.timedelta(days=7))  # the digest of Monday 3 March
    mapp.tick(monday - dt.timedelta(days=1))  # Sunday: nothing goes out on a day off
    mapp.tick(monday)
    mapp.tick(monday + dt.timedelta(hours=3))
    digests = [m for m in maildir_messages(tmp_path) if m["X-Nckh-Kind"] == "digest"]
    assert len(digests) == 2
    assert all(addresses(m, "To") == [OFFICE] for m in digests)
    assert "ngày 10 tháng 3 năm 2025" in digests[-1]["Subject"]


def test_a_stop_request_finishes_the_message_in_hand_and_leaves_the_rest_pending(
        db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "nckh.toml"
    config.write_text('[mail]\ndigest_weekday = "off"\nbatch_size = 2\n', encoding="utf-8")
    application = build(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config), **MAIL_ENV))
    try:
        with application.engine.transaction() as s:
            for n in range(5):
                enqueue(s.connection(), kind="test", to=[f"u{n}@example.vn"], now=T0,
                        dedupe_key=f"test:{n}")
        assert len(rows(application)) == 5
        dispatcher = application.dispatcher
        assert isinstance(dispatcher, Dispatcher)

        def stop() -> bool:  # the signal arrives once the third file is written
            return len(maildir_messages(tmp_path)) >= 3

        counts = dispatcher.tick(T0, stop)
        assert counts.get("sent") == 3 and counts.get("released") == 1
        assert len(maildir_messages(tmp_path)) == 3
        left = [r for r in rows(application) if r.state != "sent"]
        assert [(r.state, r.attempts, r.claimed_by) for r in left] == [("pending", 0, None)] * 2
        assert dispatcher.tick(T0).get("sent", 0) == 2  # the next pass takes the rest
        assert {r.state for r in rows(application)} == {"sent"}
        assert len(maildir_messages(tmp_path)) == 5
    finally:
        application.close()


def test_a_request_past_its_date_puts_the_end_of_its_grace_in_the_calendar(
        mapp: App, tmp_path: Path) -> None:
    """A request registered after its date asks for the end of the grace period: the .ics goes
    on that day, not on a date already gone."""
    task_id = province(mapp)
    with mapp.engine.transaction() as s:
        queue_mails(s.connection(), (Mail(
            "obligation_requested", "registered:late", task_id,
            {"state": "proposed", "due_on": dt.date(2025, 2, 28),
             "grace_until": dt.date(2025, 3, 17)}),), task_id, T0)
    mapp.tick(T0)  # the head's letter of the day carries it (with the task's registration)
    files = [name for m in maildir_messages(tmp_path) for name in attachments(m)]
    assert files == ["han-2025-03-17.ics"]


def test_after_a_downtime_each_mail_says_what_was_true_on_its_events_day(
        mapp: App, tmp_path: Path) -> None:
    """Nothing is sent while the daemon is down (no tick): the task is registered on 3/3, its
    outline approved on 10/3 and the work started on 17/3. Each mail, sent on 20/3, still says
    what was true when its event happened, and is dated that day."""
    task_id = province(mapp)
    mapp.engine.fire(task_id, "approve_outline", actor_email=COUNCIL, now=T0 + dt.timedelta(7),
                     data={"decision_no": "12/QĐ-SYT"})
    mapp.engine.fire(task_id, "start", actor_email=HEAD, now=T0 + dt.timedelta(14))
    mapp.tick(T0 + dt.timedelta(17))
    sent = {m["X-Nckh-Kind"]: m for m in maildir_messages(tmp_path)}
    registered, approved, started = (text_body(sent[k]) for k in
                                     ("task_registered", "outline_approved", "started"))
    # The registration went into the head's letter of 20/3: its facts are those of 3/3.
    assert "Thông tin (tại ngày 03/03/2025):" in registered
    assert "Trạng thái: Đã đề xuất, chờ xét duyệt đề cương" in registered
    assert "trước ngày 30 tháng 4 năm 2025" in registered and "Đang thực hiện" not in registered
    # The PI's own news went out on its own, dated its day, saying that day's state and date.
    assert sent["outline_approved"]["Date"] == "Mon, 10 Mar 2025 02:00:00 +0000"
    assert "Trạng thái: Đề cương đã được phê duyệt" in approved
    assert "chậm nhất ngày 09 tháng 4 năm 2025" in approved and "Đang thực hiện" not in approved
    assert "Trạng thái: Đang thực hiện" in started
    assert "trước ngày 01 tháng 12 năm 2025" in started
