"""The publications register on real databases: recording, who may record and see what, the
`publish` event's URL entering the register, and `nckh publication` run in-process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.app import App, build
from engine.directory_log import Operator
from engine.publications import PublicationInput
from storage.publications import Publication
from tests.acceptance.cli import cli_env, nckh_in_process
from tests.conftest import local, make_settings
from tests.scheduling import OFFICE, head_email, small_province
from workflows.errors import InputError, NotAllowed, NotFound, Refused

PI = "pi.a@syt.example.vn"
OTHER_PI = "pi.b@syt.example.vn"


@pytest.fixture
def papp(db_url: str, tmp_path: Path) -> Iterator[App]:
    app = build(make_settings(db_url, tmp_path))
    small_province(app, local(2024, 12, 20), codes=("A", "B"))
    yield app
    app.close()


def article(unit: str | None = "A", title: str = "Hiệu quả giảm đau sau mổ", **kw: Any
            ) -> PublicationInput:
    values: dict[str, Any] = {"authors": "Lê Bình, Trần Thu", "venue_kind": "journal_domestic",
                              "published_on": dt.date(2025, 5, 15),
                              "venue_name": "Tạp chí Y học Việt Nam", **kw}
    return PublicationInput(unit_code=unit, title=title, **values)


def count(app: App) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Publication)) or 0)


def task_of(app: App, unit: str = "A", pi: str = PI) -> int:
    return app.engine.create_task(unit_code=unit, level="unit", title=f"Đề tài của {unit}",
                                  pi_email=pi, pi_name="ThS. Lê Bình", year=2025,
                                  now=local(2025, 2, 3, 9))


def test_a_publication_is_recorded_with_its_facts_and_listed(papp: App) -> None:
    task = task_of(papp)
    papp.engine.add_publication(
        article(task_id=task, url="https://vmj.vn/bai/1", doi="https://doi.org/10.51298/vmj.1"),
        now=local(2025, 5, 20, 9), operator=Operator("thu", OFFICE))
    [row] = papp.engine.list_publications(unit_code="A", year=2025)
    assert {k: row[k] for k in ("unit", "date", "title", "authors", "venue_kind", "venue_label",
                                "venue_name", "url", "doi", "task_id", "task_title",
                                "recorded_by", "acting_as")} == {
        "unit": "A", "date": "15/05/2025", "title": "Hiệu quả giảm đau sau mổ",
        "authors": "Lê Bình, Trần Thu", "venue_kind": "journal_domestic",
        "venue_label": "Tạp chí trong nước", "venue_name": "Tạp chí Y học Việt Nam",
        "url": "https://vmj.vn/bai/1", "doi": "10.51298/vmj.1", "task_id": task,
        "task_title": "Đề tài của A", "recorded_by": "thu", "acting_as": OFFICE}
    assert papp.engine.list_publications(year=2024) == []


def test_the_units_website_is_the_default_venue_and_needs_the_address(papp: App) -> None:
    with pytest.raises(InputError, match="unit's website needs its address"):
        papp.engine.add_publication(article(venue_kind="unit_website", venue_name=None),
                                    now=local(2025, 5, 20))
    assert count(papp) == 0
    papp.engine.add_publication(article(venue_kind="unit_website", venue_name=None,
                                        url="https://a.vn/nckh/1"), now=local(2025, 5, 20))
    [row] = papp.engine.list_publications()
    assert row["venue_name"] == "Trung tâm Y tế A"


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"unit": "KHONG-CO"}, NotFound, "unknown unit: KHONG-CO"),
    ({"title": "  "}, InputError, "title is empty"),
    ({"authors": "a\nb"}, InputError, "authors must be one line"),
    ({"venue_kind": "bao"}, InputError, "venue kind 'bao': expected one of"),
    ({"venue_name": None}, InputError, "venue: name the journal"),
    ({"published_on": dt.date(2025, 5, 21)}, InputError, "date 21/05/2025 is in the future"),
    ({"url": "ftp://a.vn/x"}, InputError, "is not an http(s) address"),
    ({"doi": "11.1/x"}, InputError, "DOI '11.1/x': expected 10.NNNN/"),
    ({"unit": None}, InputError, "name the unit"),
])
def test_bad_input_is_refused_in_one_line_and_nothing_is_recorded(
        papp: App, change: dict[str, Any], error: type[Exception], message: str) -> None:
    change = dict(change)  # the parameters are shared by both databases' runs
    unit = change.pop("unit", "A")
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        papp.engine.add_publication(article(unit, **change), now=local(2025, 5, 20, 23))
    assert count(papp) == 0


def test_a_publication_on_another_units_task_or_a_report_obligation_is_refused(
        papp: App) -> None:
    theirs = task_of(papp, "B", OTHER_PI)
    with pytest.raises(Refused, match=f"task {theirs} belongs to unit B, not A"):
        papp.engine.add_publication(article(task_id=theirs), now=local(2025, 5, 20))
    with pytest.raises(NotFound, match="unknown task: 999"):
        papp.engine.add_publication(article(task_id=999), now=local(2025, 5, 20))
    with papp.engine.transaction() as s:
        from storage.directory import person_by_email, unit_by_code

        unit, head = unit_by_code(s, "A"), person_by_email(s, head_email("A"))
        assert unit is not None and head is not None
        report = papp.engine.register_in(s, workflow="unit_report", unit_id=unit.id,
                                         pi_id=head.id, year=2025, title="Báo cáo 6 tháng",
                                         now=local(2025, 5, 1), due_on=dt.date(2025, 7, 7))
    with pytest.raises(InputError, match=f"task {report} is a report obligation"):
        papp.engine.add_publication(article(task_id=report), now=local(2025, 5, 20))
    # Named by its task alone, a publication is of the task's unit.
    papp.engine.add_publication(article(None, task_id=theirs), now=local(2025, 5, 20))
    assert [r["unit"] for r in papp.engine.list_publications()] == ["B"]


def test_the_same_article_is_recorded_once_per_unit(papp: App) -> None:
    papp.engine.add_publication(article(), now=local(2025, 5, 20))
    with pytest.raises(Refused, match="unit A already has 'HIỆU QUẢ GIẢM ĐAU SAU MỔ'"):
        papp.engine.add_publication(article(title="HIỆU QUẢ GIẢM ĐAU SAU MỔ"),
                                    now=local(2025, 5, 21))
    assert count(papp) == 1
    papp.engine.add_publication(article("B"), now=local(2025, 5, 20))  # another unit's
    assert count(papp) == 2


def test_two_writers_of_one_article_at_once_leave_one_row(papp: App) -> None:
    """The check before writing cannot see a row another transaction has not committed yet:
    the unique key on the article's hash refuses the second as a conflict."""
    from storage import publications as rows
    from storage.directory import unit_by_code
    from workflows.errors import Conflict

    papp.engine.add_publication(article(), now=local(2025, 5, 20))
    with pytest.raises(Conflict, match="concurrent change refused by the database"), \
            papp.engine.transaction() as s:
        unit = unit_by_code(s, "A")
        assert unit is not None
        unit_id, day = unit.id, dt.date(2025, 5, 15)
        rows.add(s, Publication(
            unit_id=unit_id, title="Hiệu quả giảm đau sau mổ", authors="X",
            venue_kind="other", venue_name="Tạp chí Y học Việt Nam", published_on=day,
            recorded_at=local(2025, 5, 20), recorded_by="race",
            fingerprint=rows.fingerprint(unit_id, "Hiệu quả giảm đau sau mổ",
                                         "Tạp chí Y học Việt Nam", day)))
    assert count(papp) == 1


