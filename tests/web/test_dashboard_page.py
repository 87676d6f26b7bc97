"""The dashboard page as HTML: what a unit typed is escaped although the cells are written with
escaping off (the page's speed, bench/web.py), and a submitted cell shows its colour and date."""

from __future__ import annotations

import datetime as dt
import re

from engine.directory import UnitInput
from tests.web.webfixtures import HEAD, OFFICE, Site, sign_in
from workflows.clock import DEFAULT_TZ

MARKUP_NAME = '<b onmouseover="x()">Phòng khám & Cộng sự</b>'


def board(site: Site) -> str:
    return str(sign_in(site, OFFICE).get("/bang-dieu-khien").data.decode())


def test_a_units_name_with_markup_is_shown_as_text(site: Site, tasks: dict[str, int]) -> None:
    site.app.engine.add_unit(UnitInput(code="PKCS", name=MARKUP_NAME, head_name="Đỗ Văn Khoa",
                                       head_email="khoa@pkcs.example.vn", kind="private"),
                             now=site.clock.now())
    site.clock.set(dt.datetime(2025, 6, 30, 9, 0, tzinfo=DEFAULT_TZ))
    site.app.tick(site.clock.now())
    text = board(site)
    assert 'id="cell-PKCS-1"' in text  # the unit has its row and cells
    assert MARKUP_NAME not in text and "<b onmouseover" not in text
    assert "&lt;b onmouseover=&#34;x()&#34;&gt;Phòng khám &amp; Cộng sự&lt;/b&gt;" in text


def test_a_report_sent_on_time_turns_its_cell_green_with_the_day_it_was_sent(
        site: Site, tasks: dict[str, int]) -> None:
    site.clock.set(dt.datetime(2025, 6, 30, 9, 0, tzinfo=DEFAULT_TZ))
    site.app.tick(site.clock.now())
    cells = re.findall(r'<td class="cell-(\w+)" id="cell-BVDK-(\d+)">', board(site))
    column = next(col for state, col in cells if state == "open")
    found = re.search(rf'id="cell-BVDK-{column}"><a href="/nhiem-vu/(\d+)"', board(site))
    assert found
    site.clock.set(dt.datetime(2025, 7, 2, 10, 0, tzinfo=DEFAULT_TZ))
    site.app.engine.fire(int(found.group(1)), "submit", actor_email=HEAD, now=site.clock.now())
    text = board(site)
    assert re.search(rf'<td class="cell-done" id="cell-BVDK-{column}"><a href="/nhiem-vu/'
                     rf'{found.group(1)}">Đúng hạn</a><br><small>02/07/2025</small></td>', text)


def _research(text: str, unit: str) -> str:
    """The research column of a unit's row: its last cell."""
    row = re.search(rf'<a href="/don-vi/{unit}">{unit}</a>.*?</tr>', text, re.S)
    assert row, f"no row for {unit}"
    return re.findall(r"<td>([^<]*)", row.group(0))[-1].strip()


def test_the_research_column_can_be_narrowed_to_one_kind_of_task(
        site: Site, tasks: dict[str, int]) -> None:
    site.app.engine.create_task(unit_code="BVDK", level="initiative",
                                pi_email="hoa@bvdk.example.vn", year=2025, now=site.clock.now(),
                                title="Cải tiến quy trình tiếp đón người bệnh")
    office = sign_in(site, OFFICE)
    every = office.get("/bang-dieu-khien").data.decode()
    assert _research(every, "BVDK") == "2"  # a topic and an initiative
    initiatives = office.get("/bang-dieu-khien?level=initiative").data.decode()
    assert _research(initiatives, "BVDK") == "1" and _research(initiatives, "TTYT") == "0"
    assert '<option value="initiative" selected>' in initiatives
    provincial = office.get("/bang-dieu-khien?level=province").data.decode()
    assert _research(provincial, "BVDK") == "0"
    # A rejected task is no research task of the unit's, as for the quota.
    site.app.engine.fire(tasks["theirs"], "reject", actor_email=OFFICE, reason="Trùng lặp",
                         now=site.clock.now())
    assert _research(office.get("/bang-dieu-khien").data.decode(), "TTYT") == "0"
    bad = office.get("/bang-dieu-khien?level=xyz")
    assert bad.status_code == 400
    assert "kind of task &#39;xyz&#39;: expected one of initiative, province, unit" in (
        bad.data.decode())


