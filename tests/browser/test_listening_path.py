"""The listening side in a real browser: a reminder caught by a real SMTP server carries the
head's link; in Chromium the head uploads the report's PDF through it; the office signs in,
accepts it in the intake register; the escalation that was due to the unit head is cancelled.
Screenshots of the register and the unit's page, at desktop and phone width, are taken on the
way (into $NCKH_SCREENSHOTS when set: `docs/screenshots/web.sh` regenerates them)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.timers import Timer
from tests.browser.browser import (
    DESKTOP,
    PHONE,
    chromium,
    require_browser,
    serving,
    shot,
    wait_for,
)
from tests.integration.mailserver import Inbox, free_port, start
from tests.web.webfixtures import HEAD, OFFICE, PDF, Site
from workflows.clock import DEFAULT_TZ

pytestmark = pytest.mark.slow


def links(inbox: Inbox, who: str, prefix: str) -> list[str]:
    found = []
    for r in inbox.received:
        if who in r.rcpt_tos:
            body = r.message.get_body(preferencelist=("plain",))
            assert body is not None
            found += re.findall(r"(https?://\S+" + re.escape(prefix) + r"\S+)",
                                str(body.get_content()))  # type: ignore[attr-defined]
    return found


def six_month_report(site: Site, unit: str) -> int:
    from storage.models import Unit
    from storage.timers import Obligation

    with site.app.sessions() as s:
        return int(s.scalar(select(Obligation.task_id).join(Unit, Unit.id == Obligation.unit_id)
                            .where(Unit.code == unit, Obligation.key == "six_month_report")))


def pending(site: Site, task_id: int) -> list[str]:
    with site.app.sessions() as s:
        return sorted(f"{t.kind}:{t.to_role or ''}" for t in s.scalars(select(Timer).where(
            Timer.task_id == task_id, Timer.done_at.is_(None))))


def test_a_head_answers_a_real_reminder_in_chromium_and_the_office_accepts_it(
        tmp_path: Path) -> None:
    require_browser()
    from selenium.webdriver.common.by import By

    folder = Path(os.environ.get("NCKH_SCREENSHOTS") or tmp_path)
    inbox = Inbox()
    smtp = start(inbox)
    port = free_port()
    site = Site(f"sqlite:///{tmp_path / 'nckh.db'}", tmp_path / "data",
                NCKH_SMTP_HOST="127.0.0.1", NCKH_SMTP_PORT=str(smtp.port),
                NCKH_BASE_URL=f"http://127.0.0.1:{port}")
    try:
        site.province()
        # Monday 30/6/2025: the calendar asks every unit for its 6-month report (due 5/7, a
        # Saturday: legal end 7/7), and the head's letter of the day carries it
        site.clock.set(dt.datetime(2025, 6, 30, 8, 5, tzinfo=DEFAULT_TZ))
        site.app.tick(site.clock.now())
        site.clock.set(dt.datetime(2025, 6, 30, 9, 5, tzinfo=DEFAULT_TZ))
        site.app.tick(site.clock.now())
        report = six_month_report(site, "BVDK")
        [link] = {u for u in links(inbox, HEAD, "/lien-ket/") if f"-{report}/" in u}
        assert "escalation:unit_head" in pending(site, report)
        pdf = tmp_path / "bao-cao-6-thang.pdf"
        pdf.write_bytes(PDF)
        from engine.access import viewer_of
        from storage.directory import person_by_email

        with site.app.sessions() as s:
            office = viewer_of(person_by_email(s, OFFICE))  # type: ignore[arg-type]
        site.app.access.set_password(OFFICE, "mật khẩu của phòng", by=office,
                                     now=site.clock.now())

        with serving(site.web, port) as base, chromium() as driver:
            # 1. the head opens the link from the mail and uploads the PDF
            driver.get(link)
            wait_for(driver, "submit-document")
            driver.find_element(By.ID, "doc_number").send_keys("45/BC-BVĐK")
            driver.find_element(By.ID, "doc_date").send_keys("28/06/2025")
            driver.find_element(By.ID, "file").send_keys(str(pdf))
            driver.find_element(By.ID, "submit-document").click()
            wait_for(driver, 'id="done"')
            assert "Đơn vị đã gửi báo cáo" in driver.find_element(By.ID, "state").text

            # the head signs in with a link mailed to them: their unit's page
            driver.get(base + "/dang-nhap")
            driver.find_element(By.ID, "email").send_keys(HEAD)
            driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            wait_for(driver, 'id="sent"')
            site.deliver()
            driver.get(links(inbox, HEAD, "/dang-nhap/")[-1])
            driver.find_element(By.ID, "confirm").click()
            wait_for(driver, "Bệnh viện Đa khoa tỉnh (BVDK)")
            for size in (DESKTOP, PHONE):
                shot(driver, folder, "web-unit", size)
            driver.set_window_size(*DESKTOP)
            driver.find_element(By.CSS_SELECTOR, "form.inline button").click()  # sign out
            wait_for(driver, 'id="office_email"')

            # 2. the office signs in with its password and accepts it in the register
            driver.get(base + "/dang-nhap")
            driver.find_element(By.TAG_NAME, "summary").click()
            driver.find_element(By.ID, "office_email").send_keys(OFFICE)
            driver.find_element(By.ID, "password").send_keys("mật khẩu của phòng")
            driver.find_element(By.XPATH, "//details//button").click()
            wait_for(driver, "Sổ tiếp nhận văn bản")
            driver.get(base + "/so-tiep-nhan")
            wait_for(driver, "45/BC-BVĐK")
            for size in (DESKTOP, PHONE):
                shot(driver, folder, "web-register", size)
            driver.set_window_size(*DESKTOP)
            driver.find_element(By.CSS_SELECTOR,
                                f"#decide-acknowledge-{report} button").click()
            wait_for(driver, "Phòng Nghiệp vụ Y đã tiếp nhận")

            # 3. the dashboard: the unit's cell for the 6-month report is green
            driver.get(base + "/bang-dieu-khien")
            wait_for(driver, 'id="dashboard"')
            cell = driver.find_element(By.CSS_SELECTOR, f"td a[href='/nhiem-vu/{report}']")
            assert cell.find_element(By.XPATH, "..").get_attribute("class") == "cell-done"
            for size in (DESKTOP, PHONE):
                shot(driver, folder, "web-dashboard", size)

        # 4. the report is done and the escalation due to the unit head is cancelled
        assert site.app.engine.task_detail(report, now=site.clock.now())["state"] == \
            "acknowledged"
        assert pending(site, report) == []
    finally:
        site.close()
        smtp.stop()
