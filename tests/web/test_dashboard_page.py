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
