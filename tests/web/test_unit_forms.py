"""The units' forms: request an extension, answer a revision request with the revised outline,
register a new task, record a science session; each refused input beside its field with
nothing saved, another unit's forms out of reach, and the CSRF token required."""

from __future__ import annotations

import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.web.webfixtures import (
    EXE,
    HEAD,
    OFFICE,
    OTHER_HEAD,
    OTHER_PI,
    PDF,
    PI,
    Site,
    csrf,
    error_beside,
    sign_in,
    snapshot,
)


def in_progress(site: Site, task_id: int) -> None:
    now = site.clock.now()
    site.app.engine.fire(task_id, "approve_outline", actor_email=OFFICE, now=now)
    site.app.engine.fire(task_id, "start", actor_email=HEAD, now=now)


def post_event(b: FlaskClient, task_id: int, event: str, **fields: Any) -> Any:
    page = b.get(f"/nhiem-vu/{task_id}")
    return b.post(f"/nhiem-vu/{task_id}", content_type="multipart/form-data",
                  data={"csrf_token": csrf(page.data), "event": event, **fields})


# --- 1. an extension --------------------------------------------------------------------------
def test_a_unit_head_extends_their_task_from_its_page_and_the_new_deadline_opens(
        site: Site, tasks: dict[str, int]) -> None:
    mine = tasks["mine"]
    head = sign_in(site, HEAD)
    assert 'id="event-extend"' not in head.get(f"/nhiem-vu/{mine}").data.decode()  # proposed
    in_progress(site, mine)
    pi_page = sign_in(site, PI).get(f"/nhiem-vu/{mine}").data.decode()
    assert 'id="event-extend"' not in pi_page  # the engine allows it to the head, not the PI
    b = head
    page = b.get(f"/nhiem-vu/{mine}").data.decode()
    assert 'id="event-extend"' in page and 'for="f_until-extend">Gia hạn đến ngày' in page
    done = post_event(b, mine, "extend", reason="Chờ kết quả xét nghiệm bổ sung",
                      f_until="31/01/2026")
    assert done.status_code == 302, done.data.decode()
    detail = site.app.engine.task_detail(mine, now=site.clock.now())
    last = detail["history"][-1]
    assert (last["event"], last["actor"], last["data"]) == ("extend", HEAD,
                                                            {"until": "2026-01-31"})
    assert [d["due_on"] for d in detail["deadlines"] if d["open"]] == ["2026-01-31"]


def test_an_extension_with_a_bad_date_or_no_reason_is_refused_beside_the_field(
        site: Site, tasks: dict[str, int]) -> None:
    mine = tasks["mine"]
    in_progress(site, mine)
    b = sign_in(site, HEAD)
    before = snapshot(site)
    for fields, field, message in [
        ({"reason": "Chờ mẫu", "f_until": "31/02/2026"}, "f_until-extend", "31/02/2026"),
        ({"reason": "Chờ mẫu", "f_until": "15/10/2025"}, "f_until-extend",
         "must be later than the current deadline"),
        ({"reason": "Chờ mẫu", "f_until": ""}, "f_until-extend", "until"),
        ({"reason": "", "f_until": "31/01/2026"}, "reason-extend", "needs a reason"),
    ]:
        answer = post_event(b, mine, "extend", **fields)
        assert answer.status_code == 400, fields
        assert message in error_beside(answer.data, field)
    assert snapshot(site) == before


