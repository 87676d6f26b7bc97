"""Search: by title (Vietnamese marks or not), investigator, unit, decision number; each person
within what they may see; a blank or too long query. Through the real pages, on both databases,
and `nckh task search` on the same function."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest

from engine.search import fold, terms
from tests.acceptance.cli import nckh_in_process
from tests.web.webfixtures import HEAD, OFFICE, OTHER_HEAD, PI, Site, sign_in
from workflows.errors import InvalidData

DIABETES_MINE = "Yếu tố nguy cơ bệnh Đái tháo đường typ 2 ở người cao tuổi"
DIABETES_THEIRS = "Quản lý đái tháo đường tại trạm y tế xã"


@pytest.fixture
def found(site: Site, tasks: dict[str, int]) -> dict[str, int]:
    """The two units' tasks, one more on diabetes in each, and a decision number recorded on
    BVDK's diabetes topic."""
    e, now = site.app.engine, site.clock.now()
    mine = e.create_task(unit_code="BVDK", level="unit", pi_email=PI, year=2025, now=now,
                         title=DIABETES_MINE)
    theirs = e.create_task(unit_code="TTYT", level="unit", pi_email="nam@ttyt.example.vn",
                           year=2025, now=now, title=DIABETES_THEIRS)
    e.fire(mine, "approve_outline", actor_email=OFFICE, now=now,
           data={"decision_no": "125/QĐ-SYT", "decided_on": "2025-03-01"})
    return {**tasks, "diabetes_mine": mine, "diabetes_theirs": theirs}


def ids(page: str) -> list[int]:
    table = page.split('id="results"', 1)[1] if 'id="results"' in page else ""
    return [int(i) for i in re.findall(r'href="/nhiem-vu/(\d+)"', table)]


def test_folding_drops_case_and_every_vietnamese_mark_including_the_d_with_stroke() -> None:
    assert fold("  ĐÁI Tháo   ĐƯỜNG ") == "dai thao duong"
    assert fold("Nguyễn Thị Hoa") == "nguyen thi hoa"
    assert fold(unicodedata.normalize("NFD", "Đái tháo đường")) == "dai thao duong"  # decomposed
    assert terms("") == [] and terms("   ") == []
    with pytest.raises(InvalidData, match="at most 200"):
        terms("x" * 201)


def test_the_office_finds_a_title_typed_without_marks_in_every_unit(
        site: Site, found: dict[str, int]) -> None:
    office = sign_in(site, OFFICE)
    page = office.get("/tim-kiem?q=dai+thao+duong").data.decode()
    assert sorted(ids(page)) == sorted([found["diabetes_mine"], found["diabetes_theirs"]])
    assert "Đái tháo đường" in page and "Tìm thấy 2 mục." in page
    # and with the marks, any case; every word must match somewhere
    assert ids(office.get("/tim-kiem?q=ĐÁI THÁO ĐƯỜNG").data.decode()) != []
    assert ids(office.get("/tim-kiem?q=tháo+đường+ung+thư").data.decode()) == []


def test_the_office_finds_by_investigator_by_unit_and_by_decision_number(
        site: Site, found: dict[str, int]) -> None:
    office = sign_in(site, OFFICE)
    by_pi = ids(office.get("/tim-kiem?q=nguyen thi hoa").data.decode())
    assert sorted(by_pi) == sorted([found["mine"], found["diabetes_mine"]])
    by_code = ids(office.get("/tim-kiem?q=ttyt").data.decode())
    assert sorted(by_code) == sorted([found["theirs"], found["diabetes_theirs"]])
    by_name = ids(office.get("/tim-kiem?q=Lập Thạch").data.decode())
    assert sorted(by_name) == sorted(by_code)
    page = office.get("/tim-kiem?q=125/qd-syt").data.decode()
    assert ids(page) == [found["diabetes_mine"]] and "125/QĐ-SYT" in page
    # words from two fields at once: the unit and the title
    assert ids(office.get("/tim-kiem?q=bvdk+đái+tháo").data.decode()) == [found["diabetes_mine"]]


