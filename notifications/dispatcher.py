"""The dispatcher: one pass of the outbox as of `now` — the `outbox` tick job.

Claims due rows in batches (see `notifications.outbox` for the design note: the invariant and how
a crash at each step is survived), renders a row the first time it is claimed, hands the batch to
its transport (`notifications.transports`: SMTP, the maildir, or the in-memory one of the tests;
chosen once, when the dispatcher is built) and records each outcome the transport reports.
Templates are checked once per process before the first pass: a broken template stops the daemon
at start, not a mail at send time.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.catalog import Catalog, KindSpec
from notifications.config import MailConfig
from notifications.context import (
    Subject,
    _jsonable_recipients,
    build_context,
    empty_context,
    gather,
    office_of,
)
from notifications.digest import compose_digest
from notifications.letters import compose_letters, split
from notifications.links import Links
from notifications.message import (
    Attachment,
    BadMessage,
    build_message,
    calendar_file,
    domain_of,
    message_id_for,
)
from notifications.offices import DEFAULT_KEY
from notifications.outbox import Outcome, record
from notifications.recipients import NoRecipients, reply_address, resolve
from notifications.render import Rendered, Renderer, TemplateProblem
from notifications.samples import all_samples
from notifications.transports import transport_for
from notifications.transports.base import Outgoing, Transport
from storage.access import active_person_id
from storage.db import Connection, DbEngine, read_session, write
from storage.leases import LeaseKeeper, holder_id
from storage.letters import add_lines, notices
from storage.mailfacts import People, task_facts
from storage.outbox import (
    HeldMessage,
    claim_due,
    held_rows,
    renew_claims,
    store_renderings,
)
from workflows import addresses
from workflows.clock import RunningClock
from workflows.errors import InputError
from workflows.model import WorkingDays

log = logging.getLogger("nckh.mail")
MAX_BATCHES_PER_TICK = 100
# A subject's "[Sở Y tế] ", dropped in a letter's list and in a calendar entry's title (the
# entry names the topic; the calendar already says whose it is).
_PREFIX = re.compile(r"^\[[^\]]*\]\s*")


class Dispatcher:
    def __init__(self, db: DbEngine, cfg: MailConfig, catalog: Catalog, renderer: Renderer, *,
                 tz: dt.tzinfo, owner: str | None = None, rng: random.Random | None = None,
                 calendar: WorkingDays | None = None, transport: Transport | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 office_hours: Callable[[dt.datetime], bool] | None = None,
                 links: Links | None = None) -> None:
        self.db = db
        self.links = links  # personal links in mails (sign-in, action); none: mails carry none
        self.cfg = cfg
        self.catalog = catalog
        self.renderer = renderer
        self.tz = tz
        self.owner = owner or holder_id()
        self.monotonic = monotonic
        self.rng = rng or random.Random()
        self.calendar = calendar or WorkingDays()  # the business calendar: days off
        self.transport = transport or transport_for(cfg)
        # When letters may be written (the scheduler's working days and hours); by default
        # any working day from the digest hour.
        self.office_hours = office_hours or self._default_hours
        self._checked = False

    # --- start-up ---------------------------------------------------------------------------
    def check(self) -> None:
        """Render every template against sample data; raise on the first broken one."""
        problems = self.renderer.check(all_samples(self.cfg, self.catalog))
        if problems:
            more = f" (and {len(problems) - 1} more; run `nckh mail check`)" if len(
                problems) > 1 else ""
            raise TemplateProblem(problems[0] + more)
        self._checked = True

    # --- one pass ---------------------------------------------------------------------------
    def tick(self, now: dt.datetime, stop: Callable[[], bool] = lambda: False,
             ) -> Mapping[str, int]:
        """Send what is due, a batch at a time. When `stop()` turns true the messages on the wire
        finish, the rest of the batch is released untried, and everything waits for the next
        pass (or another daemon)."""
        if not self._checked:
            self.check()
        counts: Counter[str] = Counter()
        clock = RunningClock(now, self.monotonic)  # leases run from each claim, not the pass
        # Notices queued since the last pass fan out first, so that today's letters and the
        # digest hold them (a report due today rides in the digest, not in next week's).
        self._send_due(clock, now, stop, counts)
        if not stop():
            self.compose(now, counts)
            if (counts["digest"] or counts["letters"]) and not counts.get("deferred"):
                self._send_due(clock, now, stop, counts)
        counts.pop("fanned", None)
        return dict(counts)

    def compose(self, now: dt.datetime, counts: Counter[str]) -> None:
        """Write the office's digest and today's letters from the lines waiting for them."""
        with write(self.db) as conn:
            counts["digest"] += compose_digest(
                conn, self.cfg, now=now, tz=self.tz, lang=self.cfg.lang, catalog=self.catalog,
                working_days=self.calendar)
            counts["letters"] += compose_letters(
                conn, now=now, tz=self.tz, catalog=self.catalog, lang=self.cfg.lang,
                office_hours=self.office_hours)

    def _send_due(self, clock: RunningClock, now: dt.datetime, stop: Callable[[], bool],
                  counts: Counter[str]) -> int:
        """Claim and send due rows batch by batch; returns how many notices were fanned out."""
        fanned = counts.get("fanned", 0)
        for _ in range(MAX_BATCHES_PER_TICK):
            if stop():
                break
            batch, failed = self.claim(clock.now())
            counts["dead"] += failed
            counts["fanned"] += batch.fanned
            if not batch.claimed:
                break
            if not batch.items:
                continue
            sent = self.send(batch, now, stop, clock.now)
            counts.update(sent)
            if sent.get("deferred"):  # the server cannot be reached: the next pass tries again
                break
        return counts.get("fanned", 0) - fanned

    def _default_hours(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.tz)
        return self.calendar.is_working_day(local.date()) and local.hour >= self.cfg.digest_hour

    def claim(self, now: dt.datetime, limit: int | None = None) -> tuple[Batch, int]:
        """Lease due rows (a short transaction), then prepare their messages outside it; rows
        that cannot be built die here. Returns the batch and how many died."""
        until = now + self.cfg.lease
        with write(self.db) as conn:
            ids = claim_due(conn, now=now, until=until, owner=self.owner,
                            limit=limit or self.cfg.batch_size)
        if not ids:
            return Batch([], until, 0), 0
        items, dead, fanned = self._prepare(ids)
        return Batch(items, until, len(ids), fanned), dead

    def _prepare(self, ids: list[int]) -> tuple[list[Outgoing], int, int]:
        """Render what was never rendered (in a read transaction: nothing is locked meanwhile),
        fan notices out into letter lines, build every message, then store the new renderings,
        the lines, the bundled notices and the deaths in one short write, guarded by our lease.
        Returns the messages, how many died and how many notices were fanned out."""
        items: list[Outgoing] = []
        renderings: list[dict[str, Any]] = []
        calendars: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        bundled: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        with read_session(self.db) as s:  # no write lock while rendering
            conn = s.connection()
            reply_to = self.reply_to(conn)
            for row in held_rows(conn, ids, owner=self.owner):
                try:
                    fresh = row.subject is None
                    if fresh:
                        frozen, fanned, readers = self._first_rendering(conn, row)
                        if fanned is not None:
                            lines += [{**ln, "item_id": row.id, "created_at": row.created_at}
                                      for ln in fanned]
                        if frozen is None:  # every reader gets it in a letter or the digest
                            bundled.append({"b_id": row.id, "b_recipients": readers})
                            continue
                    else:
                        frozen = Frozen.of(row)
                    items.append(self.outgoing(row, frozen, reply_to=reply_to))
                except (NoRecipients, BadMessage, InputError) as exc:
                    dead.append({"b_id": row.id, "b_error": str(exc)})
                    log.warning("outbox %s (%s) is dead: %s", row.id, row.kind, exc)
                    continue
                if fresh:
                    renderings.append(frozen.values(row.id))
                    calendars += [{"outbox_id": row.id, **c} for c in frozen.calendars]
        if renderings or dead or bundled:
            with write(self.db) as conn:
                store_renderings(conn, renderings, calendars, dead, owner=self.owner,
                                 bundled=bundled)
                add_lines(conn, lines)
        return items, len(dead), len(bundled) + len({ln["item_id"] for ln in lines})

    def _first_rendering(self, conn: Connection, row: HeldMessage) -> tuple[
            Frozen | None, list[dict[str, Any]] | None, dict[str, Any] | None]:
        """A row's first rendering; for a notice, its lines and all its readers (the kind's
        `to` and `cc`, resolved). No rendering when all of them get it in letters or the
        digest."""
        if row.kind == "letter":
            return self._render_letter(conn, row), None, None
        spec = self.catalog.kind(row.kind)
        if spec.send == "single":
            return self._render(conn, row), None, None
        subject = gather(conn, row.task_id, row.context, self.tz)
        recipients = self._recipients(conn, spec, subject, row)
        direct, fanned = split(spec, recipients, row.context,
                               subject.task.level if subject.task else None, self.cfg)
        readers = _jsonable_recipients(recipients)
        if direct is None:
            return None, fanned, readers
        return self._render(conn, row, subject=subject, recipients=direct), fanned, readers

    def _action_url(self, conn: Connection, spec: KindSpec, task_id: int | None,
                    to: list[dict[str, Any]]) -> str | None:
        """The personal link of a mail that asks its one reader to act on a task: the same
        link in every mail to that person about that task (notifications/links.py)."""
        if self.links is None or not spec.act or task_id is None or len(to) != 1:
            return None
        person_id = active_person_id(conn, str(to[0].get("email", "")))
        return None if person_id is None else self.links.action_url(person_id, int(task_id))

    def _calendar_day(self, deadline: Mapping[str, Any]) -> dt.date:
        return calendar_day(deadline, self.calendar)

    def _render(self, conn: Connection, row: HeldMessage, *, subject: Subject | None = None,
                recipients: Mapping[str, Any] | None = None) -> Frozen:
        """The message as it will be sent every time: recipients, subject, bodies, calendar
        file and Message-ID, from the row's facts (as of its event) and the directory now."""
        spec = self.catalog.kind(row.kind)
        subject = subject or gather(conn, row.task_id, row.context, self.tz)
        if recipients is None:
            recipients = self._recipients(conn, spec, subject, row)
        today = row.created_at.astimezone(self.tz).date()
        context = build_context(
            subject, kind=row.kind, lang=row.lang, facts=row.context, recipients=recipients,
            cfg=self.cfg, catalog=self.catalog, today=today, tz=self.tz)
        if row.kind == "report":
            context["report"] = {**(context["report"] or {}),
                                 "files": [a.filename for a in row.attachments]}
        context["action_url"] = self._action_url(conn, spec, row.task_id, recipients["to"])
        if row.kind == "signin_link" and self.links is not None:
            signin = row.context["signin"]
            context["signin"] = {"url": self.links.signin_url(int(signin["id"]), signin["salt"]),
                                 "minutes": int(signin["minutes"])}
        rendered = self.renderer.render(row.kind, row.lang, context)
        calendars = self._calendars(spec, context, rendered, row.context, row.id, row.created_at)
        readers = _jsonable_recipients(recipients)
        if (answer := _reply_to(context["office"])) is not None:
            readers["reply_to"] = answer
        return Frozen(readers, rendered.subject, rendered.text,
                      rendered.html, message_id_for(row.id, row.created_at, self.cfg.mail_from),
                      calendars)

    def _recipients(self, conn: Connection, spec: KindSpec, subject: Subject,
                    row: HeldMessage) -> dict[str, list[dict[str, Any]]]:
        """Who receives it: the directory as it is now (a head replaced since the event gets
        it, a person who left does not), whatever the mail says as of its event."""
        task = subject.task
        if task is not None and row.context.get("as_of"):
            task = task_facts(conn, task.id) or task
        office, copies = self.offices_of(subject, row.context)
        return resolve(People(conn), spec, task=task, unit=task.unit if task else subject.unit,
                       office=office, addressed=row.addressed_to, copies=copies)

    def offices_of(self, subject: Subject, facts: Mapping[str, Any],
                   ) -> tuple[Mapping[str, Any], list[Mapping[str, Any]]]:
        """The office a mail "to the office" goes to, and the offices copied: a digest's own
        (stored with it), else the task's (its obligation's, its workflow's, the default)
        with the offices copied on its level."""
        if facts.get("digest") is not None:
            return self.cfg.office_named(facts.get("office")), []
        return office_of(self.cfg, subject), (
            self.cfg.copies_for(subject.task.level) if subject.task else [])

    def _calendars(self, spec: KindSpec, context: Mapping[str, Any], rendered: Rendered,
                   facts: Mapping[str, Any], row_id: int,
                   stamp: dt.datetime) -> tuple[dict[str, Any], ...]:
        """The .ics file of a kind that carries its deadline (a reminder, a request)."""
        deadline = context["deadline"]
        if not spec.calendar or deadline is None:
            return ()
        day = self._calendar_day(deadline)
        return ({"filename": f"han-{day.isoformat()}.ics", "mimetype": "text/calendar",
                 "content": calendar_file(
                     uid=f"nckh-deadline-{facts.get('deadline_id') or row_id}@"
                         f"{domain_of(self.cfg.mail_from)}",
                     summary=_PREFIX.sub("", rendered.subject), description=rendered.text,
                     due_on=day,
                     stamp=stamp, organizer=self.cfg.office.get("email") or None)},)

    def _render_letter(self, conn: Connection, row: HeldMessage) -> Frozen:
        """A person's letter of the day: one notice reads as that notice; several, as a
        numbered list under a subject that gives their count. Each notice says what was true
        when it was queued; days left are counted on the letter's day."""
        facts = row.context
        day = dt.date.fromisoformat(str(facts["letter"]["day"]))
        recipients = facts["recipients"]
        found = notices(conn, [int(i["id"]) for i in facts["letter"]["items"]])
        parts: list[tuple[str, Rendered, dict[str, Any]]] = []
        answer_to: set[str | None] = set()
        calendars: list[dict[str, Any]] = []
        for item in facts["letter"]["items"]:
            notice = found.get(int(item["id"]))
            if notice is None:
                continue
            kind = str(notice["kind"])
            spec = self.catalog.kind(kind)
            subject = gather(conn, notice["task_id"], notice["context"], self.tz)
            context = build_context(
                subject, kind=kind, lang=row.lang, facts=notice["context"],
                recipients=recipients, cfg=self.cfg, catalog=self.catalog, today=day, tz=self.tz)
            context["section"] = len(facts["letter"]["items"]) > 1
            # A notice written into a later day's letter says the day its facts are of: the
            # state it names may have changed since (a registration of 3/3 sent on 20/3).
            queued = notice["created_at"].astimezone(self.tz).date()
            context["as_of"] = queued if queued < day else None
            if item.get("role", "to") == "to":
                context["action_url"] = self._action_url(conn, spec, notice["task_id"],
                                                         recipients["to"])
            rendered = self.renderer.render(kind, row.lang, context)
            parts.append((kind, rendered, {"role": item.get("role", "to")}))
            answer_to.add(_reply_to(context["office"]))
            for cal in self._calendars(spec, context, rendered, notice["context"],
                                       int(item["id"]), row.created_at):
                if all(c["filename"] != cal["filename"] for c in calendars):
                    calendars.append(cal)
        if not parts:
            raise NoRecipients("the letter's notices are gone")
        message_id = message_id_for(row.id, row.created_at, self.cfg.mail_from)
        if len(parts) == 1:
            rendered = parts[0][1]
        else:
            context = empty_context(self.cfg, "letter", row.lang, day)
            context.update(to=list(recipients["to"]), cc=list(recipients["cc"]), letter={
                "day": day, "count": len(parts),
                "sections": [{"kind": kind, "heading": _PREFIX.sub("", r.subject),
                              "text": r.text, "html": r.html, "role": extra["role"]}
                             for kind, r, extra in parts]})
            rendered = self.renderer.render("letter", row.lang, context)
        readers = dict(recipients)
        if len(answer_to) == 1 and None not in answer_to:
            # Every notice of the letter is another office's business (a unit's plan): an
            # answer goes to that office, as each notice's signature says.
            readers["reply_to"] = answer_to.pop()
        return Frozen(readers, rendered.subject, rendered.text, rendered.html,
                      message_id, tuple(calendars))

    def reply_to(self, conn: Connection) -> str:
        """The Reply-To of every message, read with the directory as it is now."""
        return reply_address(self.cfg.office, People(conn).office(), self.cfg.mail_from)

    def outgoing(self, row: HeldMessage, frozen: Frozen | None = None, *,
                 reply_to: str | None = None) -> Outgoing:
        """The wire form of a row (of its stored rendering unless `frozen` is given).
        Recipients whose address cannot be sent to (registered before the address rule, or
        since) are left out and noted; the others still get the message. `reply_to` defaults
        to the office's configured address, else the sender."""
        frozen = frozen or Frozen.of(row)
        to, cc, skipped = sendable(frozen.recipients)
        if not to:
            raise NoRecipients(f"no recipient can be sent to ({'; '.join(skipped)})")
        attachments: list[Attachment] = list(row.attachments)
        if frozen.calendars and not any(a[2] == "text/calendar" for a in attachments):
            attachments += [(c["filename"], c["content"], c["mimetype"])
                            for c in frozen.calendars]
        office = self.cfg.office
        msg = build_message(
            mail_from=self.cfg.mail_from, from_name=f"{office['department']} – {office['agency']}",
            reply_to=frozen.recipients.get("reply_to") or reply_to or office.get("email")
            or self.cfg.mail_from, to=to, cc=cc,
            subject=frozen.subject,
            text=frozen.text, html=frozen.html, message_id=frozen.message_id,
            date=row.created_at, kind=kind_of(row), attachments=attachments)
        name = f"{row.created_at.astimezone(dt.UTC):%Y%m%dT%H%M%S}-{row.id:08d}-{row.kind}"
        note = f"not sent to {'; '.join(skipped)}" if skipped else None
        return Outgoing(row.id, name, self.cfg.mail_from, msg.recipients, msg.data, note)

    def send(self, batch: Batch, now: dt.datetime, stop: Callable[[], bool] = lambda: False,
             clock: Callable[[], dt.datetime] | None = None) -> Counter[str]:
        """Put the batch on the wire while its lease holds, renewing it as the batch goes; record
        each outcome as of `now` (the time the batch starts). `clock` reads the time for the
        lease (default: `now` plus the real time elapsed)."""
        counts: Counter[str] = Counter()

        def renew(ids: list[int], until: dt.datetime) -> list[int]:
            with write(self.db) as conn:
                return renew_claims(conn, ids, owner=self.owner, until=until)

        keeper = LeaseKeeper([i.id for i in batch.items], batch.until, lease=self.cfg.lease,
                             renew=renew, now=clock or RunningClock(now).now, what="outbox")

        def commit(outcomes: list[Outcome]) -> None:
            with write(self.db) as conn:
                counts.update(record(conn, outcomes, now=now, base=self.cfg.retry_base,
                                     cap=self.cfg.retry_cap, max_attempts=self.cfg.max_attempts,
                                     give_up_after=self.cfg.give_up_after, rng=self.rng,
                                     owner=self.owner))
            keeper.done(o.id for o in outcomes)
            for o in outcomes:
                if o.state not in ("sent", "released"):
                    log.warning("outbox %s: %s (%s)", o.id, o.state, o.error)

        with keeper:
            self.transport.deliver(batch.items, commit, stop, keeper.owns)
        return counts