OUTLINE = "Báo cáo kết quả xét duyệt đề cương"
DECISION = {"decision_no": "125/QĐ-SYT", "decided_on": "2025-04-10"}


def _milestone_cell(text: str, unit: str, task: int) -> tuple[str, int, str] | None:
    """(state, column, what follows the link) of the unit's cell linking to the task."""
    found = re.search(rf'<td class="cell-(\w+)" id="cell-{unit}-(\d+)"><a href="/nhiem-vu/'
                      rf'{task}">[^<]*</a>(.*?)</td>', text)
    return (found.group(1), int(found.group(2)), found.group(3)) if found else None


def _headers(text: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", text, re.S)
    assert head
    return re.findall(r"<th[^>]*>([^<]*)", head.group(1))


def test_a_research_milestone_has_its_column_after_the_obligations_in_each_colour(
        site: Site, tasks: dict[str, int]) -> None:
    e, mine, theirs = site.app.engine, tasks["mine"], tasks["theirs"]
    text = board(site)  # signed in anew each time: weeks pass between the pages
    column = _headers(text).index(OUTLINE)  # the unit's header is column 0
    assert "<small>30/04/2025</small></th>" in text.split(OUTLINE, 1)[1][:40]
    assert _milestone_cell(text, "BVDK", mine) == ("open", column, "")
    site.clock.set(dt.datetime(2025, 4, 10, 9, 0, tzinfo=DEFAULT_TZ))
    e.fire(mine, "approve_outline", actor_email=OFFICE, now=site.clock.now(), data=DECISION)
    site.clock.set(dt.datetime(2025, 5, 10, 9, 0, tzinfo=DEFAULT_TZ))
    text = board(site)
    assert _milestone_cell(text, "BVDK", mine) == ("done", column, "<br><small>10/04/2025</small>")
    assert _milestone_cell(text, "TTYT", theirs) == ("overdue", column, "")
    assert "Triển khai thực hiện đề tài" in _headers(text)  # the next milestone, open
    site.clock.set(dt.datetime(2025, 5, 12, 9, 0, tzinfo=DEFAULT_TZ))
    e.fire(theirs, "approve_outline", actor_email=OFFICE, now=site.clock.now(), data=DECISION)
    site.clock.set(dt.datetime(2025, 6, 30, 9, 0, tzinfo=DEFAULT_TZ))
    site.app.tick(site.clock.now())  # the year's obligations, as the daemon makes them
    text = board(site)
    headers = _headers(text)
    column = headers.index(OUTLINE)
    assert column > 1  # after the obligations' columns, before the counts
    assert headers[-2:] == ["Tỷ lệ đúng hạn", "Đề tài, sáng kiến"]
    late = _milestone_cell(text, "TTYT", theirs)
    assert late == ("late", column, "<br><small>12/05/2025</small>")
    assert f'colspan="{len(headers) - 3}"' in text  # the province's totals span both kinds


def test_a_rejected_tasks_milestones_are_left_out(site: Site, tasks: dict[str, int]) -> None:
    site.app.engine.fire(tasks["theirs"], "reject", actor_email=OFFICE, now=site.clock.now(),
                         reason="Trùng với đề tài năm trước")
    text = sign_in(site, OFFICE).get("/bang-dieu-khien").data.decode()
    assert _milestone_cell(text, "BVDK", tasks["mine"]) is not None
    assert _milestone_cell(text, "TTYT", tasks["theirs"]) is None
    row = re.search(r'<a href="/don-vi/TTYT">TTYT</a>.*?</tr>', text, re.S)
    assert row and "cell-" not in row.group(0)  # an empty cell, not a coloured one


def test_the_level_filter_narrows_the_milestone_columns(site: Site,
                                                       tasks: dict[str, int]) -> None:
    initiative = site.app.engine.create_task(
        unit_code="BVDK", level="initiative", pi_email="hoa@bvdk.example.vn", year=2025,
        now=site.clock.now(), title="Cải tiến quy trình tiếp đón người bệnh")
    office = sign_in(site, OFFICE)
    every = office.get("/bang-dieu-khien").data.decode()
    assert OUTLINE in _headers(every) and "Xem xét tính hợp lệ của đơn" in _headers(every)
    only = office.get("/bang-dieu-khien?level=initiative").data.decode()
    assert OUTLINE not in _headers(only) and "Xem xét tính hợp lệ của đơn" in _headers(only)
    assert _milestone_cell(only, "BVDK", initiative) is not None
    assert _milestone_cell(only, "BVDK", tasks["mine"]) is None