def test_each_row_shows_its_state_and_deadline_dd_mm_yyyy_and_links_to_its_page(
        site: Site, found: dict[str, int]) -> None:
    office = sign_in(site, OFFICE)
    page = office.get("/tim-kiem?q=tăng huyết áp").data.decode()
    assert ids(page) == [found["mine"]]
    assert "Đã đề xuất, chờ xét duyệt đề cương" in page and "30/04/2025" in page
    assert office.get(f"/nhiem-vu/{found['mine']}").status_code == 200


def test_a_unit_head_finds_only_their_units_tasks(site: Site, found: dict[str, int]) -> None:
    head = sign_in(site, HEAD)
    assert ids(head.get("/tim-kiem?q=dai thao duong").data.decode()) == [found["diabetes_mine"]]
    assert ids(head.get("/tim-kiem?q=ttyt").data.decode()) == []
    assert ids(head.get("/tim-kiem?q=Phạm Văn Nam").data.decode()) == []
    other = sign_in(site, OTHER_HEAD)
    assert ids(other.get("/tim-kiem?q=125/QĐ").data.decode()) == []
    assert ids(other.get("/tim-kiem?q=đường").data.decode()) == [found["diabetes_theirs"]]


def test_an_investigator_finds_only_their_own_tasks(site: Site, found: dict[str, int]) -> None:
    pi = sign_in(site, PI)
    assert ids(pi.get("/tim-kiem?q=đường").data.decode()) == [found["diabetes_mine"]]


def test_a_blank_query_finds_nothing_and_says_what_to_type_and_a_long_one_is_refused(
        site: Site, found: dict[str, int]) -> None:
    office = sign_in(site, OFFICE)
    for path in ("/tim-kiem", "/tim-kiem?q=", "/tim-kiem?q=+++"):
        answer = office.get(path)
        assert answer.status_code == 200 and ids(answer.data.decode()) == []
        assert "Nhập một vài chữ để tìm" in answer.data.decode()
    long = office.get("/tim-kiem?q=" + "a" * 201)
    text = long.data.decode()
    assert long.status_code == 400 and 'id="q-error"' in text and "at most 200" in text
    assert "Không tìm thấy mục nào cho “ung thư”" in office.get("/tim-kiem?q=ung thư").data.decode()


def test_the_search_box_is_in_every_signed_in_pages_header_and_needs_a_sign_in(
        site: Site, found: dict[str, int]) -> None:
    assert 'action="/tim-kiem"' in sign_in(site, HEAD).get(
        "/trang-chu", follow_redirects=True).data.decode()
    anonymous = site.browser().get("/tim-kiem?q=dai")
    assert anonymous.status_code == 302 and "/dang-nhap" in anonymous.headers["Location"]


def test_the_cli_searches_through_the_same_function(site: Site, found: dict[str, int]) -> None:
    env = {"NCKH_DATA_DIR": str(site.data_dir), "NCKH_DATABASE_URL": site.app.settings.database_url,
           "NCKH_NOW": "2025-03-04T09:00", "NCKH_WEB_SECRET": "s" * 40}
    ran = nckh_in_process(env, "task", "search", "dai thao duong", "--json")
    assert ran.returncode == 0, ran.stderr
    rows = json.loads(ran.stdout)["rows"]
    assert sorted(r["id"] for r in rows) == sorted([found["diabetes_mine"],
                                                    found["diabetes_theirs"]])
    assert [r["decisions"] for r in rows if r["id"] == found["diabetes_mine"]] == [["125/QĐ-SYT"]]
    shown = nckh_in_process(env, "task", "search", "125/QĐ", "--unit", "BVDK").stdout
    assert "125/QĐ-SYT" in shown and DIABETES_MINE[:20] in shown
    assert nckh_in_process(env, "task", "search", "đường", "--unit", "TTYT",
                           "--json").stdout.count('"id"') == 1
