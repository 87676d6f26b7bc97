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
    bad = office.get("/bang-dieu-khien?level=xyz")
    assert bad.status_code == 400
    assert "kind of task &#39;xyz&#39;: expected one of initiative, province, unit" in (
        bad.data.decode())
