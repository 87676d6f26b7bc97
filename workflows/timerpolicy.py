"""The reminder and escalation ladder of a deadline (`timers:`), read from plain data: the one
rule for a workflow file's `timers` and for the config's `[scheduler.timers]` overrides.

    remind_before: [14, 3]                      days before the deadline, 1–366
    escalate:
      - {after: 1, to: unit_head}               days after its legal end, 0–3650; to a role
      - {after: 7, to: office, repeat_every: 7} and again every N days, 1–366 …
      - {after: 1, to: unit_head, repeat_every: 7, repeat: 3}  … at most N more times, 0–52
                                                (a series always ends with the reporting year)
    on_overdue: {after: 90, fire: suspend}      an automatic event, 1–3650 days after
    overdue_notice: false                       no notice the day after (default: one)

`fail(path, reason)` makes the caller's error (the loader's `file:line`, the config's key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workflows.model import ROLES, AutoEvent, EscalationStep, TimerPolicy

Path = tuple[str | int, ...]
Fail = Callable[[Path, str], Exception]
KEYS = ("remind_before", "escalate", "on_overdue", "overdue_notice")
REMIND_DAYS = (1, 366)
AFTER_DAYS = (0, 3650)
REPEAT_DAYS = (1, 366)
AUTO_AFTER_DAYS = (1, 3650)


def _days(value: Any, bounds: tuple[int, int], path: Path, what: str, fail: Fail) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(path, f"{what} must be a whole number of days {low}–{high}, not {value!r}")
    return value


def _table(value: Any, keys: tuple[str, ...], path: Path, what: str, fail: Fail) -> Mapping[str,
                                                                                         Any]:
    if not isinstance(value, Mapping):
        raise fail(path, f"{what} must be a table of {', '.join(keys)}")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise fail((*path, unknown[0]), f"unknown key '{unknown[0]}' in {what}")
    return value


def parse_timer_policy(raw: Any, fail: Fail, path: Path = ()) -> TimerPolicy:
    raw = _table(raw, KEYS, path, "timers", fail)
    remind = raw.get("remind_before", [])
    if not isinstance(remind, list):
        raise fail((*path, "remind_before"), "remind_before must be a list of days")
    days = {_days(d, REMIND_DAYS, (*path, "remind_before", i), "days before", fail)
            for i, d in enumerate(remind)}
    escalate = raw.get("escalate", [])
    if not isinstance(escalate, list):
        raise fail((*path, "escalate"), "escalate must be a list of steps")
    steps = []
    for i, step in enumerate(escalate):
        spath: Path = (*path, "escalate", i)
        step = _table(step, ("after", "to", "repeat_every", "repeat"), spath,
                      "an escalation step", fail)
        if "after" not in step or "to" not in step:
            raise fail(spath, "escalation step needs 'after' (days) and 'to' (a role)")
        role = step["to"]
        if role not in ROLES or role == "system":
            raise fail((*spath, "to"), f"unknown role '{role}' to escalate to")
        repeat = step.get("repeat_every")
        times = step.get("repeat")
        if times is not None:
            if repeat is None:
                raise fail((*spath, "repeat"), "repeat needs repeat_every (how often)")
            if isinstance(times, bool) or not isinstance(times, int) or not 0 <= times <= 52:
                raise fail((*spath, "repeat"), f"repeat must be a whole number 0–52, "
                                                f"not {times!r}")
        steps.append(EscalationStep(
            _days(step["after"], AFTER_DAYS, (*spath, "after"), "after", fail), str(role),
            None if repeat is None else
            _days(repeat, REPEAT_DAYS, (*spath, "repeat_every"), "repeat_every", fail),
            times))
    auto = None
    if "on_overdue" in raw:
        opath: Path = (*path, "on_overdue")
        over = _table(raw["on_overdue"], ("after", "fire"), opath, "on_overdue", fail)
        if "after" not in over or "fire" not in over:
            raise fail(opath, "on_overdue needs 'after' (days) and 'fire' (an event)")
        auto = AutoEvent(_days(over["after"], AUTO_AFTER_DAYS, (*opath, "after"), "after", fail),
                         str(over["fire"]))
    notice = raw.get("overdue_notice", True)
    if not isinstance(notice, bool):
        raise fail((*path, "overdue_notice"), f"overdue_notice must be true or false, "
                                              f"not {notice!r}")
    return TimerPolicy(tuple(sorted(days, reverse=True)), tuple(steps), auto, notice)
