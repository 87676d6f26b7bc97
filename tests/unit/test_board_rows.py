"""The dashboard's rows written in Python (engine/web/boardrows.py): what a unit typed is
escaped, a cell links to its item with its state's words and the day it was sent, an empty
cell stays empty, and the counts and the research column read as the template wrote them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.web.boardrows import board_rows

NAMES = {"done": "Đúng hạn", "late": "Trễ", "overdue": "Quá hạn", "open": "Chưa đến hạn"}


def row(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": "BVDK", "name": "Bệnh viện Đa khoa",
        "cells": [{"state": "done", "column": 1, "task_id": 7,
                   "submitted_on": dt.date(2025, 7, 2)}, None],
        "counts": {"done": 1, "late": 0, "overdue": 0, "open": 0}, "rate": 100.0,
        "research_tasks": 3, "research_overdue": 0}
    return {**base, **changes}


def html(*rows: dict[str, Any]) -> str:
    return str(board_rows(list(rows), names=NAMES, overdue="quá hạn",
                          unit_base="/don-vi/", item_base="/nhiem-vu/"))


def test_a_cell_links_to_its_item_with_its_state_and_the_day_it_was_sent() -> None:
    text = html(row())
    assert ('<td class="cell-done" id="cell-BVDK-1"><a href="/nhiem-vu/7">Đúng hạn</a>'
            '<br><small>02/07/2025</small></td>') in text
    assert "<td></td>" in text  # no obligation in that column
    assert '<th scope="row"><a href="/don-vi/BVDK">BVDK</a><br><small>Bệnh viện Đa khoa' in text


def test_the_counts_the_rate_and_the_overdue_research_tasks_are_shown() -> None:
    text = html(row(counts={"done": 1, "late": 1, "overdue": 2, "open": 5}, rate=25.0,
                    research_overdue=2))
    assert "<td>1/4 (25,0%)</td>" in text  # a decimal comma, as the office writes it
    english = board_rows([row(counts={"done": 1, "late": 1, "overdue": 2, "open": 5},
                              rate=25.0)], names=NAMES, overdue="overdue", unit_base="/don-vi/",
                         item_base="/nhiem-vu/", lang="en")
    assert "<td>1/4 (25.0%)</td>" in str(english)
    assert '<td>3 – <strong class="badge">2 quá hạn</strong></td>' in text


def test_no_rate_and_no_badge_when_nothing_is_due_or_late() -> None:
    text = html(row(counts={"done": 0, "late": 0, "overdue": 0, "open": 1}, rate=None))
    assert "<td>0/0</td>" in text and "badge" not in text


def test_what_a_unit_typed_is_escaped() -> None:
    text = html(row(code='A"&<', name="<b>x</b>"))
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert 'href="/don-vi/A&#34;&amp;&lt;"' in text and 'id="cell-A&#34;&amp;&lt;-1"' in text


def test_a_research_milestones_cell_is_written_as_an_obligations() -> None:
    # the cells after the obligations' (engine.reports.dashboard.milestones): an overdue
    # milestone has no day sent, a met one the day its deadline was closed
    text = html(row(cells=[None, {"state": "overdue", "column": 2, "task_id": 9,
                                  "due_on": dt.date(2025, 4, 30), "submitted_on": None},
                           {"state": "late", "column": 3, "task_id": 4,
                            "due_on": dt.date(2025, 4, 30),
                            "submitted_on": dt.date(2025, 5, 12)}]))
    assert ('<td></td>\n  <td class="cell-overdue" id="cell-BVDK-2"><a href="/nhiem-vu/9">'
            'Quá hạn</a></td>\n  <td class="cell-late" id="cell-BVDK-3"><a href="/nhiem-vu/4">'
            'Trễ</a><br><small>12/05/2025</small></td>') in text