def test_a_unit_head_records_and_sees_their_own_units_publications_only(papp: App) -> None:
    head_a, head_b = Operator("an", head_email("A")), Operator("binh", head_email("B"))
    papp.engine.add_publication(article(), now=local(2025, 5, 20), operator=head_a)
    with pytest.raises(NotAllowed, match="neither of the office nor of unit B"):
        papp.engine.add_publication(article("B"), now=local(2025, 5, 20), operator=head_a)
    papp.engine.add_publication(article("B", "Bài của B"), now=local(2025, 5, 20),
                                operator=head_b)
    assert count(papp) == 2
    mine = papp.engine.list_publications(viewer_email=head_email("A"))
    assert [r["unit"] for r in mine] == ["A"]
    with pytest.raises(NotFound, match="unknown unit: B"):
        papp.engine.list_publications(unit_code="B", viewer_email=head_email("A"))
    assert len(papp.engine.list_publications(viewer_email=OFFICE)) == 2


def test_an_investigator_links_their_own_tasks_only_and_sees_their_units_register(
        papp: App) -> None:
    mine = task_of(papp)
    someone_elses = papp.engine.create_task(unit_code="A", level="unit", title="Đề tài khác",
                                            pi_email="pi.c@syt.example.vn", pi_name="BS. Cúc",
                                            year=2025, now=local(2025, 2, 3, 9))
    pi = Operator("binh", PI)
    papp.engine.add_publication(article(task_id=mine), now=local(2025, 5, 20), operator=pi)
    with pytest.raises(NotAllowed, match=f"{PI} does not lead task {someone_elses}"):
        papp.engine.add_publication(article(title="Khác", task_id=someone_elses),
                                    now=local(2025, 5, 20), operator=pi)
    # The unit's own publication, of no task, the investigator may record.
    papp.engine.add_publication(article(title="Tổng quan"), now=local(2025, 5, 20), operator=pi)
    papp.engine.add_publication(article("B", "Bài của B"), now=local(2025, 5, 20))
    assert [r["title"] for r in papp.engine.list_publications(viewer_email=PI)] == [
        "Hiệu quả giảm đau sau mổ", "Tổng quan"]
    papp.engine.add_person(email="hd@syt.example.vn", name="Hội đồng KHCN", role="council",
                           now=local(2025, 1, 2))
    with pytest.raises(NotAllowed, match=r"hd@syt\.example\.vn belongs to no unit"):
        papp.engine.list_publications(viewer_email="hd@syt.example.vn")
    with pytest.raises(NotAllowed, match=r"hd@syt\.example\.vn is neither of the office "
                                         "nor of unit A"):
        papp.engine.add_publication(article(title="Của hội đồng"), now=local(2025, 5, 20),
                                    operator=Operator("hd", "hd@syt.example.vn"))
    assert count(papp) == 3


