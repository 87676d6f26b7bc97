"""The dashboard's table body as HTML, written in Python: one row per unit, one cell per
obligation and per research milestone of the year (both written alike: a state, a link to the
item that decides it, the day it was sent or closed).

Why not in the template: the office's daily view has a cell per unit and obligation (thousands
in a province), and Jinja spends a function call on every subscript, filter and piece written.
Written in the template, the body cost more than the database and the rest of the page together
(bench/web.py, issue 14); here it is a few string joins. What a person typed (a unit's code and
name) is escaped here; the cells hold only those, numbers, dates and the four fixed state names
(escaped once per page). It writes exactly what the template wrote (tests/web/
test_dashboard_page.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from engine.web.i18n import dmy, percent


def board_rows(rows: list[dict[str, Any]], *, names: Mapping[str, str], unit_base: str,
               item_base: str, overdue: str, lang: str = "vi") -> Markup:
    """The `<tr>`s of `engine.reports.dashboard`'s rows. `names`: each cell state's words,
    `overdue`: the research column's word (both as shown, unescaped); `unit_base`,
    `item_base`: a unit's and an item's address without its last part."""
    said = {state: str(escape(word)) for state, word in names.items()}
    unit_base, item_base = str(escape(unit_base)), str(escape(item_base))
    late = str(escape(overdue))
    out: list[str] = []
    for r in rows:
        code = str(escape(r["code"]))
        counts = r["counts"]
        out.append(f'\n<tr>\n  <th scope="row"><a href="{unit_base}{code}">{code}</a><br>'
                   f'<small>{escape(r["name"])}</small></th>\n  ')
        for cell in r["cells"]:
            if cell:
                state = cell["state"]
                out.append(f'<td class="cell-{state}" id="cell-{code}-{cell["column"]}">'
                           f'<a href="{item_base}{cell["task_id"]}">{said[state]}</a>')
                if cell["submitted_on"]:
                    out.append(f'<br><small>{dmy(cell["submitted_on"])}</small>')
                out.append("</td>\n  ")
            else:
                out.append("<td></td>\n  ")
        due = counts["done"] + counts["late"] + counts["overdue"]
        rate = f' ({percent(r["rate"], lang)})' if r["rate"] is not None else ""
        research = (f' – <strong class="badge">{r["research_overdue"]} {late}</strong>'
                    if r["research_overdue"] else "")
        out.append(f'\n  <td>{counts["done"]}/{due}{rate}</td>\n'
                   f'  <td>{r["research_tasks"]}{research}</td>\n</tr>\n')
    return Markup("".join(out))
