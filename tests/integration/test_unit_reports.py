"""The unit's reports of results (30/4 outline reviews, 1/12 acceptances), on real databases and
through the real letters: addressed to the unit's head, listing the unit's topics as they stand
on the day each mail is written; the unit's submission reaches the office as one digest entry
that lists them again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.app import App, build
from storage.timers import Obligation
from tests.conftest import make_settings
from tests.integration.mailfixtures import (
    COUNCIL,
    HEAD,
    MAIL_ENV,
    OFFICE,
    PI,
    addresses,
    maildir_messages,
    province,
    text_body,
)
from workflows.clock import DEFAULT_TZ

TITLE = "Đánh giá kết quả điều trị tăng huyết áp tại tuyến huyện"
LISTED = "Các đề tài, nhiệm vụ của đơn vị thuộc nội dung báo cáo"


def at(month: int, day: int, hour: int = 8) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=DEFAULT_TZ)


@pytest.fixture
def uapp(db_url: str, tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "nckh.toml"
    # The packaged obligations (the two reports of results among them); no quota, no reports.
    config.write_text('[scheduler]\nquota_check = "off"\nquota_recheck = "off"\nreports = {}\n'
                      '[scheduler.sessions]\nremind_before = 0\n', encoding="utf-8")
    app = build(make_settings(db_url, tmp_path, NCKH_CONFIG=str(config), **MAIL_ENV))
    yield app
    app.close()


def mails_on(tmp_path: Path, day: dt.date, to: str) -> list[str]:
    stamp = day.strftime("%d/%m/%Y")
    return [text_body(m) for m in maildir_messages(tmp_path)
            if to in addresses(m, "To") and stamp in str(m["Subject"]) + text_body(m)]


def test_the_acceptance_report_is_asked_of_the_head_and_lists_the_units_topics(
        uapp: App, tmp_path: Path) -> None:
    task = province(uapp, at(3, 3, 9))
    e = uapp.engine
    e.fire(task, "approve_outline", actor_email=COUNCIL, now=at(4, 22, 10),
           data={"decision_no": "12/QĐ-BVDK"})
    e.fire(task, "start", actor_email=HEAD, now=at(5, 6, 10))
    uapp.tick(at(11, 3))  # 1/11 is a Saturday: the request goes on Monday 3/11
    with uapp.sessions() as s:
        keys = {o.key: o.concerns for o in s.scalars(select(Obligation))
                if o.year == 2025}
    assert keys["acceptance_report"] == "accepted"
    [letter] = [b for b in mails_on(tmp_path, dt.date(2025, 11, 3), HEAD)
                if "nghiệm thu nhiệm vụ nghiên cứu khoa học năm 2025" in b]
    listed = letter[letter.index(LISTED):]
    assert f"1. {TITLE} (đề tài; ThS.BS Nguyễn Thị Hoa): đang thực hiện; thời hạn 01/12/2025." \
        in listed

    # Accepted on 18/11; the reminder of 28/11 says so, the day it is written.
    e.fire(task, "accept", actor_email=COUNCIL, now=at(11, 18, 10),
           data={"decision_no": "45/QĐ-BVDK", "grade": "Khá"})
    uapp.tick(at(11, 28))
    [reminder] = [b for b in mails_on(tmp_path, dt.date(2025, 11, 28), HEAD)
                  if "nghiệm thu nhiệm vụ nghiên cứu khoa học năm 2025" in b]
    assert (f"1. {TITLE} (đề tài; ThS.BS Nguyễn Thị Hoa): nghiệm thu đạt ngày 18/11/2025, "
            "số 45/QĐ-BVDK, xếp loại Khá.") in reminder


def test_the_units_submission_reaches_the_office_as_one_entry_listing_its_topics(
        uapp: App, tmp_path: Path) -> None:
    task = province(uapp, at(3, 3, 9))
    waiting = uapp.engine.create_task(unit_code="BVDK", level="unit", title="Khảo sát vệ sinh tay",
                                      pi_email=PI, year=2025, now=at(3, 4, 9))
    assert waiting != task
    uapp.tick(at(4, 1))  # the outline-review report is asked for
    with uapp.sessions() as s:
        report = s.scalars(select(Obligation).where(
            Obligation.key == "outline_review_report")).one()
    uapp.engine.fire(task, "approve_outline", actor_email=COUNCIL, now=at(4, 22, 10),
                     data={"decision_no": "12/QĐ-BVDK"})
    uapp.engine.fire(report.task_id, "submit", actor_email=HEAD, now=at(4, 24, 10),
                     data={"reference": "31/BC-BVDK"})
    for day in range(24, 31):
        uapp.tick(at(4, day, 9))
    digests = [text_body(m) for m in maildir_messages(tmp_path)
               if OFFICE in addresses(m, "To") and "đã gửi báo cáo kết quả xét duyệt" in
               text_body(m)]
    assert len(digests) == 1
    entry = digests[0][digests[0].index("Bệnh viện Đa khoa tỉnh: đã gửi"):]
    assert "ngày 24/04/2025 (văn bản số 31/BC-BVDK); cần xem xét, tiếp nhận." in entry
    assert f"– {TITLE} (ThS.BS Nguyễn Thị Hoa): phê duyệt đề cương ngày 22/04/2025, " \
        "số 12/QĐ-BVDK." in entry
    assert "– Khảo sát vệ sinh tay (ThS.BS Nguyễn Thị Hoa): đã đề xuất, chờ xét duyệt đề " \
        "cương; thời hạn 30/04/2025." in entry


def test_a_report_listing_topics_must_name_a_milestone_and_be_yearly() -> None:
    from engine.scheduling.config import load_config
    from workflows.errors import InputError

    with pytest.raises(InputError, match="concerns: expected one of outline_approved, "
                                         "accepted, not 'published'"):
        load_config({"obligations": [
            {"key": "r", "due": "04-30", "concerns": "published"}]}, {})
    with pytest.raises(InputError, match="only a yearly report lists the unit's topics"):
        load_config({"obligations": [
            {"key": "r", "every": "month", "concerns": "accepted"}]}, {})
