"""Who receives a message: the roles a kind names (kinds.yaml), resolved against the directory.

Resolved when the message is first claimed for sending, not when it is queued, so a unit head
replaced in between gets the mail, and an inactive person does not. Every recipient is a plain
dict (`role`, `name`, `title`, `email`, `unit_name`) the templates may read. The office is its
configured address, or else its active people with role `office`. An address appears
once: `to` first, then `cc` minus what `to` has. With nobody in `to` the copies move up.

"The office" is the task's office (`notifications.offices`: its obligation's, its workflow's,
else the default), which the caller passes; an office recipient carries its key (`office`), so
its lines go into that office's digest. Offices copied on the task's level (`copies`) are
added to `cc` of a kind that names the office, marked `copy`: to know, never to act.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from notifications.catalog import KindSpec
from notifications.offices import DEFAULT_KEY
from storage.mailfacts import People, PersonFacts, TaskFacts, UnitFacts
from workflows.model import OBLIGATION_LEVEL

Recipient = dict[str, Any]


class NoRecipients(Exception):
    """Nobody to send to (no office address configured, no active person in the roles…)."""


def _person(role: str, person: PersonFacts, unit_name: str) -> Recipient:
    return {"role": role, "name": " ".join(person.name.split()), "title": person.title or "",
            "email": person.email, "unit_name": unit_name}


def _for_role(people: People, role: str, task: TaskFacts | None, unit: UnitFacts | None,
              office: Mapping[str, Any], addressed: Sequence[str]) -> list[Recipient]:
    if role == "pi":
        if task is None or not task.pi.active:
            return []
        # A unit's report has the unit head as its investigator: addressed as the head.
        as_role = "unit_head" if task.level == OBLIGATION_LEVEL else "pi"
        return [_person(as_role, task.pi, unit.name if unit else "")]
    if role == "unit_head":
        if unit is None:
            return []
        return [_person("unit_head", p, unit.name) for p in people.heads(unit.id)]
    if role == "unit_contact":
        if unit is None or not unit.contact_email:
            return []
        return [{"role": "unit_contact", "name": "", "title": "", "email": unit.contact_email,
                 "unit_name": unit.name}]
    if role == "office":
        return office_recipients(people, office)
    if role == "council":
        return [_person("council", p, p.unit_name) for p in people.council()]
    if role == "addressed":
        return addressed_recipients(people, office, addressed)
    raise ValueError(f"unknown role {role!r}")


def addressed_recipients(people: People, office: Mapping[str, Any],
                         addressed: Sequence[str]) -> list[Recipient]:
    """Addresses a caller gave (a report's, a test's), written to as whom they belong to: the
    office's own address or an office person as the office, a registered person by their role
    and name; an address nobody registered keeps the role `addressed` and no name (the
    templates then greet a role, never the bare address)."""
    known = people.by_email(list(addressed))
    out: list[Recipient] = []
    for e in addressed:
        person = known.get(e.strip().lower())
        if e.strip().lower() == str(office.get("email") or "").lower() or (
                person is not None and person.role == "office"):
            out.append({"role": "office", "name": str(office["department"]), "title": "",
                        "email": e, "unit_name": ""})
        elif person is not None:
            out.append(_person(person.role, person, person.unit_name) | {"email": e})
        else:
            out.append({"role": "addressed", "name": "", "title": "", "email": e,
                        "unit_name": ""})
    return out


def reply_address(office: Mapping[str, Any], office_people: Sequence[PersonFacts],
                  mail_from: str) -> str:
    """Where an answer to any mail goes (Reply-To, always set): the office's configured
    address, else its first active person's, else — no office at all, which `nckh doctor`
    reports — the sender itself."""
    if office.get("email"):
        return str(office["email"])
    return office_people[0].email if office_people else mail_from


def office_recipients(people: People, office: Mapping[str, Any]) -> list[Recipient]:
    """The Medical Affairs office: its configured address, or, with no shared mailbox
    configured, its active registered staff (so a fresh install still tells the office what is
    late). Empty when there is neither: nobody would read the office's mail."""
    # Its key says whose digest its lines go to; its name and agency, how it is greeted.
    own = {"office": str(office.get("key") or DEFAULT_KEY),
           "department": str(office["department"]), "agency": str(office.get("agency") or "")}
    if office.get("email"):
        return [{"role": "office", "name": str(office["department"]), "title": "",
                 "email": str(office["email"]), "unit_name": ""} | own]
    return [_person("office", p, "") | {"name": str(office["department"])} | own
            for p in people.office()]


def resolve(people: People, spec: KindSpec, *, task: TaskFacts | None, unit: UnitFacts | None,
            office: Mapping[str, Any], addressed: Sequence[str] = (),
            copies: Sequence[Mapping[str, Any]] = ()) -> dict[str, list[Recipient]]:
    seen: set[str] = set()

    def collect(roles: Sequence[str]) -> list[Recipient]:
        out: list[Recipient] = []
        for role in roles:
            for r in _for_role(people, role, task, unit, office, addressed):
                key = r["email"].strip().lower()
                if key and key not in seen:
                    seen.add(key)
                    out.append(r)
        return out

    to = collect(spec.to)
    cc = collect(spec.cc)
    if "office" in (*spec.to, *spec.cc):
        for copied in copies:
            for r in office_recipients(people, copied):
                if r["email"].strip().lower() not in seen:
                    seen.add(r["email"].strip().lower())
                    cc.append(r | {"copy": True})
    if not to:
        to, cc = cc, []
    if not to:
        raise NoRecipients(f"no recipient for kind {spec.name} "
                           f"(roles {', '.join(spec.to + spec.cc)} resolve to no address)")
    return {"to": to, "cc": cc}
