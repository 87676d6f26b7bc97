"""One e-mail per person per day: notices gathered into letters, the office's into its digest.

Each kind says how it reaches people (`send` in kinds.yaml):

- `single`: one message to all its recipients (a report, a test, the digest, a letter itself);
- `immediate`: a step that concerns its `to` people (their outline approved, their report
  returned) goes to them at once, as a mail of its own; its copies wait for their readers'
  letters;
- `daily`: a reminder, a notice, an escalation, a request — for each reader, a line in their
  next letter.

Anything for the office (an escalation, a copy of a step) is a line of its digest, never a
mail of its own (unless the province asks for a research task's first escalation at once).
With several offices (`notifications.offices`), each line is for one office's digest: the
recipient's `office` key says which.

When a notice is first claimed, `split` resolves its readers and fans it out into lines
(`storage.letters`). Then, on working days in office hours, `compose_letters` writes each
person who has waiting lines and no letter yet that day one letter, holding all of them; a
unit's head and its research contact share theirs when all they are told is the unit's
business (`desk`). A person who already had a letter today gets the rest tomorrow. A letter
with one notice reads as that notice; with several, as a numbered list whose subject gives the
count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from notifications.catalog import Catalog, KindSpec
from notifications.config import MailConfig
from notifications.outbox import enqueue
from storage.db import Connection
from storage.letters import (
    WaitingLine,
    attach,
    lettered_today,
    lock_composition,
    notice_files,
    timers_still_due,
    waiting_lines,
)
from workflows.model import OBLIGATION_LEVEL

Recipient = dict[str, Any]
# A sweep still firing the day's timers (on this daemon or another) is waited for this long.
SWEEP_WAIT = dt.timedelta(hours=1)


def split(spec: KindSpec, recipients: Mapping[str, Sequence[Recipient]],
          facts: Mapping[str, Any], level: str | None, cfg: MailConfig,
          ) -> tuple[dict[str, list[Recipient]] | None, list[dict[str, Any]]]:
    """(who gets the notice as a mail of its own now, or None; its lines for letters and the
    digest). `recipients` are the kind's `to` and `cc`, resolved."""
    to, cc = list(recipients["to"]), list(recipients["cc"])
    digest_on = cfg.digest_weekday is not None
    if (spec.name == "escalation_office" and cfg.first_escalation_at_once
            and facts.get("occurrence", 0) == 0 and level != OBLIGATION_LEVEL):
        return {"to": to, "cc": []}, []
    direct: list[Recipient] = []
    lines: list[dict[str, Any]] = []

    def line(r: Recipient, role: str) -> None:
        office = r.get("role") == "office" and digest_on
        # A copied office (the Sở KH&CN on a provincial task) reads it in its next digest:
        # to know, so it never hurries that digest and is never asked to act.
        copy = bool(r.get("copy"))
        lines.append({"email": r["email"], "recipient": dict(r), "role": "cc" if copy else role,
                      "office": office, "urgent": spec.urgent and office and not copy})

    for r in to:
        if spec.send == "immediate" and r.get("role") != "office":
            direct.append(r)
        else:
            line(r, "to")
    for r in cc:
        line(r, "cc")
    return ({"to": direct, "cc": []} if direct else None), lines


def local_day(now: dt.datetime, tz: dt.tzinfo) -> tuple[dt.date, dt.datetime]:
    """Today's date where the office is, and the moment it began."""
    day = now.astimezone(tz).date()
    return day, dt.datetime.combine(day, dt.time(0), tzinfo=tz)


def compose_letters(conn: Connection, *, now: dt.datetime, tz: dt.tzinfo, catalog: Catalog,
                    lang: str, office_hours: Callable[[dt.datetime], bool]) -> int:
    """Write today's letters for the people with waiting lines who have none yet; returns how
    many letters were queued. Nothing outside office hours, nor while the day's timers are
    still being fired."""
    if not office_hours(now):
        return 0
    lock_composition(conn)
    if timers_still_due(conn, now, SWEEP_WAIT):
        return 0
    lines = waiting_lines(conn, office=False)
    if not lines:
        return 0
    day, start = local_day(now, tz)
    by_person: dict[str, list[WaitingLine]] = defaultdict(list)
    for ln in lines:
        by_person[ln.email.lower()].append(ln)
    done = lettered_today(conn, [ln.email for ln in lines], since=start)
    done = {e.lower() for e in done}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for email, mine in by_person.items():
        if email not in done:
            groups[desk(email, mine)].append(email)
    queued = 0
    for _, emails in sorted(groups.items()):
        members = sorted(emails)
        mine = [ln for e in members for ln in by_person[e]]
        letter_id = enqueue(conn, kind="letter", now=now, dedupe_key=f"letter:{day}:{members[0]}",
                            context=letter_facts(day, mine), lang=lang, catalog=catalog,
                            attachments=notice_files(conn, [ln.item_id for ln in mine]))
        if letter_id is None:
            continue  # written already (another daemon, same lock): its lines stay waiting
        attach(conn, [ln.id for ln in mine], letter_id)
        queued += 1
    return queued


UNIT_ROLES = frozenset({"unit_head", "unit_contact"})


def desk(email: str, lines: Sequence[WaitingLine]) -> tuple[str, str]:
    """Who shares a letter: a unit's head and its research contact, when all they are told that
    day is the unit's business, get one letter together (as an administrative letter goes to
    a unit); anybody else, their own."""
    roles = {ln.recipient.get("role") for ln in lines}
    units = {ln.recipient.get("unit_name") or "" for ln in lines}
    if roles <= UNIT_ROLES and len(units) == 1 and "" not in units:
        return ("unit", units.pop())
    return ("person", email)


def letter_facts(day: dt.date, lines: Sequence[WaitingLine]) -> dict[str, Any]:
    """A letter's stored facts: its day, its readers (To: those with something to do; Cc: the
    rest) and its notices, in the order they were queued."""
    people: dict[str, Recipient] = {}
    acts: set[str] = set()
    for ln in lines:
        people.setdefault(ln.email.lower(), ln.recipient)
        if ln.role == "to":
            acts.add(ln.email.lower())
    to = [people[e] for e in sorted(people) if e in acts] or [people[e] for e in sorted(people)]
    cc = [people[e] for e in sorted(people) if e not in {r["email"].lower() for r in to}]
    items: dict[int, dict[str, Any]] = {}
    for ln in sorted(lines, key=lambda ln: ln.item_id):
        items.setdefault(ln.item_id, {"id": ln.item_id, "kind": ln.kind, "role": ln.role})
        if ln.role == "to":
            items[ln.item_id]["role"] = "to"
    return {"letter": {"day": day, "items": list(items.values())},
            "recipients": {"to": to, "cc": cc}}
