"""An item's page: the reminders and follow-ups still to go out, in the reader's language, and,
for the office only, the e-mails sent about the item (alone, or in a letter or the digest)."""

from __future__ import annotations

import datetime as dt
import re

from tests.web.webfixtures import HEAD, OFFICE, PI, Site, sign_in
from workflows.clock import DEFAULT_TZ


def _section(page: str, anchor: str) -> str:
    found = re.search(rf'id="{anchor}">(.*?)</(ul|table)>', page, re.S)
    assert found, f"no #{anchor} on the page"
    return re.sub(r"<[^>]+>", " ", found.group(1))


def test_the_office_sees_the_timers_to_come_and_the_mails_sent_about_the_item(
        site: Site, tasks: dict[str, int]) -> None:
    office = sign_in(site, OFFICE)  # its sign-in link is sent with the registrations' mail
    page = office.get(f"/nhiem-vu/{tasks['mine']}").data.decode()
    timers = " ".join(_section(page, "timers").split())
    # The outline-review result is due 30/4/2025 (the unit's report reminds the head before
    # it): the investigator's notice after it, then the office's digest line.
    assert "06/05/2025 08:00 – Thông báo quá hạn (hạn 30/04/2025)" in timers
    assert ("12/05/2025 08:00 – Đôn đốc: Phòng Nghiệp vụ Y (trong bản tổng hợp) "
            "(hạn 30/04/2025)") in timers
    mails = " ".join(_section(page, "mails").split())
    assert PI in mails  # the registration, to its investigator, sent at once
    assert "03/03/2025" in mails and "chờ gửi" not in mails


def test_a_unit_head_sees_the_timers_but_not_who_was_written_what(
        site: Site, tasks: dict[str, int]) -> None:
    head = sign_in(site, HEAD)
    page = head.get(f"/nhiem-vu/{tasks['mine']}").data.decode()
    assert "Thông báo quá hạn (hạn 30/04/2025)" in page
    assert 'id="mails"' not in page and PI + "," not in page


def test_when_nothing_is_left_to_fire_the_page_says_so(site: Site, tasks: dict[str, int]) -> None:
    site.app.engine.fire(tasks["mine"], "reject", actor_email=OFFICE, reason="Trùng lặp",
                         now=site.clock.now() + dt.timedelta(hours=1))
    office = sign_in(site, OFFICE)
    page = office.get(f"/nhiem-vu/{tasks['mine']}").data.decode()
    assert "Không còn thư nhắc hạn, đôn đốc nào chờ gửi." in page


def test_a_units_report_of_results_shows_the_topics_it_covers(
        site: Site, tasks: dict[str, int]) -> None:
    """The outline-review report asked on 1/4: its page lists the unit's topics (the head's
    own unit only), each where it stands today; `task show` prints the same lines."""
    from sqlalchemy import select

    from storage.models import Unit
    from storage.timers import Obligation

    site.clock.set(dt.datetime(2025, 4, 1, 8, 5, tzinfo=DEFAULT_TZ))
    site.app.tick(site.clock.now())
    site.app.engine.fire(tasks["mine"], "approve_outline", actor_email=OFFICE,
                         now=site.clock.now(), data={"decision_no": "12/QĐ-BVDK"})
    with site.app.sessions() as s:
        report = s.scalars(select(Obligation.task_id).where(
            Obligation.key == "outline_review_report",
            Obligation.unit_id == select(Unit.id).where(Unit.code == "BVDK")
            .scalar_subquery())).one()
    page = sign_in(site, HEAD).get(f"/nhiem-vu/{report}").data.decode()
    shown = " ".join(_section(page, "report-topics").split())
    assert "Phê duyệt đề cương (01/04/2025), số 12/QĐ-BVDK" in shown
    assert "Khảo sát" not in shown  # the other unit's topic is in its own report
    detail = site.app.engine.task_detail(report, now=site.clock.now())
    [line] = detail["extra"]["Topics this report covers"]
    assert line.endswith(": phê duyệt đề cương ngày 01/04/2025, số 12/QĐ-BVDK")
