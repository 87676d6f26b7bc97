"""The reports reach the office through the outbox when the scheduler says a report is due: in
that day's digest, which carries the report's files (one mail to the office that day), and to
the configured readers (`[reports] to`) as a mail of their own."""

from __future__ import annotations

import csv
import datetime as dt
import io
from email.message import EmailMessage
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from engine.app import App, build
from storage.outbox import OutboxMessage
from tests.conftest import local, make_settings
from tests.integration.mailfixtures import addresses, attachments, maildir_messages, text_body
from tests.integration.reports_province import OFFICE, YEAR, build_obligations, build_province
from tests.integration.xlsxformulas import evaluate


def _due(app: App, report: str, at: dt.datetime) -> None:
    with app.engine.transaction() as s:  # what the calendar job `report:<name>` does
        app.reports(s, report, YEAR, at)


def test_report_due_queues_one_mail_to_the_office_with_the_report_attached(app: App) -> None:
    build_province(app)
    build_obligations(app)
    _due(app, "progress", local(YEAR, 7, 1))
    _due(app, "progress", local(YEAR, 7, 1))  # asked twice: still one mail
    with app.engine.transaction() as s:
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "report")).all()
        assert len(mails) == 1
        mail = mails[0]
        assert mail.addressed_to == []  # the office is the kind's reader: in its digest
        assert mail.context["report"]["period"] == "tính đến ngày 30/06/2025"
        files = {a.filename: a for a in mail.attachments}
        assert sorted(files) == ["nckh-tien-do-2025-2025-06-30.csv",
                                 "nckh-tien-do-2025-2025-06-30.xlsx"]
        xlsx = files["nckh-tien-do-2025-2025-06-30.xlsx"]
        assert xlsx.mimetype.endswith("spreadsheetml.sheet")
        ws = load_workbook(io.BytesIO(xlsx.content))["Tiến độ"]
        total = next(c.row for c in ws["C"] if c.value == "Tổng cộng toàn tỉnh")
        assert evaluate(ws, f"E{total}") == 4  # approved, a formula over the subtotals
        rows = list(csv.DictReader(io.StringIO(
            files["nckh-tien-do-2025-2025-06-30.csv"].content.decode("utf-8-sig")),
            delimiter=";"))
        assert rows[-1]["Đề cương đã duyệt"] == "4"


def test_compliance_on_1_december_covers_the_year_to_30_november(app: App) -> None:
    build_province(app)
    _due(app, "compliance", local(YEAR, 12, 1))
    _due(app, "unknown_report", local(YEAR, 12, 1))  # not ours: ignored
    with app.engine.transaction() as s:
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "report")).all()
        assert [m.context["report"]["period"] for m in mails] == ["tính đến ngày 30/11/2025"]
        assert "năm 2025" in mails[0].context["report"]["title"]
        note = mails[0].context["report"]["note"]
        assert "việc quá hạn chưa hoàn thành: " in note and "hạn đã quá" not in note


def _delivered(app: App, tmp_path: Path, at: dt.datetime) -> list[EmailMessage]:
    _due(app, "progress", at)
    app.tick(at)  # the outbox's pass: the notice fans out, the digest is written and sent
    return maildir_messages(tmp_path)


def test_the_office_reads_the_report_in_that_days_digest_with_its_files(
        db_url: str, tmp_path: Path) -> None:
    app = build(make_settings(db_url, tmp_path, NCKH_OFFICE_EMAIL=OFFICE))
    try:
        build_province(app)
        at = local(YEAR, 7, 9, 8, 30)  # a Wednesday: not the digest's weekday
        to_office = [m for m in _delivered(app, tmp_path, at) if OFFICE in addresses(m, "To")]
        (digest,) = [m for m in to_office if m["X-Nckh-Kind"] in ("digest", "report")]
        assert digest["X-Nckh-Kind"] == "digest"
        assert "kèm báo cáo tiến độ thực hiện nhiệm vụ KHCN" in digest["Subject"]
        files = attachments(digest)
        assert sorted(files) == ["nckh-tien-do-2025-2025-07-08.csv",
                                 "nckh-tien-do-2025-2025-07-08.xlsx"]
        body = text_body(digest)
        assert "Kèm theo thư này là báo cáo tiến độ thực hiện nhiệm vụ KHCN (sơ kết 6 tháng) " \
               "năm 2025 (tính đến ngày 08/07/2025)" in body
        assert "  - Bảng tính Excel (.xlsx)" in body
        app.tick(at + dt.timedelta(hours=2))  # nothing more for the office that day
        assert len([m for m in maildir_messages(tmp_path) if OFFICE in addresses(m, "To")]) == 1
    finally:
        app.close()


def test_the_configured_readers_get_the_report_as_a_mail_of_their_own(
        db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "reports.toml"
    config.write_text('[reports]\nto = ["lanhdao@soyte.example.vn"]\n', encoding="utf-8")
    app = build(make_settings(db_url, tmp_path, NCKH_OFFICE_EMAIL=OFFICE,
                              NCKH_CONFIG=str(config)))
    try:
        build_province(app)
        sent = _delivered(app, tmp_path, local(YEAR, 7, 9, 8, 30))
        (own,) = [m for m in sent if m["X-Nckh-Kind"] == "report"]
        assert addresses(own, "To") == ["lanhdao@soyte.example.vn"]
        assert addresses(own, "Cc") == []  # the office has it in its digest
        assert sorted(attachments(own)) == ["nckh-tien-do-2025-2025-07-08.csv",
                                            "nckh-tien-do-2025-2025-07-08.xlsx"]
        (digest,) = [m for m in sent if m["X-Nckh-Kind"] == "digest"]
        assert len(attachments(digest)) == 2
    finally:
        app.close()


def test_without_the_digest_the_offices_letter_of_the_day_carries_the_files(
        db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "nodigest.toml"
    config.write_text('[mail]\ndigest_weekday = "off"\n', encoding="utf-8")
    app = build(make_settings(db_url, tmp_path, NCKH_OFFICE_EMAIL=OFFICE,
                              NCKH_CONFIG=str(config)))
    try:
        build_province(app)
        sent = _delivered(app, tmp_path, local(YEAR, 7, 9, 8, 30))
        (letter,) = [m for m in sent if OFFICE in addresses(m, "To")]
        assert letter["X-Nckh-Kind"] == "letter"
        assert sorted(attachments(letter)) == ["nckh-tien-do-2025-2025-07-08.csv",
                                               "nckh-tien-do-2025-2025-07-08.xlsx"]
    finally:
        app.close()
