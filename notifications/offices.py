"""The offices that receive the units' work: which one a task's mail goes to, and who is copied.

Everything used to go to one office, the Medical Affairs office (Phòng Nghiệp vụ Y). The seeds
name others: plan 57 has the unit's plan for the year go to the Planning and Finance office
(Phòng Kế hoạch – Tài chính), and provincial tasks are co-managed with the Department of
Science and Technology (Sở KH&CN). So:

- **The default office** is the one `[mail]` has always described (`office_email`,
  `office_department`, `office_phone`, `office_address`), under the key `nghiep_vu_y`. A config
  with no `[[offices]]` is exactly what it was: one office, every mail to it.
- **Other offices** are `[[offices]]` entries: `key`, `name`, `email` (required: nobody else
  would read their mail), optional `agency` (another department, e.g. the Sở KH&CN), `address`,
  `phone`, `head_name`, `head_title`, `cc_levels`, and `obligations` / `workflows`: the
  obligations (by key) and workflows (by name) it receives, said on the office's side so that
  an install routes the built-in `unit_plan` without copying every obligation into its config.
- **Who receives a task's mail "for the office"** (escalations, copies of steps, the digest's
  lines) is the task's office: its obligation's (`office` in `[[scheduler.obligations]]`, or
  the office listing it), else its workflow's (`office:` in the YAML file, or the office
  listing it), else the default. An unknown office, obligation or workflow, or two offices
  named for one, is refused when nckh starts (`engine.app.build`), in one line.
- **Copies** (`cc_levels = ["province"]` on an office): that office gets a copy of every
  office-bound notice of a task at those levels, in its own digest, never urgent and never
  asking it to act. The copy lives in the configuration, not in the packaged workflow files,
  on purpose: a packaged `province_task.yaml` naming `so_khcn` would be invalid on every
  install that has no such office; an office that wants the copies says so where it is
  defined.

Each office reads its own digest (`notifications.digest`): the default one weekly as before;
another only when lines wait for it, with its own items and no province overview. A mail about
what another office receives (a unit's plan) names that office ("qua Phòng Kế hoạch – Tài
chính"), is signed by it and answered to it (Reply-To); everything else, the sender and the
letterhead stay the default office's: it runs the system.

Pure: parses values the shell read, never reads a file or the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workflows import addresses
from workflows.errors import InputError
from workflows.inputs import printable
from workflows.model import RESEARCH_LEVELS

DEFAULT_KEY = "nghiep_vu_y"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
OFFICE_KEYS = ("key", "name", "email", "agency", "address", "phone", "head_name", "head_title",
               "cc_levels", "obligations", "workflows")
Office = Mapping[str, Any]  # key, agency, department, prefix, email, phone, address, head_*


@dataclass(frozen=True)
class Routes:
    """Which office receives a task's office-bound mail, and which are copied."""

    default: str = DEFAULT_KEY
    workflows: Mapping[str, str] = field(default_factory=dict)  # workflow name -> office key
    obligations: Mapping[str, str] = field(default_factory=dict)  # obligation key -> office
    copies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # level -> office keys

    def office_for(self, workflow: str | None, obligation: str | None) -> str:
        """The obligation's office, else the workflow's, else the default."""
        if obligation and obligation in self.obligations:
            return self.obligations[obligation]
        if workflow and workflow in self.workflows:
            return self.workflows[workflow]
        return self.default

    def copies_for(self, level: str | None) -> tuple[str, ...]:
        return self.copies.get(level or "", ())


def _fail(where: str, message: str) -> InputError:
    return InputError(f"invalid [[offices]] {where}: {message}")


def _text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise _fail(where, f"{key} must be text in quotes, not {printable(repr(value))}")
    value = " ".join(value.split())
    if required and not value:
        raise _fail(where, f"'{key}' is required")
    return value


