"""Which of a unit's topics a unit report speaks of, and what it says of each — pure.

The plans ask each unit for two reports that list its topics: the outline-review results before
30/4 and the acceptance results before 1/12. Each is an obligation of the unit (addressed to its
head), configured with the milestone it reports on (`concerns = "outline_approved"` or
`"accepted"`); the workflow files say what that milestone means for each kind of topic:

- the states *awaiting* the milestone are the sources of the event that reaches it, and the
  states whose deadline falls on the same plan date (`cutoff`): an outline sent back for
  revision still awaits its review result before 30/4;
- a topic is listed as *awaiting* when it sits in such a state and its deadline falls in the
  report's year or earlier (a multi-year topic due next year reports next year);
- else it is listed with its *result* when, during the report's year, a decision of those who
  decide the milestone (an event with the same roles as the milestone's event) moved it from
  such a state: the milestone reached (approved, accepted, with the decision's number and
  grade), or another outcome (rejected, acceptance failed — its re-evaluation, due next year,
  is next year's). The latest such step is the result.

A topic cancelled or suspended by its unit is not in the report as a result: no review decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.model import EventDef, Labels, Workflow


@dataclass(frozen=True)
class Step:
    """One fired transition of a topic, as the report reads it."""

    event: str
    from_state: str | None
    to_state: str
    on: dt.date  # the local day it took effect
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Topic:
    """A research topic of the unit, with what the report needs to place it."""

    id: int
    title: str
    level: str
    state: str
    pi_name: str
    workflow: Workflow
    due_on: dt.date | None  # its open deadline, if any
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class TopicLine:
    """One line of a unit report: the topic and where it stands against the milestone."""

    id: int
    title: str
    level: str
    pi_name: str
    reached: bool  # the milestone itself was reached in the year
    awaiting: bool  # no result yet
    state: str  # the state it is in now
    event: str | None  # the step that is its result (None while awaiting)
    on: dt.date | None  # that step's day
    due_on: dt.date | None  # while awaiting: by when
    decision_no: str | None
    grade: str | None
    result: Labels  # in words: the result step's event, or (awaiting) the state's

    def result_label(self, lang: str) -> str:
        return self.result.get(lang)


def awaiting_states(wf: Workflow, milestone: str) -> frozenset[str]:
    """The states in which a topic still owes the milestone's result."""
    ev = wf.milestone_event(milestone)
    if ev is None:
        return frozenset()
    cutoff = wf.cutoff(milestone)
    same_date = {name for name, st in wf.states.items()
                 if cutoff is not None and st.deadline is not None
                 and st.deadline.before == cutoff}
    return frozenset(ev.sources) | frozenset(same_date)


def concerned(topics: Iterable[Topic], milestone: str, year: int) -> list[TopicLine]:
    """The lines of the unit's report on `milestone` for `year`, by title."""
    lines = [line for t in topics if (line := _line(t, milestone, year)) is not None]
    return sorted(lines, key=lambda line: (line.title.casefold(), line.id))


def _line(t: Topic, milestone: str, year: int) -> TopicLine | None:
    waiting = awaiting_states(t.workflow, milestone)
    if not waiting:
        return None
    ev = t.workflow.milestone_event(milestone)
    if t.state in waiting and (t.due_on is None or t.due_on.year <= year):
        return TopicLine(t.id, t.title, t.level, t.pi_name, False, True, t.state, None, None,
                         t.due_on, None, None, t.workflow.states[t.state].labels)
    results = [s for s in t.steps if s.from_state in waiting and s.to_state != s.from_state
               and s.on.year == year and _decided(t.workflow, s, ev)]
    if not results:
        return None
    last = max(results, key=lambda s: s.on)
    reached = ev is not None and last.event == ev.name
    return TopicLine(t.id, t.title, t.level, t.pi_name, reached, False, t.state, last.event,
                     last.on, None, _text(last.data.get("decision_no")),
                     _text(last.data.get("grade")), t.workflow.events[last.event].labels)


def _decided(wf: Workflow, step: Step, ev: EventDef | None) -> bool:
    fired = wf.events.get(step.event)
    return ev is not None and fired is not None and fired.roles == ev.roles


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value not in (None, "") else ""
    return text or None
