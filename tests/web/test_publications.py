"""The unit's publications register on the web: the form, its errors beside the fields, the file,
and who may see and add what (another unit's people: "not found", nothing saved)."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import func, select

from storage.publications import Publication
from tests.web.webfixtures import EXE, HEAD, OFFICE, OTHER_HEAD, PDF, PI, Site, csrf, sign_in

PAGE = "/don-vi/BVDK/cong-bo"


def count(site: Site) -> int:
    with site.app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Publication)) or 0)


def form(page: bytes, **change: object) -> dict[str, object]:
    values: dict[str, object] = {
        "csrf_token": csrf(page), "title": "Hiệu quả kiểm soát huyết áp tại cộng đồng",
        "authors": "Nguyễn Thị Hoa, Trần Văn Minh", "venue_kind": "journal_domestic",
        "venue_name": "Tạp chí Y học Việt Nam", "published_on": "20/02/2025", "url": "",
        "doi": "10.51298/vmj.v547i1.9", "task": ""}
    values.update(change)
    return values


def post(b: FlaskClient, **change: object) -> tuple[int, str]:
    page = b.get(PAGE)
    assert page.status_code == 200, page.data.decode()
    got = b.post(PAGE, data=form(page.data, **change), content_type="multipart/form-data")
    return got.status_code, got.data.decode()


def test_a_unit_head_adds_a_publication_from_the_unit_page_and_sees_it_listed(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    unit_page = b.get("/don-vi/BVDK").data.decode()
    assert f'href="{PAGE}"' in unit_page and "Bài báo, công bố của đơn vị" in unit_page
    status, _ = post(b, task=str(tasks["mine"]))
    assert status == 302
    text = b.get(PAGE + "?done=1").data.decode()
    assert "Đã ghi nhận bài báo / công bố." in text
    assert "Hiệu quả kiểm soát huyết áp tại cộng đồng" in text and "20/02/2025" in text
    assert "Tạp chí trong nước" in text and "DOI 10.51298/vmj.v547i1.9" in text
    assert f'href="/nhiem-vu/{tasks["mine"]}"' in text
    [row] = site.app.engine.list_publications()
    assert (row["unit"], row["task_id"], row["recorded_by"], row["acting_as"]) == (
        "BVDK", tasks["mine"], "web", HEAD)


def test_a_wrong_field_is_shown_beside_it_with_the_values_kept_and_nothing_saved(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    for change, field, message in (
            ({"published_on": "30/02/2025"}, "published_on",
             "date: invalid date &#39;30/02/2025&#39;, expected dd/mm/yyyy"),
            ({"published_on": "04/03/2025"}, "published_on",
             "date 04/03/2025 is in the future"),
            ({"title": " "}, "title", "title is empty"),
            ({"venue_name": ""}, "venue_name", "venue: name the journal"),
            ({"venue_kind": "unit_website", "venue_name": ""}, "url",
             "URL: a publication on the unit&#39;s website needs its address"),
            ({"doi": "vmj-547"}, "doi", "DOI &#39;vmj-547&#39;: expected 10.NNNN/")):
        status, text = post(b, **change)
        assert status == 400, change
        assert '<div class="field has-error">' in text
        block = text.split(f'<label for="{field}">')[1].split("</div>")[0]
        assert message in block, (field, block)
        assert 'value="Nguyễn Thị Hoa, Trần Văn Minh"' in text  # what was typed stays
        assert f'<a href="#{field}">' in text  # the summary links to the field
    assert count(site) == 0


def test_the_same_article_twice_is_said_on_the_form(site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    assert post(b)[0] == 302
    status, text = post(b)
    assert status == 409 and "unit BVDK already has" in text
    assert count(site) == 1


def test_another_units_head_and_the_council_get_not_found_and_save_nothing(
        site: Site, tasks: dict[str, int]) -> None:
    site.app.engine.add_person(email="hoidong@syt.example.vn", name="Hội đồng KHCN",
                               role="council", now=site.clock.now())
    for who in (OTHER_HEAD, "hoidong@syt.example.vn"):
        b = sign_in(site, who)
        assert b.get(PAGE).status_code == 404
        own = b.get("/don-vi/TTYT/cong-bo")
        assert own.status_code == (200 if who == OTHER_HEAD else 404)
        token = csrf(own.data if own.status_code == 200 else b.get("/trang-chu").data)
        got = b.post(PAGE, data={"csrf_token": token, "title": "X", "authors": "Y",
                                 "venue_kind": "other", "venue_name": "Z",
                                 "published_on": "01/02/2025"})
        assert got.status_code == 404
    assert count(site) == 0


def test_an_investigator_adds_for_their_own_task_and_may_not_link_another_units(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, PI)
    home = b.get("/trang-chu").data.decode()
    assert f'href="{PAGE}"' in home
    page = b.get(PAGE).data.decode()
    assert f'<option value="{tasks["mine"]}"' in page
    assert f'<option value="{tasks["theirs"]}"' not in page
    status, text = post(b, task=str(tasks["theirs"]))
    assert status == 403
    assert f"task {tasks['theirs']} belongs to unit TTYT, not BVDK" in text  # the engine's words
    assert count(site) == 0
    assert post(b, task=str(tasks["mine"]))[0] == 302
    assert count(site) == 1


def test_a_form_without_its_csrf_token_is_refused_and_saves_nothing(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    got = b.post(PAGE, data={"title": "X", "authors": "Y", "venue_kind": "other",
                             "venue_name": "Z", "published_on": "01/02/2025"})
    assert got.status_code == 400
    assert count(site) == 0


def test_the_article_file_is_kept_and_downloaded_by_the_unit_and_the_office_only(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, HEAD)
    status, text = post(b, file=(io.BytesIO(EXE), "bai-bao.pdf"))
    assert status == 400 and "is not a PDF, DOCX or XLSX file" in text
    assert count(site) == 0
    assert post(b, file=(io.BytesIO(PDF), "bai-bao.pdf"))[0] == 302
    [row] = site.app.engine.list_publications()
    path = f"/cong-bo/tep/{row['file']['id']}"
    assert path in b.get(PAGE).data.decode()
    got = b.get(path)
    assert got.status_code == 200 and got.data == PDF
    assert "attachment" in got.headers["Content-Disposition"]
    assert sign_in(site, OFFICE).get(path).status_code == 200
    assert sign_in(site, OTHER_HEAD).get(path).status_code == 404


def test_the_office_adds_for_any_unit_and_the_page_speaks_english_on_request(
        site: Site, tasks: dict[str, int]) -> None:
    b = sign_in(site, OFFICE)
    page = b.get("/don-vi/TTYT/cong-bo")
    assert page.status_code == 200
    assert f'<option value="{tasks["theirs"]}"' in page.data.decode()
    got = b.post("/don-vi/TTYT/cong-bo", data=form(page.data, task=str(tasks["theirs"]),
                                                   venue_kind="journal_international",
                                                   venue_name="BMC Public Health"))
    assert got.status_code == 302
    [row] = site.app.engine.list_publications(unit_code="TTYT")
    assert (row["task_id"], row["acting_as"]) == (tasks["theirs"], OFFICE)
    english = b.get("/don-vi/TTYT/cong-bo?lang=en").data.decode()
    assert "Add an article / publication" in english and "International journal" in english
