"""Reading and validating the sample province file into frozen values.

The file is data (`province.toml`): units, their heads and contacts, the office and council
people, and tasks with dated steps ("MM-DD" of the plan year), their councils
(decision, members, meeting day), the acceptance council's outcome as a step, and a
recognition. A bad entry is an `InputError`
that names it; nothing is loaded from a file that does not validate.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows.errors import InputError
from workflows.model import month_day

DEFAULT_FILE = Path(__file__).with_name("province.toml")
MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
REPORT_HABITS = ("on_time", "late", "never")


@dataclass(frozen=True)
class SamplePerson:
    name: str
    email: str
    title: str | None = None


@dataclass(frozen=True)
class SampleUnit:
    code: str
    name: str
    kind: str
    head: SamplePerson
    contact: str | None
    reports: str  # how it answers calendar obligations in the demo: on_time | late | never


@dataclass(frozen=True)
class Step:
    event: str
    on: tuple[int, int]
    reason: str | None = None
    data: Mapping[str, str] | None = None
    role: str | None = None  # who fires it; default: the first of pi, council, unit_head, office
    # The acceptance council's outcome (`nckh council outcome`): passed, revise or failed, with
    # its grade; it fires the workflow's own event (`event` is then the one whose actor records
    # it: accept).
    result: str | None = None
    grade: str | None = None

    def at(self, year: int, tz: dt.tzinfo) -> dt.datetime:
        return dt.datetime(year, *self.on, 9, 0, tzinfo=tz)

    def data_for(self, year: int) -> dict[str, str]:
        """Values with "MM-DD" made dates of the year and "{year}" filled in."""
        out = {}
        for key, value in (self.data or {}).items():
            text = str(value).replace("{year}", str(year))
            out[key] = f"{year}-{text}" if MONTH_DAY.match(text) else text
        return out


@dataclass(frozen=True)
class SamplePublication:
    """An article of a task, published on `on` ("MM-DD") of the plan year."""

    title: str
    kind: str
    on: tuple[int, int]
    venue: str | None = None
    authors: str | None = None  # default: the task's investigator
    url: str | None = None
    doi: str | None = None

    def at(self, year: int, tz: dt.tzinfo) -> dt.datetime:
        return dt.datetime(year, *self.on, 10, 0, tzinfo=tz)


@dataclass(frozen=True)
class SampleCouncil:
    """A council set on `on` ("MM-DD"), established by a decision of `decided`, meeting on
    `meeting`; members are "EMAIL:ROLE" as `nckh council set --member` takes them."""

    stage: str
    decision_no: str
    decided: tuple[int, int]
    on: tuple[int, int]
    members: tuple[str, ...]
    meeting: tuple[int, int] | None = None

    def at(self, year: int, tz: dt.tzinfo) -> dt.datetime:
        return dt.datetime(year, *self.on, 11, 0, tzinfo=tz)


@dataclass(frozen=True)
class SampleRecognition:
    """The recognition decision (công nhận) of an accepted task, recorded on its day."""

    decision_no: str
    on: tuple[int, int]
    issuer: str = "department"

    def at(self, year: int, tz: dt.tzinfo) -> dt.datetime:
        return dt.datetime(year, *self.on, 11, 0, tzinfo=tz)


@dataclass(frozen=True)
class SampleTask:
    unit: str
    level: str
    title: str
    topic: int | None
    pi: SamplePerson
    registered: tuple[int, int]
    steps: tuple[Step, ...]
    publications: tuple[SamplePublication, ...] = ()
    councils: tuple[SampleCouncil, ...] = ()
    recognition: SampleRecognition | None = None

    def registered_at(self, year: int, tz: dt.tzinfo) -> dt.datetime:
        return dt.datetime(year, *self.registered, 8, 30, tzinfo=tz)


@dataclass(frozen=True)
class Province:
    office: SamplePerson
    council: tuple[SamplePerson, ...]
    units: tuple[SampleUnit, ...]
    tasks: tuple[SampleTask, ...]
    # The offices besides the Medical Affairs one, as `[[offices]]` entries of the config
    # (`notifications.offices`): `nckh demo` runs with them when the operator's config has none.
    offices: tuple[Mapping[str, Any], ...] = ()

    def unit(self, code: str) -> SampleUnit:
        for u in self.units:
            if u.code == code:
                return u
        raise KeyError(code)


def _month_day(text: Any, where: str) -> tuple[int, int]:
    try:
        return month_day(str(text))
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def _person(raw: Any, where: str) -> SamplePerson:
    if not isinstance(raw, dict) or not raw.get("name") or not raw.get("email"):
        raise InputError(f"{where}: expected {{ name = …, email = … }}")
    return SamplePerson(str(raw["name"]), str(raw["email"]), raw.get("title"))


def _publication(raw: Any, where: str) -> SamplePublication:
    if not isinstance(raw, dict) or not raw.get("title") or not raw.get("kind"):
        raise InputError(f"{where}: expected {{ title = …, kind = …, on = \"MM-DD\" }}")
    return SamplePublication(str(raw["title"]), str(raw["kind"]), _month_day(raw.get("on"), where),
                             raw.get("venue"), raw.get("authors"), raw.get("url"), raw.get("doi"))


def _council(raw: Any, where: str) -> SampleCouncil:
    if not isinstance(raw, dict) or not raw.get("decision_no") or not raw.get("members"):
        raise InputError(f"{where}: expected {{ stage = …, decision_no = …, decided = \"MM-DD\", "
                         "on = \"MM-DD\", members = [\"EMAIL:ROLE\", …] }")
    decided = _month_day(raw.get("decided", raw.get("on")), where)
    on = _month_day(raw.get("on"), where)
    meeting = _month_day(raw["meeting"], where) if raw.get("meeting") else None
    if decided > on or (meeting is not None and meeting < decided):
        raise InputError(f"{where}: `decided` must not be after `on`, nor `meeting` before "
                         "`decided`")
    return SampleCouncil(str(raw.get("stage", "acceptance")), str(raw["decision_no"]), decided,
                         on, tuple(str(m) for m in raw["members"]), meeting)


def _recognition(raw: Any, where: str) -> SampleRecognition | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("decision_no"):
        raise InputError(f"{where}: expected {{ decision_no = …, on = \"MM-DD\" }}")
    return SampleRecognition(str(raw["decision_no"]), _month_day(raw.get("on"), where),
                             str(raw.get("issuer", "department")))


def _step(s: Mapping[str, Any], where: str) -> Step:
    """A workflow event, or (`result = …`) the acceptance council's outcome."""
    if s.get("result"):
        return Step("accept", _month_day(s.get("on"), f"{where} outcome"), s.get("reason"),
                    None, s.get("as"), str(s["result"]), s.get("grade"))
    return Step(str(s["event"]), _month_day(s.get("on"), f"{where} step {s['event']}"),
                s.get("reason"), s.get("data"), s.get("as"))


