"""Several offices, on real databases and a real SMTP server (aiosmtpd): a unit's plan routed to
the Planning and Finance office reaches that office's digest and not the Medical Affairs
office's; a provincial task's notice to the office is copied to the Sở KH&CN, in its own
digest, as news; a config with one office sends what it always sent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.app import App, build
from engine.directory import UnitInput
from tests.conftest import local, make_settings
from tests.integration import mailserver
from tests.integration.mailfixtures import addresses, text_body

OFFICE = "pnvy@syt.example.vn"
KHTC = "khtc@syt.example.vn"
SKHCN = "qlkh@skhcn.example.vn"
HEAD = "giamdoc@bvdk.example.vn"
PI = "vinh@bvdk.example.vn"

# The unit's plan is due 10/1 and escalates to the office the day after its legal end.
OBLIGATION = """
[[scheduler.obligations]]
key = "unit_plan"
title = "Kế hoạch nghiên cứu khoa học năm {year}"
request = "01-02"
due = "01-10"
timers = { escalate = [{ after = 1, to = "office" }] }
"""
OFFICES = """
[[offices]]
key = "ke_hoach_tai_chinh"
name = "Phòng Kế hoạch – Tài chính"
email = "khtc@syt.example.vn"
obligations = ["unit_plan"]

[[offices]]
key = "so_khcn"
name = "Sở Khoa học và Công nghệ"
agency = "Sở Khoa học và Công nghệ"
email = "qlkh@skhcn.example.vn"
cc_levels = ["province"]
"""


def office_app(url: str, tmp: Path, port: int, offices: str) -> App:
    config = tmp / "nckh.toml"
    config.write_text('[scheduler]\nreports = {}\nquota_check = "off"\n' + OBLIGATION + offices,
                      encoding="utf-8")
    app = build(make_settings(url, tmp, NCKH_CONFIG=str(config), NCKH_OFFICE_EMAIL=OFFICE,
                              NCKH_MAIL_FROM="nckh@syt.example.vn",
                              NCKH_SMTP_HOST="127.0.0.1", NCKH_SMTP_PORT=str(port)))
    now = local(2024, 12, 20)
    app.engine.add_unit(UnitInput(code="BVDK", name="Bệnh viện Đa khoa tỉnh",
                                  head_name="Trần Văn Minh", head_email=HEAD), now=now)
    app.engine.add_person(email=PI, name="Trần Quang Vinh", role="pi", unit_code="BVDK",
                          title="TS.BS", now=now)
    return app


def replay(app: App, first: dt.date, last: dt.date) -> None:
    day = first
    while day <= last:
        app.tick(local(day.year, day.month, day.day, 8))
        day += dt.timedelta(days=1)


def digests(inbox: mailserver.Inbox, to: str) -> list[str]:
    return [text_body(r.message) for r in inbox.received
            if r.message["X-Nckh-Kind"] == "digest" and addresses(r.message, "To") == [to]]


def test_a_unit_plan_routed_to_the_second_office_lands_in_its_digest_not_the_firsts(
        db_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = office_app(db_url, tmp_path, inbox.port, OFFICES)  # type: ignore[attr-defined]
    try:
        replay(app, dt.date(2025, 1, 2), dt.date(2025, 1, 17))
    finally:
        app.close()
    (khtc,) = digests(inbox, KHTC)
    assert "Kính gửi: Phòng Kế hoạch – Tài chính" in khtc
    assert "Bệnh viện Đa khoa tỉnh" in khtc
    assert "VIỆC CẦN PHÒNG XỬ LÝ (1)" in khtc
    assert "Số nhiệm vụ theo trạng thái" not in khtc  # the province's overview is not its own
    for body in digests(inbox, OFFICE):  # the Medical Affairs office's weekly digest
        assert "VIỆC CẦN PHÒNG XỬ LÝ" not in body
    # The unit is asked to send its plan to the office that receives it.
    asked = [r for r in inbox.received if r.message["X-Nckh-Kind"] == "obligation_requested"]
    assert asked and "(qua Phòng Kế hoạch – Tài chính)" in text_body(asked[0].message)
    assert addresses(asked[0].message, "Reply-To") == [KHTC]  # an answer goes to that office
    assert SKHCN not in {a for r in inbox.received for a in r.rcpt_tos}


def test_a_provincial_tasks_office_notice_is_copied_to_the_so_khcn_as_news(
        db_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = office_app(db_url, tmp_path, inbox.port, OFFICES)  # type: ignore[attr-defined]
    try:
        app.engine.create_task(unit_code="BVDK", level="province", title="Ứng dụng trí tuệ "
                               "nhân tạo hỗ trợ đọc phim X-quang ngực", pi_email=PI, year=2025,
                               now=local(2025, 1, 6, 9))
        app.engine.create_task(unit_code="BVDK", level="unit", title="Đánh giá kết quả điều "
                               "trị tăng huyết áp", pi_email=PI, year=2025,
                               now=local(2025, 1, 6, 9))
        replay(app, dt.date(2025, 1, 6), dt.date(2025, 1, 14))
    finally:
        app.close()
    (copy,) = digests(inbox, SKHCN)
    assert "Kính gửi: Sở Khoa học và Công nghệ" in copy
    assert "Ứng dụng trí tuệ nhân tạo" in copy
    assert "tăng huyết áp" not in copy  # a unit-level topic is not the Sở KH&CN's business
    assert "VIỆC CẦN PHÒNG XỬ LÝ" not in copy  # a copy: to know, never to act
    assert "THÔNG TIN MỚI (1)" in copy
    # The Medical Affairs office still has both registrations in its own digest.
    assert any("Ứng dụng trí tuệ nhân tạo" in b and "tăng huyết áp" in b
               for b in digests(inbox, OFFICE))
    # The provincial task stays the Medical Affairs office's: answers go there.
    assert all(addresses(r.message, "Reply-To") == [OFFICE] for r in inbox.received
               if r.message["X-Nckh-Kind"] in ("task_registered", "digest"))
    # Nobody else is chased twice: the investigator got one registration mail per task.
    registered = [r for r in inbox.received if r.message["X-Nckh-Kind"] == "task_registered"
                  and r.rcpt_tos == [PI]]
    assert len(registered) == 2


def test_a_config_with_one_office_sends_everything_to_it(
        db_url: str, tmp_path: Path, inbox: mailserver.Inbox) -> None:
    app = office_app(db_url, tmp_path, inbox.port, "")  # type: ignore[attr-defined]
    try:
        app.engine.create_task(unit_code="BVDK", level="province", title="Ứng dụng trí tuệ "
                               "nhân tạo hỗ trợ đọc phim X-quang ngực", pi_email=PI, year=2025,
                               now=local(2025, 1, 6, 9))
        replay(app, dt.date(2025, 1, 2), dt.date(2025, 1, 17))
        keys = sorted(r.dedupe_key for r in _digest_rows(app))
    finally:
        app.close()
    rcpts = {a for r in inbox.received for a in r.rcpt_tos}
    assert KHTC not in rcpts and SKHCN not in rcpts
    bodies = digests(inbox, OFFICE)
    assert any("VIỆC CẦN PHÒNG XỬ LÝ (1)" in b for b in bodies)  # the plan's escalation
    assert all(k.count(":") == 1 for k in keys)  # the default office's keys, as before


def _digest_rows(app: App) -> list[object]:
    from sqlalchemy import select

    from storage.outbox import OutboxMessage

    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")))
