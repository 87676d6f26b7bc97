"""The office's intake register: accept or return a document, record one on a unit's behalf;
and the CLI's `--as`, recorded as on whose behalf with the operator's login."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.timers import Timer
from tests.acceptance.cli import nckh_in_process
from tests.web.webfixtures import (
    HEAD,
    OFFICE,
    PDF,
    PI,
    Site,
    csrf,
    obligation,
    sign_in,
    submission_form,
)
from workflows.clock import DEFAULT_TZ
from workflows.errors import NotAllowed


def state(site: Site, task_id: int) -> str:
    return str(site.app.engine.task_detail(task_id, now=site.clock.now())["state"])


def pending_timers(site: Site, task_id: int) -> list[str]:
    with site.app.sessions() as s:
        return [t.kind for t in s.scalars(select(Timer).where(
            Timer.task_id == task_id, Timer.done_at.is_(None)))]


def submitted(site: Site) -> int:
    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    b = sign_in(site, HEAD)
    answer = b.post(f"/nhiem-vu/{report}/nop", content_type="multipart/form-data",
                    data=submission_form(b.get(f"/nhiem-vu/{report}").data))
    assert answer.status_code == 302
    return report


def test_the_office_accepts_a_submission_in_the_register_and_its_timers_stop(
        site: Site, tasks: dict[str, int]) -> None:
    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    assert pending_timers(site, report)
    b = sign_in(site, HEAD)
    b.post(f"/nhiem-vu/{report}/nop", content_type="multipart/form-data",
           data=submission_form(b.get(f"/nhiem-vu/{report}").data))
    office = sign_in(site, OFFICE)
    page = office.get("/so-tiep-nhan").data.decode()
    assert "45/BC-BVĐK" in page and "28/06/2025" in page and "bao-cao.pdf" in page
    assert f'id="decide-acknowledge-{report}"' in page
    done = office.post(f"/so-tiep-nhan/{report}", data={
        "csrf_token": csrf(page), "event": "acknowledge"})
    assert done.status_code == 302
    assert state(site, report) == "acknowledged"
    assert pending_timers(site, report) == []


def test_returning_needs_a_reason_beside_the_field_then_the_unit_is_asked_again(
        site: Site, tasks: dict[str, int]) -> None:
    report = submitted(site)
    office = sign_in(site, OFFICE)
    page = office.get("/so-tiep-nhan").data.decode()
    refused = office.post(f"/so-tiep-nhan/{report}", data={
        "csrf_token": csrf(page), "event": "return_for_changes", "reason": ""})
    assert refused.status_code == 400
    assert 'class="field-error"' in refused.data.decode() and state(site, report) == "submitted"
    office.post(f"/so-tiep-nhan/{report}", data={
        "csrf_token": csrf(page), "event": "return_for_changes",
        "reason": "Thiếu phụ lục số liệu"})
    assert state(site, report) == "requested"
    site.deliver()
    returned = [m for m in site.mails() if HEAD in str(m["To"])
                and "đề nghị bổ sung, chỉnh sửa" in str(m["Subject"])]
    assert returned and "/lien-ket/" in returned[-1].get_body(
        preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_the_office_records_a_paper_document_for_a_unit_and_the_history_says_so(
        site: Site, tasks: dict[str, int]) -> None:
    import io

    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    office = sign_in(site, OFFICE)
    page = office.get("/so-tiep-nhan").data.decode()
    assert f'<option value="{report}">' in page
    done = office.post("/so-tiep-nhan/ghi-nhan", content_type="multipart/form-data", data={
        "csrf_token": csrf(page), "task": str(report), "channel": "paper",
        "doc_number": "45/BC-BVĐK", "doc_date": "28/06/2025", "note": "",
        "file": (io.BytesIO(PDF), "scan.pdf")})
    assert done.status_code == 302, done.data.decode()
    assert state(site, report) == "submitted"
    detail = site.app.engine.task_detail(report, now=site.clock.now())
    last = detail["history"][-1]
    assert (last["actor"], last["recorded_by"]) == (HEAD, OFFICE)
    [sub] = site.app.submissions.of_task(report)
    assert (sub["channel"], sub["recorded_by"]) == ("paper", "Phòng Nghiệp vụ Y")
    item = office.get(f"/nhiem-vu/{report}").data.decode()
    assert f"ghi nhận bởi {OFFICE} (Phòng Nghiệp vụ Y) thay mặt đơn vị BVDK" in item


def test_only_the_office_records_on_a_units_behalf(site: Site, tasks: dict[str, int]) -> None:
    from engine.submissions import Document

    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    with pytest.raises(NotAllowed, match="only the office records"):
        site.app.submissions.submit(report, actor_email=None, recorded_by=PI,
                                    document=Document("1/BC", "01/07/2025"), upload=None,
                                    channel="paper", now=site.clock.now())
    assert state(site, report) == "requested"
    head = sign_in(site, HEAD)
    token = csrf(head.get("/trang-chu", follow_redirects=True).data)
    assert head.get("/so-tiep-nhan").status_code == 404
    assert head.post("/so-tiep-nhan/ghi-nhan", data={
        "csrf_token": token, "task": str(report), "channel": "paper", "doc_number": "1",
        "doc_date": "01/07/2025"}).status_code == 404
    assert head.post(f"/so-tiep-nhan/{report}", data={
        "csrf_token": token, "event": "waive", "reason": "x"}).status_code == 404
    assert state(site, report) == "requested"


def test_the_cli_as_is_on_whose_behalf_and_the_operator_is_recorded(
        site: Site, tasks: dict[str, int], tmp_path: Path) -> None:
    env = {"NCKH_DATA_DIR": str(site.data_dir), "NCKH_DATABASE_URL": site.app.settings.database_url,
           "NCKH_NOW": "2025-03-04T09:00", "LOGNAME": "kiemtra", "USER": "kiemtra",
           "NCKH_WEB_SECRET": "s" * 40}
    ran = nckh_in_process(env, "task", "fire", str(tasks["mine"]), "request_revision",
                          "--as", OFFICE, "--reason", "Bổ sung cỡ mẫu")
    assert ran.returncode == 0, ran.stderr
    last = site.app.engine.task_detail(tasks["mine"], now=site.clock.now())["history"][-1]
    assert (last["actor"], last["operator"]) == (OFFICE, "kiemtra")
    shown = nckh_in_process(env, "task", "show", str(tasks["mine"])).stdout
    assert f"by {OFFICE} (office), entered by kiemtra (OS login)" in shown


def test_the_dashboard_is_the_offices_and_links_each_cell_to_its_item(
        site: Site, tasks: dict[str, int]) -> None:
    site.clock.set(dt.datetime(2025, 6, 30, 9, 0, tzinfo=DEFAULT_TZ))
    site.app.tick(site.clock.now())  # the calendar asks the units for their reports
    office = sign_in(site, OFFICE)
    board = office.get("/bang-dieu-khien")
    text = board.data.decode()
    assert board.status_code == 200 and 'id="cell-BVDK-1"' in text and 'id="cell-TTYT-1"' in text
    assert "Chưa đến hạn" in text and "05/07/2025" in text
    assert office.get("/bang-dieu-khien?kind=private").data.decode().count('id="cell-') == 0
    assert office.get("/bang-dieu-khien?kind=x").status_code == 400
    head = sign_in(site, HEAD)
    assert head.get("/bang-dieu-khien").status_code == 404


def test_the_office_sets_a_password_for_its_own_people_only(site: Site,
                                                            tasks: dict[str, int]) -> None:
    office = sign_in(site, OFFICE)
    page = office.get("/mat-khau").data.decode()
    token = csrf(page)
    differ = office.post("/mat-khau", data={"csrf_token": token, "email": OFFICE,
                                            "password": "một mật khẩu dài", "repeat": "khác"})
    assert differ.status_code == 400 and "the two passwords differ" in differ.data.decode()
    short = office.post("/mat-khau", data={"csrf_token": token, "email": OFFICE,
                                           "password": "ngắn", "repeat": "ngắn"})
    assert short.status_code == 400 and "at least 12 characters" in short.data.decode()
    not_office = office.post("/mat-khau", data={"csrf_token": token, "email": HEAD,
                                                "password": "một mật khẩu dài",
                                                "repeat": "một mật khẩu dài"})
    assert not_office.status_code == 403 and "is not in the office" in not_office.data.decode()
    ok = office.post("/mat-khau", data={"csrf_token": token, "email": OFFICE,
                                        "password": "một mật khẩu dài",
                                        "repeat": "một mật khẩu dài"})
    assert ok.status_code == 302
    assert site.app.access.password_signin(OFFICE, "một mật khẩu dài", client="t",
                                           now=site.clock.now())
    assert sign_in(site, HEAD).get("/mat-khau").status_code == 404