def parse(raw: Mapping[str, Any], file: str = "province.toml") -> Province:
    units = []
    for i, u in enumerate(raw.get("unit", []), 1):
        where = f"{file}: unit #{i}"
        if not u.get("code") or not u.get("name"):
            raise InputError(f"{where}: needs code and name")
        habit = u.get("reports", "on_time")
        if habit not in REPORT_HABITS:
            raise InputError(f"{where}: reports must be one of {', '.join(REPORT_HABITS)}")
        units.append(SampleUnit(u["code"], u["name"], u.get("kind", "public"),
                                _person(u.get("head"), f"{where} head"), u.get("contact"),
                                habit))
    codes = {u.code for u in units}
    tasks = []
    for i, t in enumerate(raw.get("task", []), 1):
        where = f"{file}: task #{i}"
        if t.get("unit") not in codes:
            raise InputError(f"{where}: unknown unit '{t.get('unit')}'")
        steps = tuple(_step(s, where) for s in t.get("steps", []))
        days = [_month_day(t.get("registered"), where), *[s.on for s in steps]]
        if days != sorted(days):
            raise InputError(f"{where}: steps are not in date order")
        publications = tuple(_publication(p, f"{where} publication #{n}")
                             for n, p in enumerate(t.get("publications", []), 1))
        councils = tuple(_council(c, f"{where} council #{n}")
                         for n, c in enumerate(t.get("councils", []), 1))
        tasks.append(SampleTask(t["unit"], str(t.get("level", "unit")), str(t["title"]),
                                t.get("topic"), _person(t.get("pi"), f"{where} pi"), days[0],
                                steps, publications, councils,
                                _recognition(t.get("recognition"), f"{where} recognition")))
    return Province(_person(raw.get("office"), f"{file}: office"),
                    tuple(_person(c, f"{file}: council") for c in raw.get("council", [])),
                    tuple(units), tuple(tasks), tuple(raw.get("offices", ())))


def read(path: Path | None = None) -> Province:
    path = path or DEFAULT_FILE
    try:
        with path.open("rb") as fh:
            return parse(tomllib.load(fh), path.name)
    except FileNotFoundError:
        raise InputError(f"sample file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); is it a TOML file?") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
