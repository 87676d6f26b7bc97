"""Validating a workflow file into a `Workflow`: every rule here names the file, line and reason.

Rejected: unknown keys, unknown states or roles (in `roles`, `not_by` and escalations), a role
both allowed and barred on one event, duplicate events (and duplicate keys of any kind),
states unreachable from the initial state, non-final dead ends, final states with exits, bad dates
and durations, field references that do not exist, timer ladders that point nowhere.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from pathlib import Path
from typing import Any

from workflows.errors import DefinitionError
from workflows.model import (
    BARRABLE_ROLES,
    DURATION_UNITS,
    FIELD_TYPES,
    LEVELS,
    MILESTONES,
    ROLES,
    DeadlineRule,
    Duration,
    EventDef,
    FieldSpec,
    Labels,
    StateDef,
    TimerPolicy,
    Workflow,
    month_day,
)
from workflows.timerpolicy import parse_timer_policy
from workflows.yamlsrc import Located, Path_, load_located

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
DURATION_RE = re.compile(r"^\s*(\d+)\s*(d|days?|wd|working[_ ]days?|mo|months?)\s*$")
TOP_KEYS = {"name", "version", "level", "labels", "initial", "states", "events", "timers",
            "office"}
STATE_KEYS = {"labels", "final", "void", "deadline", "timers"}
EVENT_KEYS = {"labels", "from", "to", "roles", "not_by", "reason", "fields", "one_of",
              "deadline_from", "milestone", "keeps_deadline"}
TIMER_KEYS = {"remind_before", "escalate", "on_overdue"}


def load_file(path: str | Path) -> Workflow:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(str(path), None, "file not found") from None
    except UnicodeDecodeError:
        raise DefinitionError(str(path), None, "not UTF-8 text") from None
    except OSError as exc:
        raise DefinitionError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    return load_text(text, str(path))


def load_text(text: str, file: str) -> Workflow:
    doc = load_located(text, file)
    return _Validator(doc).workflow(text)


class _Validator:
    def __init__(self, doc: Located) -> None:
        self.doc = doc

    def fail(self, path: Path_, reason: str) -> DefinitionError:
        return self.doc.error(path, reason)

    def mapping(self, value: Any, path: Path_, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"{what} must be a mapping")
        return value

    def keys(self, value: dict[str, Any], allowed: set[str], path: Path_, what: str) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail((*path, key), f"unknown key '{key}' in {what}; "
                                              f"allowed: {', '.join(sorted(allowed))}")

    def name(self, value: Any, path: Path_, what: str) -> str:
        if not isinstance(value, str) or not NAME_RE.match(value):
            raise self.fail(path, f"{what} {value!r} must be lower_snake_case")
        return value

    def labels(self, value: Any, path: Path_) -> Labels:
        value = self.mapping(value, path, "labels")
        for lang in ("vi", "en"):
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                raise self.fail(path, f"labels need a non-empty '{lang}' text")
        self.keys(value, {"vi", "en"}, path, "labels")
        return Labels(vi=value["vi"], en=value["en"])

    def positive_int(self, value: Any, path: Path_, what: str, *, zero: bool = False) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if zero else 1):
            raise self.fail(path, f"{what} must be a {'non-negative' if zero else 'positive'} "
                                  f"whole number, not {value!r}")
        return value

    # --- top level -------------------------------------------------------------------------
    def workflow(self, text: str) -> Workflow:
        top = self.mapping(self.doc.data, (), "a workflow file")
        self.keys(top, TOP_KEYS, (), "the workflow")
        for key in ("name", "version", "level", "labels", "initial", "states", "events"):
            if key not in top:
                raise self.fail((), f"missing required key '{key}'")
        name = self.name(top["name"], ("name",), "workflow name")
        stem = Path(self.doc.file).stem
        if stem != name and not self.doc.file.startswith("<"):
            raise self.fail(("name",), f"workflow name '{name}' must match its file name '{stem}'")
        version = self.positive_int(top["version"], ("version",), "version")
        level = top["level"]
        if level not in LEVELS:
            raise self.fail(("level",), f"unknown level {level!r}; expected one of "
                                        f"{', '.join(LEVELS)}")
        labels = self.labels(top["labels"], ("labels",))

        raw_states = self.mapping(top["states"], ("states",), "states")
        if not raw_states:
            raise self.fail(("states",), "a workflow needs at least one state")
        state_names = [self.name(s, ("states", s), "state name") for s in raw_states]
        initial = top["initial"]
        if initial not in raw_states:
            raise self.fail(("initial",), f"unknown state '{initial}' as initial state")

        raw_events = self.mapping(top["events"], ("events",), "events")
        events = {
            ev: self.event(ev, raw, set(state_names)) for ev, raw in raw_events.items()
        }
        states = {s: self.state(s, raw_states[s] or {}) for s in state_names}
        default_timers = (
            self.timers(top["timers"], ("timers",)) if "timers" in top else None
        )
        # Which office receives the tasks' office-bound mail (a key of `[[offices]]`; checked
        # against the configuration when nckh starts, which this pure loader cannot see).
        office = self.name(top["office"], ("office",), "office key") if "office" in top \
            else None
        wf = Workflow(
            name=name, version=version, labels=labels, level=str(level), initial=initial,
            states=states, events=events, timers=default_timers, office=office,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), source=text,
            path=self.doc.file,
        )
        self.check_graph(wf)
        self.check_timers(wf)
        return wf

    # --- states ----------------------------------------------------------------------------
    def state(self, name: str, raw: Any) -> StateDef:
        path: Path_ = ("states", name)
        raw = self.mapping(raw, path, f"state '{name}'")
        self.keys(raw, STATE_KEYS, path, f"state '{name}'")
        if "labels" not in raw:
            raise self.fail(path, f"state '{name}' needs labels (vi and en)")
        final = raw.get("final", False)
        if not isinstance(final, bool):
            raise self.fail((*path, "final"), "final must be true or false")
        deadline = (self.deadline(raw["deadline"], (*path, "deadline"))
                    if "deadline" in raw else None)
        timers = self.timers(raw["timers"], (*path, "timers")) if "timers" in raw else None
        if final and deadline is not None:
            raise self.fail((*path, "deadline"), f"final state '{name}' cannot have a deadline")
        void = raw.get("void", False)
        if not isinstance(void, bool):
            raise self.fail((*path, "void"), "void must be true or false")
        if void and not final:
            raise self.fail((*path, "void"), f"void state '{name}' must be final: true")
        return StateDef(name=name, labels=self.labels(raw["labels"], (*path, "labels")),
                        final=final, void=void, deadline=deadline, timers=timers)

    def deadline(self, raw: Any, path: Path_) -> DeadlineRule:
        raw = self.mapping(raw, path, "deadline")
        self.keys(raw, {"before", "within", "labels", "or_task_end"}, path, "deadline")
        if ("before" in raw) == ("within" in raw):
            raise self.fail(path, "deadline needs exactly one of 'before' (MM-DD) or 'within'")
        labels = self.labels(raw["labels"], (*path, "labels")) if "labels" in raw else None
        task_end = raw.get("or_task_end", False)
        if not isinstance(task_end, bool):
            raise self.fail((*path, "or_task_end"), "or_task_end must be true or false")
        if "before" in raw:
            return DeadlineRule(before=self.month_day(raw["before"], (*path, "before")),
                                label=labels, or_task_end=task_end)
        return DeadlineRule(within=self.duration(raw["within"], (*path, "within")), label=labels,
                            or_task_end=task_end)

    def month_day(self, value: Any, path: Path_) -> tuple[int, int]:
        try:
            return month_day(str(value))
        except ValueError as exc:
            raise self.fail(path, str(exc).replace("invalid date", "bad date")) from None

    def duration(self, value: Any, path: Path_) -> Duration:
        match = DURATION_RE.match(str(value))
        if not match or int(match[1]) <= 0:
            raise self.fail(path, f"bad duration '{value}': expected e.g. 90d, 10wd or 3mo")
        unit = match[2]
        kind = ("working_days" if unit.startswith("w") else
                "months" if unit.startswith("mo") else "days")
        assert kind in DURATION_UNITS
        return Duration(int(match[1]), kind)

    def timers(self, raw: Any, path: Path_) -> TimerPolicy:
        return parse_timer_policy(raw, self.fail, path)

    # --- events ----------------------------------------------------------------------------
    def event(self, name: str, raw: Any, states: set[str]) -> EventDef:
        path: Path_ = ("events", name)
        self.name(name, path, "event name")
        raw = self.mapping(raw, path, f"event '{name}'")
        self.keys(raw, EVENT_KEYS, path, f"event '{name}'")
        for key in ("labels", "from", "to", "roles"):
            if key not in raw:
                raise self.fail(path, f"event '{name}' needs '{key}'")
        sources = raw["from"] if isinstance(raw["from"], list) else [raw["from"]]
        for i, src in enumerate(sources):
            if src not in states:
                raise self.fail((*path, "from", i) if isinstance(raw["from"], list)
                                else (*path, "from"), f"unknown state '{src}' in event '{name}'")
        if len(set(sources)) != len(sources):
            raise self.fail((*path, "from"), f"event '{name}' lists a source state twice")
        if raw["to"] not in states:
            raise self.fail((*path, "to"), f"unknown state '{raw['to']}' in event '{name}'")
        roles = raw["roles"] if isinstance(raw["roles"], list) else [raw["roles"]]
        if not roles:
            raise self.fail((*path, "roles"), f"event '{name}' needs at least one role")
        for i, role in enumerate(roles):
            if role not in ROLES:
                raise self.fail((*path, "roles", i) if isinstance(raw["roles"], list)
                                else (*path, "roles"),
                                f"unknown role '{role}'; roles are {', '.join(ROLES)}")
        not_by: frozenset[str] = frozenset()
        if "not_by" in raw:
            not_by = self.not_by(raw["not_by"], (*path, "not_by"), name, set(roles))
        reason = raw.get("reason", "optional")
        if reason not in ("required", "optional"):
            raise self.fail((*path, "reason"), "reason must be 'required' or 'optional'")
        fields = self.fields(raw.get("fields", {}), (*path, "fields"))
        names = {f.name for f in fields}
        one_of: list[tuple[str, ...]] = []
        for i, group in enumerate(raw.get("one_of", [])):
            if not isinstance(group, list) or len(group) < 2:
                raise self.fail((*path, "one_of", i), "one_of entries are lists of 2+ field names")
            for f in group:
                if f not in names:
                    raise self.fail((*path, "one_of", i), f"one_of names unknown field '{f}'")
            one_of.append(tuple(group))
        deadline_from = raw.get("deadline_from")
        if deadline_from is not None:
            spec = next((f for f in fields if f.name == deadline_from), None)
            if spec is None or spec.type != "date":
                raise self.fail((*path, "deadline_from"),
                                f"deadline_from '{deadline_from}' must name a date field")
        keeps_deadline = raw.get("keeps_deadline", False)
        if not isinstance(keeps_deadline, bool):
            raise self.fail((*path, "keeps_deadline"), "keeps_deadline must be true or false")
        if keeps_deadline and (set(sources) != {raw["to"]} or deadline_from is not None):
            raise self.fail((*path, "keeps_deadline"),
                            f"event '{name}' keeps the deadline: it must go from a state to "
                            "that same state, without deadline_from")
        milestone = raw.get("milestone")
        if milestone is not None and milestone not in MILESTONES:
            raise self.fail((*path, "milestone"), f"unknown milestone {milestone!r}; milestones: "
                                                   f"{', '.join(MILESTONES)}")
        return EventDef(
            name=name, labels=self.labels(raw["labels"], (*path, "labels")),
            sources=tuple(sources), dest=raw["to"], roles=frozenset(roles), not_by=not_by,
            reason=reason,
            fields=fields, one_of=tuple(one_of), deadline_from=deadline_from,
            milestone=milestone, keeps_deadline=keeps_deadline,
        )

    def not_by(self, raw: Any, path: Path_, event: str, allowed: set[str]) -> frozenset[str]:
        """Roles barred from the event (separation of duties): known person roles, none of
        them also among the event's allowed roles."""
        roles = raw if isinstance(raw, list) else [raw]
        if not roles:
            raise self.fail(path, f"not_by of event '{event}' needs at least one role")
        for i, role in enumerate(roles):
            where = (*path, i) if isinstance(raw, list) else path
            if role not in BARRABLE_ROLES:
                raise self.fail(where, f"unknown role {role!r} in not_by; roles that can be "
                                       f"barred are {', '.join(BARRABLE_ROLES)}")
            if role in allowed:
                raise self.fail(where, f"role '{role}' is both allowed (roles) and barred "
                                       f"(not_by) in event '{event}'")
        if len(set(roles)) != len(roles):
            raise self.fail(path, f"not_by of event '{event}' lists a role twice")
        return frozenset(roles)

    def fields(self, raw: Any, path: Path_) -> tuple[FieldSpec, ...]:
        raw = self.mapping(raw, path, "fields")
        out = []
        for fname, spec in raw.items():
            fpath: Path_ = (*path, fname)
            self.name(fname, fpath, "field name")
            if fname == "reason":
                raise self.fail(fpath, "'reason' is built in: use the event's 'reason' key")
            spec = self.mapping(spec, fpath, f"field '{fname}'")
            self.keys(spec, {"type", "required", "labels"}, fpath, f"field '{fname}'")
            ftype = spec.get("type", "text")
            if ftype not in FIELD_TYPES:
                raise self.fail((*fpath, "type"), f"unknown field type '{ftype}'; expected one "
                                                  f"of {', '.join(FIELD_TYPES)}")
            required = spec.get("required", False)
            if not isinstance(required, bool):
                raise self.fail((*fpath, "required"), "required must be true or false")
            labels = self.labels(spec["labels"], (*fpath, "labels")) if "labels" in spec else None
            out.append(FieldSpec(fname, ftype, required, labels))
        return tuple(out)

    # --- whole-graph rules -----------------------------------------------------------------
    def check_graph(self, wf: Workflow) -> None:
        reached: dict[str, str] = {}
        for ev in wf.events.values():
            if ev.milestone is None:
                continue
            if ev.milestone in reached:
                raise self.fail(("events", ev.name, "milestone"),
                                f"milestone '{ev.milestone}' is already reached by event "
                                f"'{reached[ev.milestone]}'")
            reached[ev.milestone] = ev.name
        outgoing: dict[str, set[str]] = {s: set() for s in wf.states}
        for ev in wf.events.values():
            for src in ev.sources:
                outgoing[src].add(ev.dest)
        seen = {wf.initial}
        queue = deque([wf.initial])
        while queue:
            for nxt in outgoing[queue.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        for name, state in wf.states.items():
            path: Path_ = ("states", name)
            if name not in seen:
                raise self.fail(path, f"state '{name}' is unreachable from '{wf.initial}'")
            exits = [ev.name for ev in wf.events.values() if name in ev.sources]
            if state.final and exits:
                raise self.fail(path, f"final state '{name}' has outgoing events: "
                                      f"{', '.join(exits)}")
            if not state.final and not exits:
                raise self.fail(path, f"state '{name}' is a dead end: give it an event out "
                                      "or mark it final: true")

    def check_timers(self, wf: Workflow) -> None:
        policies: list[tuple[Path_, TimerPolicy, list[str]]] = []
        if wf.timers is not None:
            policies.append((("timers",), wf.timers,
                             [s for s, d in wf.states.items() if d.deadline is not None]))
        for name, state in wf.states.items():
            if state.timers is not None:
                if state.deadline is None:
                    raise self.fail(("states", name, "timers"),
                                    f"state '{name}' has timers but no deadline")
                policies.append((("states", name, "timers"), state.timers, [name]))
        for path, policy, states in policies:
            auto = policy.on_overdue
            if auto is None:
                continue
            ev = wf.events.get(auto.event)
            if ev is None:
                raise self.fail((*path, "on_overdue", "fire"),
                                f"on_overdue fires unknown event '{auto.event}'")
            if "system" not in ev.roles:
                raise self.fail((*path, "on_overdue", "fire"),
                                f"on_overdue event '{auto.event}' must allow role 'system'")
            for state_name in states:
                if wf.timers_for(state_name) is policy and state_name not in ev.sources:
                    raise self.fail((*path, "on_overdue", "fire"),
                                    f"on_overdue event '{auto.event}' cannot fire from "
                                    f"'{state_name}'")