def test_an_inactive_unit_records_no_publication(papp: App) -> None:
    papp.engine.set_head("B", name="BS. Mới", email="moi.b@syt.example.vn",
                         now=local(2025, 1, 5, 9))
    papp.engine.deactivate_unit("B", reason="Sáp nhập", now=local(2025, 2, 1, 9))
    with pytest.raises(Refused, match="unit B is inactive"):
        papp.engine.add_publication(article("B"), now=local(2025, 5, 20))
    assert count(papp) == 0


def accepted(app: App) -> int:
    task = task_of(app)
    for i, event in enumerate(("approve_outline", "start", "accept")):
        app.engine.fire(task, event, actor_email=OFFICE, now=local(2025, 3, 1 + i))
    return task


def test_publish_with_a_url_enters_the_register_as_a_publication_on_the_units_website(
        papp: App) -> None:
    task = accepted(papp)
    papp.engine.fire(task, "publish", actor_email=PI, data={"url": "https://a.vn/nckh/kq"},
                     now=local(2025, 12, 5, 10))
    [row] = papp.engine.list_publications(unit_code="A", year=2025)
    assert {k: row[k] for k in ("task_id", "title", "authors", "venue_kind", "venue_name",
                                "date", "url", "recorded_by")} == {
        "task_id": task, "title": "Đề tài của A", "authors": "ThS. Lê Bình",
        "venue_kind": "unit_website", "venue_name": "Trung tâm Y tế A", "date": "05/12/2025",
        "url": "https://a.vn/nckh/kq", "recorded_by": PI}


def test_publish_does_not_fail_for_a_page_entered_by_hand_the_same_day(papp: App) -> None:
    task = accepted(papp)
    papp.engine.add_publication(article(title="Đề tài của A", venue_kind="unit_website",
                                        venue_name=None, url="https://a.vn/trang-khac",
                                        published_on=dt.date(2025, 12, 5), task_id=task),
                                now=local(2025, 12, 5, 9))
    papp.engine.fire(task, "publish", actor_email=PI, data={"url": "https://a.vn/nckh/kq"},
                     now=local(2025, 12, 5, 10))
    assert papp.engine.task_detail(task, now=local(2025, 12, 5, 11))["state"] == "published"
    assert [r["url"] for r in papp.engine.list_publications()] == ["https://a.vn/trang-khac"]