@dataclass(frozen=True)
class Batch:
    """Rows leased to this dispatcher until `until`, ready for the wire (`claimed` counts the
    rows the claim took, including those that died being prepared)."""

    items: list[Outgoing]
    until: dt.datetime
    claimed: int
    fanned: int = 0  # notices fanned out into letter lines while preparing the batch


@dataclass(frozen=True)
class Frozen:
    """A message's first rendering, stored in its row and sent the same way every time."""

    recipients: dict[str, Any]
    subject: str
    text: str
    html: str | None
    message_id: str
    calendars: tuple[dict[str, Any], ...] = ()  # .ics attachments made with the rendering

    @classmethod
    def of(cls, row: HeldMessage) -> Frozen:
        assert row.recipients is not None and row.message_id is not None
        return cls(row.recipients, row.subject or "", row.body_text or "", row.body_html,
                   row.message_id)

    def values(self, row_id: int) -> dict[str, Any]:
        return {"b_id": row_id, "b_recipients": self.recipients, "b_subject": self.subject,
                "b_text": self.text, "b_html": self.html, "b_message_id": self.message_id}


def _reply_to(office: Mapping[str, Any]) -> str | None:
    """Where an answer to a mail about what `office` receives goes, when that is not the
    default office (whose address every other mail answers to): a mail signed by Planning and
    Finance (a unit's plan) is answered to it. Kept with the rendering (`reply_to` beside the
    readers), so a re-send answers to the same office."""
    if office.get("key", DEFAULT_KEY) != DEFAULT_KEY and office.get("email"):
        return str(office["email"])
    return None


