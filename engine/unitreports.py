"""A unit's report of results as its item shows it: the topics it lists (workflows/concerns.py),
for `task show` and the item's web page — the same lines its mails carry, as of now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from storage import mailfacts
from storage.db import Connection
from workflows.dates import shown


def topics_of(conn: Connection, task_id: int, unit_id: int, tz: dt.tzinfo,
              lang: str) -> list[dict[str, Any]] | None:
    """The topics the report lists, or None when the task is no report that lists topics."""
    found = mailfacts.report_topics(conn, mailfacts.obligation_row(conn, task_id), unit_id, tz)
    if found is None:
        return None
    return [{"id": t.id, "title": t.title, "pi_name": t.pi_name, "awaiting": t.awaiting,
             "result": t.result_label(lang), "on": shown(t.on) if t.on else None,
             "due_on": shown(t.due_on) if t.due_on else None, "decision_no": t.decision_no,
             "grade": t.grade} for t in found]


def lines(found: Sequence[dict[str, Any]]) -> list[str]:
    """As `task show` prints them (Vietnamese, as the report's mails write them)."""
    out = []
    for t in found:
        text = f"#{t['id']} {t['title']} ({t['pi_name']}): {t['result'][:1].lower()}" \
               f"{t['result'][1:]}"
        text += f" ngày {t['on']}" if t["on"] else ""
        text += f", số {t['decision_no']}" if t["decision_no"] else ""
        text += f", xếp loại {t['grade']}" if t["grade"] else ""
        text += f"; thời hạn {t['due_on']}" if t["awaiting"] and t["due_on"] else ""
        out.append(text)
    return out
