"""Mails the reports to the office on their dates: the scheduler says when, the outbox delivers.

The scheduler's calendar job `report:<name>` calls the mailer on the configured dates
(`[scheduler] reports`), inside the job run's transaction. The mailer computes the report (as of
the day before) and queues one notice of kind `report` through the notifications component's
`enqueue`, with the report attached in the configured formats. The office reads it in that
day's digest, which carries the files; the readers of `[reports] to` get it as a mail of
their own. The outbox's unique dedupe key (report, year, date) means a second call queues
nothing; a failure here aborts the job run, which is then retried, rather than losing the
report.

Config, `[reports]`:  formats = ["xlsx", "csv"]   to = ["lanhdao@…"]  (added to the office)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from engine.reports.build import KINDS, MIMETYPES, filename, render
from engine.reports.compute import ReportRules
from engine.reports.config import ReportsConfig
from notifications.catalog import Catalog
from notifications.recipients import office_recipients
from storage.db import Session
from storage.mailfacts import People
from workflows.model import Workflow

TITLES = {"compliance": "Báo cáo tổng hợp tình hình thực hiện nhiệm vụ KHCN",
          "progress": "Báo cáo tiến độ thực hiện nhiệm vụ KHCN (sơ kết 6 tháng)"}


class ReportMailer:
    def __init__(self, config: ReportsConfig, *, office_email: str | None, tz: dt.tzinfo,
                 catalog: Catalog, current: Mapping[str, Workflow],
                 rules: ReportRules | None = None) -> None:
        self.rules = rules or ReportRules()
        self.formats = config.formats
        self.delimiter = config.csv_delimiter
        self.letterhead = config.letterhead
        self.extra_to = config.to
        self.office_email = office_email
        self.tz = tz
        self.catalog = catalog
        self.current = current  # the workflows in force (see storage.reports.load_year)

    def _office(self, session: Session) -> list[str]:
        return [r["email"] for r in office_recipients(People(session.connection()),
                                                       {"email": self.office_email or "",
                                                        "department": ""})]

    def __call__(self, session: Session, report_name: str, year: int, at: dt.datetime) -> None:
        if report_name not in KINDS:
            return
        from engine.reports import compute
        from notifications.outbox import enqueue
        from storage.reports import load_year

        sent_on = at.astimezone(self.tz).date()
        as_of = max(dt.date(year, 1, 1), sent_on - dt.timedelta(days=1))
        data = load_year(session, year, self.tz, current=self.current)
        report = dataclasses.replace(
            compute.compliance(data, as_of, self.rules) if report_name == "compliance"
            else compute.progress(data, as_of, self.rules), made_on=sent_on)
        files = [(filename(report, fmt), render(report, fmt, delimiter=self.delimiter,
                                                       letterhead=self.letterhead),
                  MIMETYPES[fmt])
                 for fmt in self.formats]
        bound = sum(1 for r in report.unit_rows() if r.get("quota_met") is not None)
        if not self._office(session) and not self.extra_to:
            return  # nobody to send it to: `nckh doctor` and the mail config say so
        # The office is the kind's own reader (its copy rides in that day's digest); the
        # configured readers get it as a mail of their own.
        enqueue(session.connection(), kind="report", now=at, to=self.extra_to,
                attachments=files,
                catalog=self.catalog,
                dedupe_key=f"report:{report_name}:{year}:{sent_on.isoformat()}",
                context={"report": {
                    "title": f"{TITLES[report_name]} năm {year}",
                    "period": f"tính đến ngày {as_of.day:02d}/{as_of.month:02d}/{as_of.year}",
                    "note": f"Tổng số nhiệm vụ đăng ký: {report.total['registered']}; "
                            f"đơn vị đạt chỉ tiêu: "
                            f"{report.total.get('quota_met', '–')}/{bound}; "
                            f"việc quá hạn chưa hoàn thành: {report.total['overdue']}."
                            if report_name == "compliance" else
                            f"Tổng số nhiệm vụ đăng ký: {report.total['registered']}; "
                            f"đề cương đã duyệt: {report.total['approved']}; "
                            f"việc quá hạn chưa hoàn thành: {report.total['overdue']}.",
                    "files": [name for name, _, _ in files]}})

