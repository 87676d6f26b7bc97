"""The units' side: their page, submitting a report with its file, resubmitting, downloads."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.webmodels import StoredFile, Submission
from tests.web.webfixtures import (
    EXE,
    HEAD,
    OFFICE,
    OTHER_HEAD,
    PDF,
    Site,
    csrf,
    obligation,
    sign_in,
    submission_form,
)
from workflows.clock import DEFAULT_TZ


def counts(site: Site) -> tuple[int, int]:
    with site.app.sessions() as s:
        return (int(s.scalar(select(func.count()).select_from(Submission)) or 0),
                int(s.scalar(select(func.count()).select_from(StoredFile)) or 0))


def state(site: Site, task_id: int) -> str:
    return str(site.app.engine.task_detail(task_id, now=site.clock.now())["state"])


def test_the_unit_page_lists_this_years_items_overdue_first_with_dates_and_what_is_next(
        site: Site, tasks: dict[str, int]) -> None:
    site.clock.set(dt.datetime(2025, 7, 20, 9, 0, tzinfo=DEFAULT_TZ))
    late = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    later = obligation(site, "BVDK", HEAD, dt.date(2025, 12, 5), "Báo cáo tổng kết năm 2025")
    b = sign_in(site, HEAD)
    text = b.get("/trang-chu", follow_redirects=True).data.decode()
    assert "Bệnh viện Đa khoa tỉnh (BVDK)" in text
    assert "Khảo sát tiêm chủng" not in text  # another unit's task
    rows = re.findall(r"<tr class=\"(overdue)?\">\s*<td[^>]*>(\d+)</td>", text)
    # the topic due before 30/4 and the report due 7/7 are overdue: first, oldest first
    assert [(c, int(i)) for c, i in rows] == [("overdue", tasks["mine"]), ("overdue", late),
                                              ("", later)]
    assert "07/07/2025" in text and "05/12/2025" in text
    # what is expected next is each state's deadline, never the cancel the head may also fire
    nexts = re.findall(r'<td data-label="Việc cần làm tiếp">([^<]*)</td>', text)
    assert nexts == ["Báo cáo kết quả xét duyệt đề cương", "Hạn gửi báo cáo", "Hạn gửi báo cáo"]
    assert "Hủy đề tài" not in text


def test_the_unit_page_offers_only_the_units_active_investigators_and_head(
        site: Site, tasks: dict[str, int]) -> None:
    e, now = site.app.engine, site.clock.now()
    e.add_person(email="cu@bvdk.example.vn", name="Đã nghỉ", role="pi", unit_code="BVDK",
                 now=now)
    e.deactivate_person("cu@bvdk.example.vn", reason="Nghỉ hưu", now=now)
    for who in (HEAD, OFFICE):
        text = sign_in(site, who).get("/don-vi/bvdk").data.decode()
        offered = re.findall(r'<option value="([^"]+@[^"]+)"', text)
        assert offered == sorted([HEAD, "hoa@bvdk.example.vn"]), (who, offered)


def test_a_unit_page_runs_as_many_statements_for_two_units_as_for_twelve(
        site: Site, tasks: dict[str, int]) -> None:
    from sqlalchemy import event

    from engine.directory import UnitInput

    b = sign_in(site, OFFICE)
    b.get("/don-vi/BVDK")  # the first reads the workflow definitions, once per process
    run: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        run.append(statement)

    def statements() -> int:
        run.clear()
        event.listen(site.app.db, "before_cursor_execute", count)
        try:
            assert b.get("/don-vi/BVDK").status_code == 200
        finally:
            event.remove(site.app.db, "before_cursor_execute", count)
        return len(run)

    two = statements()
    e, now = site.app.engine, site.clock.now()
    for i in range(10):
        e.add_unit(UnitInput(code=f"DV{i}", name=f"Đơn vị {i}", head_name=f"Giám đốc {i}",
                             head_email=f"gd{i}@dv{i}.example.vn"), now=now)
        e.add_person(email=f"cn{i}@bvdk.example.vn", name=f"Chủ nhiệm {i}", role="pi",
                     unit_code="BVDK", now=now)
        e.create_task(unit_code="BVDK", level="unit", pi_email=f"cn{i}@bvdk.example.vn",
                      year=2025, now=now, title=f"Đề tài {i}")
    assert statements() == two


def test_a_unit_head_submits_a_report_with_its_pdf_and_may_download_it(
        site: Site, tasks: dict[str, int]) -> None:
    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    b = sign_in(site, HEAD)
    page = b.get(f"/nhiem-vu/{report}")
    assert 'id="submit-form"' in page.data.decode()
    done = b.post(f"/nhiem-vu/{report}/nop", data=submission_form(page.data),
                  content_type="multipart/form-data")
    assert done.status_code == 302, done.data.decode()
    assert state(site, report) == "submitted"
    [sub] = site.app.submissions.of_task(report)
    assert (sub["doc_number"], sub["doc_date"], sub["channel"]) == ("45/BC-BVĐK", "2025-06-28",
                                                                    "web")
    assert sub["file"]["type"] == "application/pdf" and sub["file"]["name"] == "bao-cao.pdf"
    stored = site.data_dir / "files" / sub["file"]["sha256"][:2] / sub["file"]["sha256"]
    assert stored.read_bytes() == PDF and oct(stored.stat().st_mode & 0o777) == "0o600"
    item = b.get(f"/nhiem-vu/{report}").data.decode()
    assert "45/BC-BVĐK, 28/06/2025" in item
    got = b.get(f"/tep/{sub['file']['id']}")
    assert got.status_code == 200 and got.data == PDF
    assert "attachment" in got.headers["Content-Disposition"]
    detail = site.app.engine.task_detail(report, now=site.clock.now())
    assert detail["history"][-1]["data"] == {"reference": "45/BC-BVĐK"}


@pytest.mark.parametrize(("name", "content", "field", "message"), [
    ("bao-cao.pdf", EXE, "file", "is not a PDF, DOCX or XLSX file (its content is exe)"),
    ("../../etc/bao-cao.pdf", PDF, "file", "may not contain '/', '\\' or '..'"),
    ("bao-cao.pdf", PDF + b"0" * (1024 * 1024), "file", "more than the limit of 1 MB"),
    ("", b"", "file", "choose a PDF, DOCX or XLSX file"),
])
def test_these_uploads_are_refused_beside_the_field_and_nothing_is_saved(
        db_url: str, tmp_path: Path, name: str, content: bytes, field: str,
        message: str) -> None:
    site = Site(db_url, tmp_path, NCKH_UPLOAD_LIMIT_MB="1")
    try:
        site.province()
        report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
        b = sign_in(site, HEAD)
        page = b.get(f"/nhiem-vu/{report}")
        answer = b.post(f"/nhiem-vu/{report}/nop", content_type="multipart/form-data",
                        data=submission_form(page.data, name=name, content=content))
        text = answer.data.decode()
        assert answer.status_code == 400
        assert re.search(r'class="field-error">[^<]*' + re.escape(
            message.replace("'", "&#39;")), text), text
        assert state(site, report) == "requested" and counts(site) == (0, 0)
        assert not (tmp_path / "files").exists()
    finally:
        site.close()


@pytest.mark.parametrize(("number", "date", "field", "message"), [
    ("", "28/06/2025", "doc_number", "document number is empty"),
    ("45/BC", "2025-06-28", "doc_date", "expected dd/mm/yyyy"),
    ("45/BC", "31/02/2025", "doc_date", "expected dd/mm/yyyy"),
])
def test_a_bad_number_or_date_is_refused_beside_its_field(
        site: Site, tasks: dict[str, int], number: str, date: str, field: str,
        message: str) -> None:
    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    b = sign_in(site, HEAD)
    page = b.get(f"/nhiem-vu/{report}")
    answer = b.post(f"/nhiem-vu/{report}/nop", content_type="multipart/form-data",
                    data=submission_form(page.data, number=number, date=date))
    assert answer.status_code == 400
    text = answer.data.decode()
    assert f'<a href="#{field}">' in text and message in text
    assert state(site, report) == "requested" and counts(site) == (0, 0)


def test_after_return_for_changes_the_unit_resubmits_and_both_versions_are_kept(
        site: Site, tasks: dict[str, int]) -> None:
    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    b = sign_in(site, HEAD)
    b.post(f"/nhiem-vu/{report}/nop", content_type="multipart/form-data",
           data=submission_form(b.get(f"/nhiem-vu/{report}").data))
    site.app.engine.fire(report, "return_for_changes", actor_email=OFFICE,
                         reason="Thiếu phụ lục số liệu", now=site.clock.now())
    assert state(site, report) == "requested"
    site.clock.advance(dt.timedelta(minutes=10))
    again = b.post(f"/nhiem-vu/{report}/nop", content_type="multipart/form-data",
                   data=submission_form(b.get(f"/nhiem-vu/{report}").data, number="52/BC-BVĐK",
                                        date="02/07/2025", content=PDF + b"%v2\n"))
    assert again.status_code == 302
    subs = site.app.submissions.of_task(report)
    assert [s["doc_number"] for s in subs] == ["45/BC-BVĐK", "52/BC-BVĐK"]
    assert subs[0]["file"]["sha256"] != subs[1]["file"]["sha256"]
    assert state(site, report) == "submitted"


def test_a_unit_head_who_changes_an_id_in_the_url_cannot_see_or_act_on_another_units_item(
        site: Site, tasks: dict[str, int]) -> None:
    theirs = obligation(site, "TTYT", OTHER_HEAD, dt.date(2025, 7, 7))
    other = sign_in(site, OTHER_HEAD)
    other.post(f"/nhiem-vu/{theirs}/nop", content_type="multipart/form-data",
               data=submission_form(other.get(f"/nhiem-vu/{theirs}").data))
    [sub] = site.app.submissions.of_task(theirs)
    b = sign_in(site, HEAD)
    token = csrf(b.get("/trang-chu", follow_redirects=True).data)
    before = site.app.engine.task_detail(theirs, now=site.clock.now())["version"]
    for task_id in (theirs, tasks["theirs"]):
        assert b.get(f"/nhiem-vu/{task_id}").status_code == 404
        assert b.post(f"/nhiem-vu/{task_id}", data={
            "csrf_token": token, "event": "cancel", "reason": "x"}).status_code == 404
        assert b.post(f"/nhiem-vu/{task_id}/nop", content_type="multipart/form-data",
                      data=submission_form(b.get("/trang-chu", follow_redirects=True).data)
                      ).status_code == 404
    assert b.get("/don-vi/TTYT").status_code == 404
    assert b.get(f"/tep/{sub['file']['id']}").status_code == 404
    assert b.get("/nhiem-vu/999999").status_code == 404
    assert site.app.engine.task_detail(theirs, now=site.clock.now())["version"] == before
    assert len(site.app.submissions.of_task(theirs)) == 1


def test_a_report_is_submitted_through_the_personal_link_without_signing_in(
        site: Site, tasks: dict[str, int]) -> None:
    from storage.directory import person_by_email

    report = obligation(site, "BVDK", HEAD, dt.date(2025, 7, 7))
    with site.app.sessions() as s:
        head_id = person_by_email(s, HEAD).id  # type: ignore[union-attr]
    path = site.app.links.action_url(head_id, report).removeprefix("http://nckh.test")
    b = site.browser()
    page = b.get(path)
    assert 'id="submit-form"' in page.data.decode()
    done = b.post(path + "/nop", content_type="multipart/form-data",
                  data=submission_form(page.data))
    assert done.status_code == 302 and done.headers["Location"].endswith("?done=1")
    assert state(site, report) == "submitted"
    assert site.app.submissions.of_task(report)[0]["sender_email"] == HEAD
    forged = b.post(path[:-3] + "xyz/nop", content_type="multipart/form-data",
                    data=submission_form(page.data))
    assert forged.status_code == 403 and len(site.app.submissions.of_task(report)) == 1