# --- 2. answering a revision request ----------------------------------------------------------
def test_after_a_revision_request_the_investigator_resubmits_the_outline_with_a_note_and_file(
        site: Site, tasks: dict[str, int]) -> None:
    mine = tasks["mine"]
    site.app.engine.fire(mine, "request_revision", actor_email=OFFICE, now=site.clock.now(),
                         reason="Bổ sung cỡ mẫu")
    b = sign_in(site, PI)
    page = b.get(f"/nhiem-vu/{mine}").data.decode()
    assert 'id="event-resubmit"' in page and 'id="file-resubmit"' in page
    done = post_event(b, mine, "resubmit", reason="Đã bổ sung cỡ mẫu theo góp ý",
                      file=(io.BytesIO(PDF), "de-cuong-sua.pdf"))
    assert done.status_code == 302, done.data.decode()
    detail = site.app.engine.task_detail(mine, now=site.clock.now())
    assert detail["state"] == "proposed"
    assert (detail["history"][-1]["actor"], detail["history"][-1]["reason"]) == (
        PI, "Đã bổ sung cỡ mẫu theo góp ý")
    [doc] = site.app.submissions.of_task(mine)
    assert (doc["sender_email"], doc["note"], doc["file"]["name"], doc["doc_date"]) == (
        PI, "Đã bổ sung cỡ mẫu theo góp ý", "de-cuong-sua.pdf", "2025-03-03")
    assert b.get(f"/tep/{doc['file']['id']}").data == PDF
    # the office finds it in its register, with its decisions on the outline beside it
    register = sign_in(site, OFFICE).get("/so-tiep-nhan").data.decode()
    assert f'id="decide-approve_outline-{mine}"' in register


def test_a_resubmitted_outline_that_is_not_a_document_is_refused_beside_the_file(
        site: Site, tasks: dict[str, int]) -> None:
    mine = tasks["mine"]
    site.app.engine.fire(mine, "request_revision", actor_email=OFFICE, now=site.clock.now(),
                         reason="Bổ sung cỡ mẫu")
    b = sign_in(site, PI)
    before = snapshot(site)
    answer = post_event(b, mine, "resubmit", reason="Đã sửa",
                        file=(io.BytesIO(EXE), "de-cuong.pdf"))
    assert answer.status_code == 400
    assert "is not a PDF, DOCX or XLSX file" in error_beside(answer.data, "file-resubmit")
    assert snapshot(site) == before


