"""The dispatcher: one pass of the outbox as of `now` — the `outbox` tick job.

Claims due rows in batches (see `notifications.outbox` for the design note: the invariant and how
a crash at each step is survived), renders a row the first time it is claimed, sends the batch
over SMTP (asyncio, several reused connections) or into the maildir, and records each outcome as
soon as it is known. Templates are checked once per process before the first pass: a broken
template stops the daemon at start, not a mail at send time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import os
import random
import socket
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import InputError
from notifications.catalog import Catalog
from notifications.config import MailConfig
from notifications.context import _jsonable_recipients, build_context
from notifications.digest import enqueue_digest
from notifications.message import BadMessage, build_message, calendar_file, message_id_for
from notifications.outbox import Outcome, due_rows, record
from notifications.recipients import NoRecipients, resolve
from notifications.render import Renderer, TemplateProblem
from notifications.samples import all_samples
from notifications.transport import Outgoing, deliver_maildir, deliver_smtp
from storage.db import transaction
from storage.models import Task, Unit
from storage.outbox import OutboxAttachment, OutboxMessage
from workflows.model import WorkingDays

log = logging.getLogger("nckh.mail")
MAX_BATCHES_PER_TICK = 100


def run_coroutine(coro: Coroutine[Any, Any, None]) -> None:
    """`asyncio.run`, or in a fresh thread when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


class Dispatcher:
    def __init__(self, sessions: sessionmaker[Session], cfg: MailConfig, catalog: Catalog,
                 renderer: Renderer, *, tz: dt.tzinfo, owner: str | None = None,
                 rng: random.Random | None = None,
                 working_days: Callable[[], WorkingDays | None] = lambda: None) -> None:
        self.sessions = sessions
        bind = sessions.kw["bind"]
        assert isinstance(bind, Engine), "the dispatcher needs a session factory bound to an engine"
        self.db = bind  # outcomes are recorded through Core: see `record`
        self.cfg = cfg
        self.catalog = catalog
        self.renderer = renderer
        self.tz = tz
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.rng = rng or random.Random()
        self.working_days = working_days  # read at each pass: the scheduler installs its calendar
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
        with transaction(self.sessions) as s:
            counts["digest"] += enqueue_digest(s, self.cfg, now=now, tz=self.tz,
                                               lang=self.cfg.lang, catalog=self.catalog,
                                               working_days=self.working_days())
        for _ in range(MAX_BATCHES_PER_TICK):
            if stop():
                break
            batch, failed = self.claim(now)
            counts["dead"] += failed
            if not batch:
                if not failed:
                    break
                continue
            counts.update(self.send(batch, now, stop))
        return dict(counts)

    def claim(self, now: dt.datetime, limit: int | None = None) -> tuple[list[Outgoing], int]:
        """Lease due rows and prepare their messages; rows that cannot be built die here."""
        out: list[Outgoing] = []
        failed = 0
        with transaction(self.sessions) as s, s.no_autoflush:
            for row in due_rows(s, now, limit or self.cfg.batch_size):
                row.state = "sending"
                row.claimed_by = self.owner
                row.attempts += 1
                row.next_attempt_at = now + self.cfg.lease
                try:
                    out.append(self.prepare(s, row))
                except (NoRecipients, BadMessage, InputError) as exc:
                    row.state, row.last_error, row.claimed_by = "dead", str(exc), None
                    log.warning("outbox %s (%s) is dead: %s", row.id, row.kind, exc)
                    failed += 1
        return out, failed

    def _calendar_day(self, deadline: Mapping[str, Any]) -> dt.date:
        """The day the calendar entry goes on: the date itself for "by D", and for "before D"
        the last working day before it (before 30/4 is 29/4, or earlier when that is off)."""
        day: dt.date = deadline["due_on"]
        if not deadline.get("before"):
            return day
        working = self.working_days() or WorkingDays()
        day -= dt.timedelta(days=1)
        while not working.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def prepare(self, s: Session, row: OutboxMessage) -> Outgoing:
        spec = self.catalog.kind(row.kind)
        if row.subject is None:
            task = s.get(Task, row.task_id) if row.task_id is not None else None
            unit = task.unit if task is not None else (
                s.get(Unit, int(row.context["unit_id"])) if row.context.get("unit_id") else None)
            recipients = resolve(s, spec, task=task, unit=unit, office=self.cfg.office,
                                 addressed=row.addressed_to)
            today = row.created_at.astimezone(self.tz).date()
            context = build_context(
                s, kind=row.kind, lang=row.lang, task=task, unit=unit, facts=row.context,
                recipients=recipients, cfg=self.cfg, catalog=self.catalog, today=today,
                tz=self.tz)
            if row.kind == "report":
                context["report"] = {**(context["report"] or {}),
                                     "files": [a.filename for a in row.attachments]}
            rendered = self.renderer.render(row.kind, row.lang, context)
            row.recipients = _jsonable_recipients(recipients)
            row.subject, row.body_text, row.body_html = (rendered.subject, rendered.text,
                                                         rendered.html)
            row.message_id = message_id_for(row.id, row.created_at, self.cfg.mail_from)
            deadline = context["deadline"]
            if spec.calendar and deadline is not None:
                day = self._calendar_day(deadline)
                s.add(OutboxAttachment(
                    outbox_id=row.id, filename=f"han-{day.isoformat()}.ics",
                    mimetype="text/calendar",
                    content=calendar_file(
                        uid=f"nckh-deadline-{row.context.get('deadline_id') or row.id}@"
                            f"{self.cfg.mail_from.rsplit('@', 1)[-1]}",
                        summary=rendered.subject, description=rendered.text,
                        due_on=day, stamp=row.created_at,
                        organizer=self.cfg.office.get("email") or None)))
                s.flush()
                s.refresh(row, ["attachments"])
        assert row.recipients is not None and row.message_id is not None
        office = self.cfg.office
        msg = build_message(
            mail_from=self.cfg.mail_from, from_name=f"{office['department']} – {office['agency']}",
            reply_to=office.get("email") or None, to=row.recipients["to"],
            cc=row.recipients["cc"], subject=row.subject or "", text=row.body_text or "",
            html=row.body_html, message_id=row.message_id, date=row.created_at, kind=row.kind,
            attachments=[(a.filename, a.content, a.mimetype) for a in row.attachments])
        name = f"{row.created_at.astimezone(dt.UTC):%Y%m%dT%H%M%S}-{row.id:08d}-{row.kind}"
        return Outgoing(row.id, name, self.cfg.mail_from, msg.recipients, msg.data)

    def send(self, batch: list[Outgoing], now: dt.datetime,
             stop: Callable[[], bool] = lambda: False) -> Counter[str]:
        counts: Counter[str] = Counter()

        def commit(outcomes: list[Outcome]) -> None:
            with self.db.begin() as conn:
                counts.update(record(conn, outcomes, now=now, base=self.cfg.retry_base,
                                     cap=self.cfg.retry_cap,
                                     give_up_after=self.cfg.give_up_after, rng=self.rng,
                                     owner=self.owner))
            for o in outcomes:
                if o.state not in ("sent", "released"):
                    log.warning("outbox %s: %s (%s)", o.id, o.state, o.error)

        if self.cfg.smtp is None:
            deliver_maildir(batch, self.cfg.maildir, commit, stop=stop)
        else:
            run_coroutine(deliver_smtp(batch, self.cfg.smtp, commit, stop))
        return counts