def test_publish_with_a_citation_only_records_no_publication(papp: App) -> None:
    task = accepted(papp)
    papp.engine.fire(task, "publish", actor_email=PI,
                     data={"reference": "Tạp chí Y học Dự phòng, số 6/2025"},
                     now=local(2025, 12, 5, 10))
    assert count(papp) == 0


def test_a_refused_publish_records_no_publication(papp: App) -> None:
    task = task_of(papp)  # proposed: publish cannot fire
    with pytest.raises(Refused):
        papp.engine.fire(task, "publish", actor_email=PI, data={"url": "https://a.vn/kq"},
                         now=local(2025, 12, 5, 10))
    assert count(papp) == 0


def test_the_cli_adds_lists_and_exports_csv_for_excel(papp: App, db_url: str,
                                                      tmp_path: Path) -> None:
    task = accepted(papp)
    env = cli_env(tmp_path, "2025-06-02T09:00", NCKH_DATABASE_URL=db_url)
    ran = nckh_in_process(env, "publication", "add", "--task", str(task), "--title",
                          "Kết quả điều trị", "--authors", "Lê Bình", "--kind",
                          "journal-international", "--venue", "BMC Health Services Research",
                          "--date", "01/06/2025", "--doi", "doi:10.1186/s12913-025-1",
                          "--as", head_email("A"))
    assert (ran.returncode, ran.stderr) == (0, "")
    assert ran.stdout.startswith("publication ") and ran.stdout.endswith(" recorded\n")
    listed = nckh_in_process(env, "publication", "list", "--unit", "A", "--year", "2025")
    assert listed.returncode == 0
    assert "01/06/2025" in listed.stdout and "Tạp chí quốc tế" in listed.stdout
    exported = nckh_in_process(env, "publication", "list", "--csv")
    assert exported.stdout.startswith("\ufeffMã;Đơn vị;Ngày công bố;")
    line = exported.stdout.split("\r\n")[1].split(";")
    assert line[1:4] == ["A", "01/06/2025", "Kết quả điều trị"]
    assert line[8:10] == ["10.1186/s12913-025-1", str(task)]
    refused = nckh_in_process(env, "publication", "add", "--task", str(task), "--title", "X",
                              "--authors", "Y", "--kind", "other", "--venue", "Z", "--date",
                              "03/06/2025")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "is in the future" in refused.stderr
    assert count(papp) == 1


def test_the_sample_provinces_articles_are_counted_in_the_compliance_report(
        db_url: str, tmp_path: Path) -> None:
    from engine.reports.build import make_report
    from engine.sample.data import read
    from engine.sample.loader import load

    app = build(make_settings(db_url, tmp_path))
    try:
        done = load(app.engine, read(), 2025, now=local(2025, 12, 31, 17))
        assert done.publications == 3
        # BVDKT: a domestic article, a conference paper and the page its publish step named.
        kinds = [(r["unit"], r["venue_kind"]) for r in app.engine.list_publications(year=2025)]
        assert sorted(kinds) == [("BVDKT", "conference"), ("BVDKT", "journal_domestic"),
                                 ("BVDKT", "unit_website"), ("BVPY", "journal_international")]
        report = make_report(app.engine, "compliance", 2025, today=dt.date(2025, 12, 31))
        keys = ("articles_domestic", "articles_international", "articles_total")
        assert [report.unit("BVDKT")[k] for k in keys] == [1, 0, 3]
        assert [report.unit("BVPY")[k] for k in keys] == [0, 1, 1]
        assert [report.total[k] for k in keys] == [1, 1, 4]
        # As of 16/12 the conference paper and the international article were still to come.
        earlier = make_report(app.engine, "compliance", 2025, today=dt.date(2025, 12, 31),
                              as_of=dt.date(2025, 12, 16))
        assert [earlier.total[k] for k in keys] == [1, 0, 2]
    finally:
        app.close()
