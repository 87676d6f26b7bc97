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
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.catalog import Catalog
from notifications.config import MailConfig
from notifications.context import _jsonable_recipients, build_context, gather
from notifications.digest import enqueue_digest
from notifications.message import (
    Attachment,
    BadMessage,
    build_message,
    calendar_file,
    domain_of,
    message_id_for,
)
from notifications.outbox import Outcome, record
from notifications.recipients import NoRecipients, resolve
from notifications.render import Renderer, TemplateProblem
from notifications.samples import all_samples
from notifications.transports import transport_for
from notifications.transports.base import Outgoing, Transport
from storage.db import Connection, DbEngine, read_session, write
from storage.leases import LeaseKeeper, holder_id
from storage.mailfacts import People
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


class Dispatcher:
    def __init__(self, db: DbEngine, cfg: MailConfig, catalog: Catalog, renderer: Renderer, *,
                 tz: dt.tzinfo, owner: str | None = None, rng: random.Random | None = None,
                 calendar: WorkingDays | None = None, transport: Transport | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.cfg = cfg
        self.catalog = catalog
        self.renderer = renderer
        self.tz = tz
        self.owner = owner or holder_id()
        self.monotonic = monotonic
        self.rng = rng or random.Random()
        self.calendar = calendar or WorkingDays()  # the business calendar: days off
        self.transport = transport or transport_for(cfg)
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
        with write(self.db) as conn:
            counts["digest"] += enqueue_digest(conn, self.cfg, now=now, tz=self.tz,
                                               lang=self.cfg.lang, catalog=self.catalog,
                                               working_days=self.calendar)
        clock = RunningClock(now, self.monotonic)  # leases run from each claim, not the pass
        for _ in range(MAX_BATCHES_PER_TICK):
            if stop():
                break
            batch, failed = self.claim(clock.now())
            counts["dead"] += failed
            if not batch.claimed:
                break
            if not batch.items:
                continue
            sent = self.send(batch, now, stop, clock.now)
            counts.update(sent)
            if sent.get("deferred"):  # the server cannot be reached: the next pass tries again
                break
        return dict(counts)

    def claim(self, now: dt.datetime, limit: int | None = None) -> tuple[Batch, int]:
        """Lease due rows (a short transaction), then prepare their messages outside it; rows
        that cannot be built die here. Returns the batch and how many died."""
        until = now + self.cfg.lease
        with write(self.db) as conn:
            ids = claim_due(conn, now=now, until=until, owner=self.owner,
                            limit=limit or self.cfg.batch_size)
        if not ids:
            return Batch([], until, 0), 0
        items, dead = self._prepare(ids)
        return Batch(items, until, len(ids)), dead

    def _prepare(self, ids: list[int]) -> tuple[list[Outgoing], int]:
        """Render what was never rendered (in a read transaction: nothing is locked meanwhile),
        build every message, then store the new renderings and the deaths in one short write,
        guarded by our lease."""
        items: list[Outgoing] = []
        renderings: list[dict[str, Any]] = []
        calendars: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        with read_session(self.db) as s:  # no write lock while rendering
            conn = s.connection()
            for row in held_rows(conn, ids, owner=self.owner):
                try:
                    fresh = row.subject is None
                    frozen = self._render(conn, row) if fresh else Frozen.of(row)
                    items.append(self.outgoing(row, frozen))
                except (NoRecipients, BadMessage, InputError) as exc:
                    dead.append({"b_id": row.id, "b_error": str(exc)})
                    log.warning("outbox %s (%s) is dead: %s", row.id, row.kind, exc)
                    continue
                if fresh:
                    renderings.append(frozen.values(row.id))
                    if frozen.calendar is not None:
                        calendars.append({"outbox_id": row.id, **frozen.calendar})
        if renderings or dead:
            with write(self.db) as conn:
                store_renderings(conn, renderings, calendars, dead, owner=self.owner)
        return items, len(dead)

    def _calendar_day(self, deadline: Mapping[str, Any]) -> dt.date:
        """The day the calendar entry goes on: the date itself for "by D", and for "before D"
        the last working day before it (before 30/4 is 29/4, or earlier when that is off)."""
        day: dt.date = deadline["due_on"]
        if not deadline.get("before"):
            return day
        return self.calendar.previous_working_day(day, inclusive=False)

    def _render(self, conn: Connection, row: HeldMessage) -> Frozen:
        """The message as it will be sent every time: recipients, subject, bodies, calendar
        file and Message-ID, from the row's facts and what the directory says now."""
        spec = self.catalog.kind(row.kind)
        subject = gather(conn, row.task_id, row.context)
        recipients = resolve(People(conn), spec, task=subject.task, unit=subject.unit,
                             office=self.cfg.office, addressed=row.addressed_to)
        today = row.created_at.astimezone(self.tz).date()
        context = build_context(
            subject, kind=row.kind, lang=row.lang, facts=row.context, recipients=recipients,
            cfg=self.cfg, catalog=self.catalog, today=today, tz=self.tz)
        if row.kind == "report":
            context["report"] = {**(context["report"] or {}),
                                 "files": [a.filename for a in row.attachments]}
        rendered = self.renderer.render(row.kind, row.lang, context)
        calendar: dict[str, Any] | None = None
        deadline = context["deadline"]
        if spec.calendar and deadline is not None:
            day = self._calendar_day(deadline)
            calendar = {"filename": f"han-{day.isoformat()}.ics", "mimetype": "text/calendar",
                        "content": calendar_file(
                            uid=f"nckh-deadline-{row.context.get('deadline_id') or row.id}@"
                                f"{domain_of(self.cfg.mail_from)}",
                            summary=rendered.subject, description=rendered.text,
                            due_on=day, stamp=row.created_at,
                            organizer=self.cfg.office.get("email") or None)}
        return Frozen(_jsonable_recipients(recipients), rendered.subject, rendered.text,
                      rendered.html, message_id_for(row.id, row.created_at, self.cfg.mail_from),
                      calendar)

    def outgoing(self, row: HeldMessage, frozen: Frozen | None = None) -> Outgoing:
        """The wire form of a row (of its stored rendering unless `frozen` is given).
        Recipients whose address cannot be sent to (registered before the address rule, or
        since) are left out and noted; the others still get the message."""
        frozen = frozen or Frozen.of(row)
        to, cc, skipped = sendable(frozen.recipients)
        if not to:
            raise NoRecipients(f"no recipient can be sent to ({'; '.join(skipped)})")
        attachments: list[Attachment] = list(row.attachments)
        if frozen.calendar is not None and not any(a[2] == "text/calendar" for a in attachments):
            cal = frozen.calendar
            attachments.append((cal["filename"], cal["content"], cal["mimetype"]))
        office = self.cfg.office
        msg = build_message(
            mail_from=self.cfg.mail_from, from_name=f"{office['department']} – {office['agency']}",
            reply_to=office.get("email") or None, to=to, cc=cc, subject=frozen.subject,
            text=frozen.text, html=frozen.html, message_id=frozen.message_id,
            date=row.created_at, kind=row.kind, attachments=attachments)
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


@dataclass(frozen=True)
class Frozen:
    """A message's first rendering, stored in its row and sent the same way every time."""

    recipients: dict[str, Any]
    subject: str
    text: str
    html: str | None
    message_id: str
    calendar: dict[str, Any] | None = None  # an .ics attachment made with the rendering

    @classmethod
    def of(cls, row: HeldMessage) -> Frozen:
        assert row.recipients is not None and row.message_id is not None
        return cls(row.recipients, row.subject or "", row.body_text or "", row.body_html,
                   row.message_id)

    def values(self, row_id: int) -> dict[str, Any]:
        return {"b_id": row_id, "b_recipients": self.recipients, "b_subject": self.subject,
                "b_text": self.text, "b_html": self.html, "b_message_id": self.message_id}


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