def calendar_day(deadline: Mapping[str, Any], calendar: WorkingDays) -> dt.date:
    """The day a deadline's calendar entry goes on: the end of the grace period when the
    deadline was already past when it opened (the date the mail asks for, "chậm nhất"); else
    the date itself for "by D", and for "before D" the last working day before it (before 30/4
    is 29/4, or earlier when that is off)."""
    if deadline.get("grace_until"):
        grace: dt.date = deadline["grace_until"]
        return grace
    day: dt.date = deadline["due_on"]
    if not deadline.get("before"):
        return day
    return calendar.previous_working_day(day, inclusive=False)


def kind_of(row: HeldMessage) -> str:
    """What the message is, for mail filters (X-Nckh-Kind): a letter with one notice is that
    notice."""
    if row.kind == "letter":
        items = (row.context.get("letter") or {}).get("items") or []
        if len(items) == 1:
            return str(items[0]["kind"])
    return row.kind


def sendable(recipients: Mapping[str, Any]) -> tuple[list[dict[str, Any]],
                                                     list[dict[str, Any]], list[str]]:
    """(to, cc, notes): the recipients the address rule lets through; copies move up to `to`
    when every `to` address was left out."""
    notes: list[str] = []

    def keep(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in people:
            reason = addresses.problem(str(r.get("email", "")))
            if reason is None:
                out.append(r)
            else:
                notes.append(f"{r.get('email')}: {reason}")
        return out

    to, cc = keep(list(recipients["to"])), keep(list(recipients["cc"]))
    if not to:
        to, cc = cc, []
    return to, cc, notes