def parse_offices(raw: Sequence[Any], default: Office) -> dict[str, Office]:
    """Every office by key, the default (`default`, built from `[mail]`) first. Refused in one
    line: an entry that is not a table, an unknown or missing field, a bad key or e-mail
    address, a key or an address used twice, a level that is not a research level."""
    offices: dict[str, Office] = {DEFAULT_KEY: {**default, "key": DEFAULT_KEY}}
    emails = {str(default.get("email") or "").lower(): DEFAULT_KEY} if default.get("email") \
        else {}
    for i, entry in enumerate(raw):
        where = f"#{i + 1}"
        if not isinstance(entry, Mapping):
            raise _fail(where, "each office is a table: [[offices]] key = \"…\" name = \"…\"")
        unknown = sorted(set(entry) - set(OFFICE_KEYS))
        if unknown:
            raise _fail(where, f"unknown field '{printable(unknown[0])}' (known: "
                               f"{', '.join(OFFICE_KEYS)})")
        key = _text(entry, "key", where, required=True)
        if not KEY_RE.match(key):
            raise _fail(where, f"key '{printable(key)}': use lower-case letters, digits and _ "
                               "(e.g. ke_hoach_tai_chinh)")
        where = f"'{key}'"
        if key in offices:
            raise _fail(where, "this key is used twice" if key != DEFAULT_KEY else
                        f"'{DEFAULT_KEY}' is the default office, described by [mail] "
                        "(office_email, office_department…)")
        email = addresses.normalise(_text(entry, "email", where, required=True),
                                    what=f"[[offices]] '{key}' email")
        if email.lower() in emails:
            raise _fail(where, f"email {email} is already office '{emails[email.lower()]}''s: "
                               "each office reads its own digest")
        emails[email.lower()] = key
        levels = entry.get("cc_levels", [])
        if not isinstance(levels, list) or any(lv not in RESEARCH_LEVELS for lv in levels):
            raise _fail(where, f"cc_levels = {printable(repr(levels))}: expected a list of "
                               f"{', '.join(RESEARCH_LEVELS)}")
        receives = {}
        for what in ("obligations", "workflows"):
            names = entry.get(what, [])
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise _fail(where, f"{what} = {printable(repr(names))}: expected a list of "
                                   "names in quotes")
            receives[what] = tuple(names)
        offices[key] = {
            "key": key, "agency": _text(entry, "agency", where) or default["agency"],
            "department": _text(entry, "name", where, required=True),
            "prefix": default["prefix"], "email": email,
            "phone": _text(entry, "phone", where), "address": _text(entry, "address", where),
            "head_name": _text(entry, "head_name", where),
            "head_title": _text(entry, "head_title", where),
            "cc_levels": tuple(str(lv) for lv in levels), **receives,
        }
    return offices


def routes_for(offices: Mapping[str, Office], workflows: Mapping[str, str | None],
               obligations: Mapping[str, str | None]) -> Routes:
    """The routes, every office named checked: `workflows` and `obligations` map a workflow's
    name (its file) and an obligation's key to the office it names, or None."""
    known = ", ".join(offices)

    def check(what: str, key: str | None) -> str | None:
        if key is not None and key not in offices:
            raise InputError(f"{what} names office '{printable(key)}', which is not configured "
                             f"(offices: {known}; add it under [[offices]])")
        return key

    def routed(what: str, named: Mapping[str, str | None], field_: str) -> dict[str, str]:
        out = {name: k for name, key in named.items()
               if (k := check(f"{what} '{name}'", key)) is not None}
        for key, office in offices.items():
            for name in office.get(field_) or ():
                if name not in named:
                    raise InputError(f"[[offices]] '{key}' {field_}: no {what} '"
                                     f"{printable(name)}' (known: {', '.join(named)})")
                if out.get(name, key) != key:
                    raise InputError(f"{what} '{name}' is given to two offices, '{out[name]}' "
                                     f"and '{key}': name one")
                out[name] = key
        return out

    by_workflow = routed("workflow", workflows, "workflows")
    by_obligation = routed("obligation", obligations, "obligations")
    copies: dict[str, tuple[str, ...]] = {}
    for key, office in offices.items():
        for level in office.get("cc_levels") or ():
            copies[level] = (*copies.get(level, ()), key)
    return Routes(DEFAULT_KEY, by_workflow, by_obligation, copies)