# --- 3. registering a task --------------------------------------------------------------------
def test_a_unit_head_registers_a_task_with_a_new_or_a_known_investigator(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    page = b.get("/don-vi/BVDK")
    text = page.data.decode()
    assert 'id="task-form"' in text and f'<option value="{PI}">' in text
    assert OTHER_PI not in text  # another unit's people are not offered
    new = b.post("/don-vi/BVDK/nhiem-vu", data={
        "csrf_token": csrf(page.data), "t_title": "Sáng kiến rút ngắn thời gian chờ khám",
        "t_level": "initiative", "t_year": "2025", "t_pi": "",
        "t_pi_name": "ThS. Đỗ Văn Tùng", "t_pi_email": "tung@bvdk.example.vn"})
    assert new.status_code == 302, new.data.decode()
    task_id = int(new.headers["Location"].split("/nhiem-vu/")[1].split("?")[0])
    detail = site.app.engine.task_detail(task_id, now=site.clock.now())
    assert (detail["unit"], detail["workflow"], detail["pi"]["email"], detail["year"]) == (
        "BVDK", "initiative", "tung@bvdk.example.vn", 2025)
    assert detail["history"][0]["actor"] == HEAD
    known = b.post("/don-vi/BVDK/nhiem-vu", data={
        "csrf_token": csrf(page.data), "t_title": "Đánh giá tuân thủ vệ sinh tay",
        "t_level": "unit", "t_year": "2025", "t_pi": PI})
    assert known.status_code == 302
    listed = b.get("/don-vi/BVDK").data.decode()
    assert "Đánh giá tuân thủ vệ sinh tay" in listed and "rút ngắn thời gian chờ" in listed


def test_the_office_registers_a_task_for_any_unit_and_is_recorded_as_the_registrant(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, OFFICE)
    page = b.get("/don-vi/TTYT")
    done = b.post("/don-vi/TTYT/nhiem-vu", data={
        "csrf_token": csrf(page.data), "t_title": "Khảo sát bệnh không lây nhiễm",
        "t_level": "province", "t_year": "2025", "t_pi": OTHER_PI})
    assert done.status_code == 302, done.data.decode()
    task_id = int(done.headers["Location"].split("/nhiem-vu/")[1].split("?")[0])
    detail = site.app.engine.task_detail(task_id, now=site.clock.now())
    assert (detail["unit"], detail["history"][0]["actor"]) == ("TTYT", OFFICE)


def test_registering_refuses_each_bad_input_beside_its_field_and_saves_nothing(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    token = csrf(b.get("/don-vi/BVDK").data)
    good = {"csrf_token": token, "t_title": "Đề tài mới", "t_level": "unit", "t_year": "2025",
            "t_pi": "", "t_pi_name": "Đỗ Văn Tùng", "t_pi_email": "tung@bvdk.example.vn"}
    before = snapshot(site)
    for change, field, message in [
        ({"t_title": "   "}, "t_title", "task title is empty"),
        ({"t_title": "x" * 600}, "t_title", "at most"),
        ({"t_level": "national"}, "t_level", "invalid level 'national'"),
        ({"t_year": "hai nghìn"}, "t_year", "expected a whole number"),
        ({"t_year": "1800"}, "t_year", "invalid year 1800"),
        ({"t_pi_email": "tung-at-bvdk"}, "t_pi_email", "invalid --pi-email"),
        ({"t_pi_name": ""}, "t_pi_name", "give --pi-name"),
    ]:
        answer = b.post("/don-vi/BVDK/nhiem-vu", data={**good, **change})
        assert answer.status_code == 400, change
        assert message in error_beside(answer.data, field), change
        assert 'value="Đỗ Văn Tùng"' in answer.data.decode() or "t_pi_name" in change
    assert snapshot(site) == before
    # a refusal (not a bad input): the engine's message at the top of the form, nothing saved
    site.app.engine.deactivate_person(PI, reason="Nghỉ hưu", now=site.clock.now())
    before = snapshot(site)
    refused = b.post("/don-vi/BVDK/nhiem-vu", data={**good, "t_pi": PI})
    assert refused.status_code == 403
    assert f"{PI} is inactive and may not lead a new task" in refused.data.decode()
    assert f'<option value="{PI}">' not in refused.data.decode()  # not offered either
    assert snapshot(site) == before


# --- 4. a science session ---------------------------------------------------------------------
def test_a_unit_head_records_a_science_session_with_its_minutes(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    page = b.get("/don-vi/BVDK")
    assert 'id="session-form"' in page.data.decode()
    done = b.post("/don-vi/BVDK/sinh-hoat", content_type="multipart/form-data", data={
        "csrf_token": csrf(page.data), "s_date": "28/02/2025", "s_department": "Khoa Nội",
        "s_topic": "Cập nhật điều trị tăng huyết áp", "s_presenter_email": PI,
        "s_attendance": "35", "file": (io.BytesIO(PDF), "bien-ban.pdf")})
    assert done.status_code == 302, done.data.decode()
    [row] = site.app.engine.list_sessions(site.app.config.scheduler.sessions, unit_code="BVDK")
    assert (row["held_on"], row["department"], row["presenter_name"], row["attendance"]) == (
        "2025-02-28", "Khoa Nội", "Nguyễn Thị Hoa", 35)
    assert row["presenter_is_pi"] and row["presenter_task_id"] == tasks["mine"]
    assert (row["recorded_by"], row["acting_as"]) == ("web", HEAD)
    assert Path(row["minutes_path"]).read_bytes() == PDF
    shown = b.get("/don-vi/BVDK").data.decode()
    assert "28/02/2025" in shown and "Cập nhật điều trị tăng huyết áp" in shown


def test_a_session_refuses_each_bad_input_beside_its_field_and_saves_nothing(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    token = csrf(b.get("/don-vi/BVDK").data)
    good: dict[str, Any] = {"csrf_token": token, "s_date": "28/02/2025", "s_topic": "Chủ đề",
                            "s_presenter_email": PI, "s_attendance": "20"}
    before = snapshot(site)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"s_date": "32/01/2025"}, "s_date", "32/01/2025"),
        ({"s_date": "10/03/2025"}, "s_date", "is in the future"),
        ({"s_topic": ""}, "s_topic", "--topic is empty"),
        ({"s_presenter_email": "hoa"}, "s_presenter_email", "invalid --presenter-email"),
        ({"s_attendance": "nhiều"}, "s_attendance", "expected a whole number"),
        ({"s_attendance": "-3"}, "s_attendance", "--attendance -3: expected a whole number 0–"),
        ({"file": (io.BytesIO(EXE), "bien-ban.pdf")}, "s_file", "is not a PDF"),
    ]
    for change, field, message in cases:
        answer = b.post("/don-vi/BVDK/sinh-hoat", content_type="multipart/form-data",
                        data={**good, **change})
        assert answer.status_code == 400, change
        assert message in error_beside(answer.data, field), change
    assert snapshot(site) == before
    assert b.post("/don-vi/BVDK/sinh-hoat", data=good).status_code == 302
    twice = b.post("/don-vi/BVDK/sinh-hoat", data=good)
    assert twice.status_code == 403 and "already has a session on 28/02/2025" in \
        twice.data.decode()


# --- another unit, and CSRF -------------------------------------------------------------------
def test_a_unit_head_cannot_see_or_post_another_units_forms(
        site: Site, tasks: dict[str, int]) -> None:
    theirs = tasks["theirs"]
    site.app.engine.fire(theirs, "approve_outline", actor_email=OFFICE, now=site.clock.now())
    site.app.engine.fire(theirs, "start", actor_email=OTHER_HEAD, now=site.clock.now())
    b = sign_in(site, HEAD)
    token = csrf(b.get("/don-vi/BVDK").data)
    before = snapshot(site)
    assert b.get("/don-vi/TTYT").status_code == 404
    assert b.get(f"/nhiem-vu/{theirs}").status_code == 404
    assert b.post("/don-vi/TTYT/nhiem-vu", data={
        "csrf_token": token, "t_title": "Lấn sang đơn vị khác", "t_level": "unit",
        "t_year": "2025", "t_pi": OTHER_PI}).status_code == 404
    assert b.post("/don-vi/TTYT/sinh-hoat", data={
        "csrf_token": token, "s_date": "28/02/2025", "s_topic": "Chủ đề",
        "s_presenter_email": OTHER_PI}).status_code == 404
    assert b.post(f"/nhiem-vu/{theirs}", content_type="multipart/form-data", data={
        "csrf_token": token, "event": "extend", "reason": "x", "f_until": "31/01/2026",
        "file": (io.BytesIO(PDF), "x.pdf")}).status_code == 404
    # an investigator has no unit page: the unit's head and the office keep its register
    assert sign_in(site, PI).get("/don-vi/BVDK").status_code == 404
    assert snapshot(site) == before


def test_the_units_forms_refuse_a_post_without_a_valid_csrf_token(
        site: Site, tasks: dict[str, int]) -> None:
    in_progress(site, tasks["mine"])
    b = sign_in(site, HEAD)
    b.get("/don-vi/BVDK")
    before = snapshot(site)
    for token in (None, "giả-mạo"):
        extra = {"csrf_token": token} if token else {}
        for path, data in [
            ("/don-vi/BVDK/nhiem-vu", {"t_title": "Đề tài", "t_level": "unit", "t_pi": PI}),
            ("/don-vi/BVDK/sinh-hoat", {"s_date": "28/02/2025", "s_topic": "Chủ đề",
                                        "s_presenter_email": PI}),
            (f"/nhiem-vu/{tasks['mine']}", {"event": "extend", "reason": "x",
                                            "f_until": "31/01/2026"}),
        ]:
            assert b.post(path, data={**data, **extra}).status_code == 400, path
    assert snapshot(site) == before


def test_the_unit_page_is_in_english_too_with_dates_typed_as_day_month_year(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    text = b.get("/don-vi/BVDK?lang=en").data.decode()
    assert "Record a science session held" in text and "Register a new task" in text
    assert 'id="s_date" name="s_date" value="" inputmode="numeric" placeholder="dd/mm/yyyy"' \
        in text
    # the year offered is the site clock's (03/03/2025), not the machine's
    assert 'id="t_year" name="t_year" value="2025"' in text


def test_a_reports_document_is_not_sent_through_an_event_form_without_its_number_and_date(
        site: Site, tasks: dict[str, int]) -> None:
    from tests.web.webfixtures import obligation

    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    b = sign_in(site, HEAD)
    before = snapshot(site)
    answer = post_event(b, report, "submit", file=(io.BytesIO(PDF), "bao-cao.pdf"))
    assert answer.status_code == 400
    assert "give its number and date" in html.unescape(answer.data.decode())
    assert snapshot(site) == before


def test_the_investigator_answers_the_revision_request_through_the_link_in_its_mail(
        site: Site, tasks: dict[str, int]) -> None:
    from tests.web.webfixtures import links_in

    mine = tasks["mine"]
    site.app.engine.fire(mine, "request_revision", actor_email=OFFICE, now=site.clock.now(),
                         reason="Bổ sung cỡ mẫu")
    site.deliver()
    [path] = [p for m in site.mails() if PI in str(m["To"]) for p in links_in(m)
              if p.startswith("/lien-ket/")]
    b = site.browser()  # not signed in: the link is the person's for this one item
    page = b.get(path)
    assert 'id="file-resubmit"' in page.data.decode()
    done = b.post(path, content_type="multipart/form-data", data={
        "csrf_token": csrf(page.data), "event": "resubmit", "reason": "Đã bổ sung",
        "file": (io.BytesIO(PDF), "de-cuong-sua.pdf")})
    assert done.status_code == 302, done.data.decode()
    [doc] = site.app.submissions.of_task(mine)
    assert (doc["sender_email"], doc["note"], doc["file"]["name"]) == (
        PI, "Đã bổ sung", "de-cuong-sua.pdf")
    assert site.app.engine.task_detail(mine, now=site.clock.now())["state"] == "proposed"


def test_on_a_provincial_task_the_investigator_asks_for_an_extension_the_office_grants(
        site: Site, tasks: dict[str, int]) -> None:
    from sqlalchemy import select

    from storage.outbox import OutboxMessage

    e, now = site.app.engine, site.clock.now()
    task = e.create_task(unit_code="BVDK", level="province", pi_email=PI, year=2025, now=now,
                         title="Nghiên cứu mô hình quản lý đái tháo đường tại tuyến huyện")
    e.fire(task, "approve_outline", actor_email=OFFICE, now=now)
    e.fire(task, "start", actor_email=HEAD, now=now)
    before = e.task_detail(task, now=now)
    b = sign_in(site, PI)
    page = b.get(f"/nhiem-vu/{task}").data.decode()
    assert 'id="event-request_extension"' in page and 'id="event-extend"' not in page
    bad = post_event(b, task, "request_extension", reason="Chờ số liệu", f_proposed_until="")
    assert bad.status_code == 400 and "proposed_until" in error_beside(
        bad.data, "f_proposed_until-request_extension")
    done = post_event(b, task, "request_extension", reason="Chờ số liệu quý IV",
                      f_proposed_until="30/06/2027")
    assert done.status_code == 302, done.data.decode()
    after = e.task_detail(task, now=site.clock.now())
    # asked, not granted: the state, the deadline and its timers are as they were
    assert (after["state"], after["deadlines"], after["extra"]) == (
        before["state"], before["deadlines"], before["extra"])
    last = after["history"][-1]
    assert (last["event"], last["actor"], last["data"]) == (
        "request_extension", PI, {"proposed_until": "2027-06-30"})
    with site.app.sessions() as s:
        kinds = list(s.scalars(select(OutboxMessage.kind).where(OutboxMessage.task_id == task)))
    assert "extension_requested" in kinds
    office = sign_in(site, OFFICE)
    assert 'id="event-extend"' in office.get(f"/nhiem-vu/{task}").data.decode()
    granted = post_event(office, task, "extend", reason="Đồng ý", f_until="30/06/2027")
    assert granted.status_code == 302
    assert [d["due_on"] for d in e.task_detail(task, now=site.clock.now())["deadlines"]
            if d["open"]] == ["2027-06-30"]


# --- the office, on a unit's behalf -----------------------------------------------------------
def test_the_office_records_a_revised_outline_that_came_on_paper_on_the_units_behalf(
        site: Site, tasks: dict[str, int]) -> None:
    mine = tasks["mine"]
    site.app.engine.fire(mine, "request_revision", actor_email=OFFICE, now=site.clock.now(),
                         reason="Bổ sung cỡ mẫu")
    b = sign_in(site, OFFICE)
    page = b.get(f"/nhiem-vu/{mine}")
    text = page.data.decode()
    # the office may not resubmit itself: it is offered only as the unit's, recorded for it
    assert 'id="event-resubmit"' not in text and 'id="behalf-resubmit"' in text
    done = b.post(f"/nhiem-vu/{mine}/thay-mat", content_type="multipart/form-data", data={
        "csrf_token": csrf(page.data), "event": "resubmit", "reason": "Đề cương sửa theo góp ý",
        "channel": "paper", "file": (io.BytesIO(PDF), "de-cuong-scan.pdf")})
    assert done.status_code == 302, done.data.decode()
    detail = site.app.engine.task_detail(mine, now=site.clock.now())
    last = detail["history"][-1]
    assert (detail["state"], last["event"], last["actor"], last["recorded_by"]) == (
        "proposed", "resubmit", PI, OFFICE)
    [doc] = site.app.submissions.of_task(mine)
    assert (doc["channel"], doc["sender_email"], doc["recorded_by"]) == (
        "paper", PI, "Phòng Nghiệp vụ Y")
    shown = b.get(f"/nhiem-vu/{mine}").data.decode()
    assert "ghi nhận bởi pnvy@syt.example.vn (Phòng Nghiệp vụ Y) thay mặt đơn vị BVDK" in shown


def test_only_the_office_records_on_a_units_behalf_and_a_refusal_changes_nothing(
        site: Site, tasks: dict[str, int]) -> None:
    mine = tasks["mine"]
    site.app.engine.fire(mine, "request_revision", actor_email=OFFICE, now=site.clock.now(),
                         reason="Bổ sung cỡ mẫu")
    before = snapshot(site)
    head = sign_in(site, HEAD)
    page = head.get(f"/nhiem-vu/{mine}")
    assert 'id="behalf-' not in page.data.decode()
    assert head.post(f"/nhiem-vu/{mine}/thay-mat", data={
        "csrf_token": csrf(page.data), "event": "resubmit"}).status_code == 404
    office = sign_in(site, OFFICE)
    page = office.get(f"/nhiem-vu/{mine}")
    bad = office.post(f"/nhiem-vu/{mine}/thay-mat", content_type="multipart/form-data", data={
        "csrf_token": csrf(page.data), "event": "resubmit", "channel": "fax",
        "file": (io.BytesIO(PDF), "de-cuong.pdf")})
    assert bad.status_code == 400
    assert "channel 'fax'" in error_beside(bad.data, "channel-resubmit")
    assert office.post(f"/nhiem-vu/{mine}/thay-mat", data={
        "event": "resubmit"}).status_code == 400  # no CSRF token
    assert snapshot(site) == before
