"""The reports reach the office through the outbox when the scheduler says a report is due."""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook
from sqlalchemy import select

from engine.app import App
from storage.outbox import OutboxMessage
from tests.conftest import local
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
        assert mail.addressed_to == [OFFICE]
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
