"""What a signed-in person may see, through the engine's own reads: the web app asks here.

Every read goes through `workflows.visibility` with the item's unit and investigator, so a unit
head who changes an id in a URL gets the same "not found" as for an id that does not exist: the
page does not even tell that the item exists. Acting stays the engine's (`Engine.fire`), which
refuses what the person's role may not do whatever page they came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from engine.queries import urgent_first
from engine.service import Engine
from workflows import inputs
from workflows.errors import InputError, InvalidData, NotFound
from workflows.model import RESEARCH_LEVELS, EventDef
from workflows.visibility import Viewer, may_see, may_see_unit


class Views:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def task(self, viewer: Viewer, task_id: int, *, now: dt.datetime,
             lang: str) -> dict[str, Any]:
        """A task's detail if the viewer may see it; else `NotFound`, as for no such task."""
        detail = self.engine.task_detail(task_id, now=now, lang=lang)
        if not self._sees(viewer, detail):
            raise NotFound("task", task_id)
        if viewer.role != "office":
            # Who was written what, and when, is the office's record: a unit sees its own
            # mailbox, not the copies to the office or to the other people of the item.
            detail["mails"] = []
        return detail

    def events(self, viewer: Viewer, task_id: int) -> list[EventDef]:
        """The events the viewer may fire on the task now (the engine's own answer)."""
        return self.engine.allowed_events(task_id, viewer.email)

    def _sees(self, viewer: Viewer, detail: dict[str, Any]) -> bool:
        council_acts = viewer.role == "council" and bool(
            self.engine.allowed_events(int(detail["id"]), viewer.email))
        return may_see(viewer, unit_id=int(detail["unit_id"]), pi_id=int(detail["pi"]["id"]),
                       council_acts=council_acts)

    def tasks(self, viewer: Viewer, *, now: dt.datetime, year: int | None,
              lang: str, unit: str | None = None) -> list[dict[str, Any]]:
        """The tasks the viewer may see, overdue first, then by deadline."""
        if viewer.role == "unit_head":
            unit = viewer.unit_code
        elif viewer.role != "office":
            unit = None
        # an investigator's own tasks are read as such, not the province's kept in Python
        rows = self.engine.list_tasks(now=now, unit=unit, year=year, lang=lang,
                                      pi_email=viewer.email if viewer.role == "pi" else None)
        if viewer.role == "council":
            rows = [r for r in rows if self.engine.allowed_events(int(r["id"]), viewer.email)]
        elif viewer.role not in ("office", "unit_head", "pi"):
            rows = []
        return urgent_first(rows)

    def search(self, viewer: Viewer, query: str, *, now: dt.datetime,
               lang: str) -> dict[str, Any]:
        """The tasks the viewer may see that match `query`: the office searches every unit, a
        unit head their unit, an investigator their own tasks, the council those it must act
        on now; anyone else finds nothing."""
        if viewer.role == "office":
            found = self.engine.search_tasks(query, now=now, lang=lang)
        elif viewer.role == "unit_head" and viewer.unit_code:
            found = self.engine.search_tasks(query, now=now, lang=lang, unit=viewer.unit_code)
        elif viewer.role == "pi":
            found = self.engine.search_tasks(query, now=now, lang=lang, pi_email=viewer.email)
        else:
            found = self.engine.search_tasks(query, now=now, lang=lang)
            kept = [r for r in found["rows"] if viewer.role == "council"
                    and self.engine.allowed_events(int(r["id"]), viewer.email)]
            found = {**found, "rows": kept, "total": len(kept)}
        return found

    def dashboard(self, viewer: Viewer, *, year: int, today: dt.date,
                  legal_end: Callable[[dt.date], dt.date], labels: Mapping[str, str],
                  unit_kind: str | None = None, level: str | None = None,
                  lang: str = "vi") -> dict[str, Any]:
        """The province dashboard (the office's only); `level` narrows its research columns
        (the milestones and the count) to one kind of task (unit-level topics, provincial
        tasks, initiatives). A milestone is named as the workflow in force names its deadline
        (a workflow no longer in force: by its state's name)."""
        from engine.reports.dashboard import Loaded, dashboard
        from storage import dashboard as rows

        if not viewer.is_office:
            raise NotFound("page", "dashboard")
        if unit_kind not in (None, "public", "private"):
            raise InputError(f"unit kind '{unit_kind}': expected public or private")
        if level is not None and level not in RESEARCH_LEVELS:
            raise InvalidData(f"kind of task '{level}': expected one of "
                              f"{', '.join(sorted(RESEARCH_LEVELS))}", field="level")
        inputs.check_year(year)
        registry = self.engine.registry
        submit_events = sorted({ev.name for name in registry.names()
                                for ev in registry.get(name).events.values()
                                if ev.milestone == "submitted"})
        with self.engine.plain_read() as conn:
            units, obligations, research, milestones = rows.load(
                conn, year, submit_events=submit_events, today=today, tz=self.engine.tz,
                levels=[level] if level else sorted(RESEARCH_LEVELS),
                void=sorted(self.engine.void_states()))
        data = Loaded(year=year, units=units, obligations=obligations)
        workflows = registry.current()

        def label_of(workflow: str, state: str) -> str:
            found = workflows.get(workflow)
            return found.deadline_label(state, lang) if found else state

        return dashboard(data, today, legal_end, labels, unit_kind=unit_kind,
                         research_counts=research, milestone_rows=milestones,
                         label_of=label_of, void=self.engine.void_states())

    def unit(self, viewer: Viewer, unit_code: str) -> dict[str, Any]:
        """The unit's {code, name} (`Engine.unit_named`) for the office and the unit's head;
        `NotFound` for anyone else, as for no such unit. What a unit's form needs to act on it:
        not its record (`unit_detail`), which is read in a write transaction."""
        if not may_see_unit(viewer, unit_code):
            raise NotFound("unit", unit_code)
        found = self.engine.unit_named(unit_code)
        if not may_see_unit(viewer, str(found["code"])):
            raise NotFound("unit", unit_code)
        return found

    def unit_page(self, viewer: Viewer, unit_code: str, *, year: int, now: dt.datetime,
                  lang: str) -> dict[str, Any]:
        """A unit's page (`Engine.unit_page`) for the office and the unit's head; `NotFound`
        for anyone else, as for no such unit. The office and a head see all the unit's tasks,
        as `tasks` gives them."""
        if not may_see_unit(viewer, unit_code):
            raise NotFound("unit", unit_code)
        found = self.engine.unit_page(unit_code, year=year, now=now, lang=lang)
        if not may_see_unit(viewer, str(found["unit"]["code"])):
            raise NotFound("unit", unit_code)
        return found
