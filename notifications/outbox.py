"""The outbox: queue an e-mail in the caller's transaction; claim due rows; record outcomes.

Design note — the invariant: *a notification exists iff the fact that caused it committed, and it
is delivered at least once, every copy carrying the same Message-ID.*

1. Queue (`enqueue`): the row is inserted in the transaction of its domain event, with
   `INSERT … ON CONFLICT (dedupe_key) DO NOTHING`. A crash before commit loses the event and its
   mail together; the same event published again finds its key and queues nothing.
2. Claim (`claim`): one transaction moves due rows (pending and due, or `sending` whose lease ran
   out) to `sending`, pushes `next_attempt_at` to the end of the lease and, on the first claim,
   resolves the recipients and renders the subject and bodies into the row, with a Message-ID
   from the row's id. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several dispatchers share the
   work; SQLite: `BEGIN IMMEDIATE` serialises claims. A crash after this commit leaves the rows
   `sending`; when the lease expires any dispatcher claims them again.
3. Send: outside any transaction (SMTP or the maildir).
4. Record (`record`): outcomes are committed while the batch is still sending, in small groups
   (a few per SMTP connection, or whatever arrived within 20 ms; `transport.deliver_smtp`), and
   the senders pause when too many wait unrecorded. A crash between the server's `250 OK` and
   this commit re-sends only the messages whose outcome was not committed yet — a bounded few
   per connection, whatever the batch size — byte for byte the same, with the same Message-ID,
   so a receiving server or client can drop the duplicate. A maildir delivery writes the same
   file name again: no duplicate at all.

A dispatcher told to stop releases what it claimed but never tried: back to `pending`, due at
once, the claim's attempt not counted. Transient failures go back to `pending` with exponential
backoff and jitter computed from the `now` passed in (tests jump time, nothing sleeps);
permanent ones, and transient ones older than `give_up_after`, go to `dead` with the server's
reply. `nckh outbox retry` revives dead rows.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from engine.decide import is_valid_email
from engine.errors import InputError
from notifications.catalog import Catalog, load_catalog
from storage.outbox import OutboxAttachment, OutboxMessage

Attachment = tuple[str, bytes, str]


@dataclass(frozen=True)
class Outcome:
    id: int
    state: str  # sent | retry | dead | released (never tried: the dispatcher is stopping)
    error: str | None = None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


def _default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be stored in an outbox context")


_INSERTS: dict[str, Any] = {}


def _insert_for(dialect: str) -> Any:
    """One INSERT … ON CONFLICT DO NOTHING per dialect, built once: its compiled form is cached,
    where a statement built per call with `.values()` is re-keyed every time (a timer sweep
    queues thousands)."""
    if dialect not in _INSERTS:
        table = OutboxMessage.__table__
        assert isinstance(table, Table)
        ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        _INSERTS[dialect] = ins.on_conflict_do_nothing(
            index_elements=["dedupe_key"]).returning(table.c.id)
    return _INSERTS[dialect]


def enqueue(
    session: Session, *, kind: str, now: dt.datetime, dedupe_key: str,
    context: Mapping[str, Any] | None = None, to: Sequence[str] = (),
    task_id: int | None = None, lang: str = "vi", attachments: Sequence[Attachment] = (),
    catalog: Catalog | None = None,
) -> int | None:
    """Queue one e-mail inside the caller's transaction (which must not be committed here).

    `kind` names a template set and its recipient roles (kinds.yaml); `to` adds explicit
    addresses (the `addressed` role); `context` is plain JSON-able data the templates read
    (dates allowed); `attachments` are (filename, bytes, mimetype). Returns the new row's id,
    or None when `dedupe_key` was already queued (nothing is written then).
    """
    (catalog or load_catalog()).kind(kind)
    if lang not in ("vi", "en"):
        raise InputError(f"unknown language '{lang}' (expected vi or en)")
    if not dedupe_key or len(dedupe_key) > 255:
        raise InputError("dedupe_key must be 1–255 characters")
    addresses = [a.strip().lower() for a in to]
    for a in addresses:
        if not is_valid_email(a):
            raise InputError(f"invalid e-mail address '{a}'")
    for filename, content, mimetype in attachments:
        if not filename or "/" not in mimetype or not isinstance(content, bytes):
            raise InputError(f"invalid attachment {filename!r} ({mimetype})")
    values = {
        "kind": kind, "task_id": task_id, "dedupe_key": dedupe_key, "lang": lang,
        "context": _jsonable(dict(context or {})), "addressed_to": addresses,
        "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
    }
    conn = session.connection()
    row_id = conn.execute(_insert_for(conn.dialect.name), values).scalar_one_or_none()
    if row_id is not None:
        for filename, content, mimetype in attachments:
            session.add(OutboxAttachment(outbox_id=row_id, filename=filename,
                                         mimetype=mimetype, content=content))
        session.flush()
    return row_id


def due_rows(session: Session, now: dt.datetime, limit: int) -> list[OutboxMessage]:
    """Lock and return due rows: pending and due, or sending with an expired lease."""
    ids_q = (select(OutboxMessage.id)
             .where(OutboxMessage.state.in_(("pending", "sending")),
                    OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        ids_q = ids_q.with_for_update(skip_locked=True)
    ids = list(session.scalars(ids_q))
    if not ids:
        return []
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                .options(selectinload(OutboxMessage.attachments))
                                .order_by(OutboxMessage.id)))


def backoff(attempts: int, base: dt.timedelta, cap: dt.timedelta,
            rng: random.Random) -> dt.timedelta:
    """Exponential backoff with jitter: in [d/2, d], d = min(cap, base · 2^(attempts-1))."""
    factor: int = 1 << max(0, min(attempts - 1, 30))
    d: dt.timedelta = min(cap, base * factor)
    return d * (0.5 + rng.random() / 2)


def record(conn: Connection, outcomes: Sequence[Outcome], *, now: dt.datetime,
           base: dt.timedelta, cap: dt.timedelta, give_up_after: dt.timedelta,
           rng: random.Random, owner: str) -> dict[str, int]:
    """Write outcomes (one transaction, the caller's). A row already `sent` is never reopened;
    a release applies only to a row `owner` still holds (one whose lease ran out may be on the
    wire from another dispatcher: made due at once, it would be sent a third time).

    Core on a bare connection, not an ORM session: this runs once per group commit, often a
    few hundred times a second, and a session costs four times the statements it wraps. Only
    failures need the row (attempts, age) to decide between a backoff and giving up.
    """
    if not outcomes:
        return {}
    t = cast(Table, OutboxMessage.__table__)
    counts: dict[str, int] = {}
    released = [o.id for o in outcomes if o.state == "released"]
    if released:  # due again at once, and the claim's attempt is not counted against it
        done = conn.execute(update(t).where(t.c.id.in_(released), t.c.state == "sending",
                                            t.c.claimed_by == owner)
                            .values(state="pending", next_attempt_at=now, claimed_by=None,
                                    attempts=t.c.attempts - 1))
        counts["released"] = done.rowcount
        outcomes = [o for o in outcomes if o.state != "released"]
    failed = [o.id for o in outcomes if o.state != "sent"]
    rows = {r.id: r for r in conn.execute(
        select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.created_at)
        .where(OutboxMessage.id.in_(failed)))} if failed else {}
    params: list[dict[str, Any]] = []
    for o in outcomes:
        state, next_at, sent_at, error = o.state, now, None, o.error
        if state == "sent":
            sent_at = now
        else:
            row = rows.get(o.id)
            if row is None:
                continue
            if state == "retry":
                if now - row.created_at >= give_up_after:
                    state, error = "dead", f"gave up after {row.attempts} attempts: {o.error}"
                else:
                    state, next_at = "pending", now + backoff(row.attempts, base, cap, rng)
        counts[state] = counts.get(state, 0) + 1
        params.append({"b_id": o.id, "b_state": state, "b_next": next_at, "b_sent": sent_at,
                       "b_error": error})
    if not params:
        return counts
    # executemany; the `state` guard keeps a row another dispatcher already sent as it is.
    conn.execute(
        update(t).where(t.c.id == bindparam("b_id"), t.c.state != "sent")
        .values(state=bindparam("b_state"), next_attempt_at=bindparam("b_next"),
                sent_at=bindparam("b_sent"), last_error=bindparam("b_error"),
                claimed_by=None),
        params)
    return counts
