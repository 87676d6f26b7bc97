"""The outbox: queue an e-mail in the caller's transaction; claim due rows; record outcomes.

Design note — the invariant: *a notification exists iff the fact that caused it committed, and it
is delivered at least once, every copy carrying the same Message-ID.*

1. Queue (`enqueue`): the row is inserted in the transaction of its domain event, with
   `INSERT … ON CONFLICT (dedupe_key) DO NOTHING`. A crash before commit loses the event and its
   mail together; the same event published again finds its key and queues nothing.
2. Claim (`storage.outbox.claim_due`): one short transaction moves due rows (pending and due,
   or `sending` whose lease ran out) to `sending`, leased to this dispatcher from the moment of
   the claim. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several dispatchers share the work;
   SQLite: `BEGIN IMMEDIATE` serialises claims. A crash after this commit leaves the rows
   `sending`; when the lease expires any dispatcher claims them again.
3. Render: outside the claim, in a read transaction; a row's first rendering (recipients,
   subject, bodies, calendar file, a Message-ID from the row's id) is stored in a short write
   guarded by the lease, then frozen: a re-send is byte for byte the same message.
4. Send: outside any transaction, through the dispatcher's transport (`notifications.transports`:
   SMTP or the maildir). A keeper renews the lease while the batch is on the wire, and a row goes
   on the wire only while its lease is known to hold (`storage.leases`): a slow batch is never
   taken over half-way and sent twice.
5. Record (`record`): outcomes are committed while the batch is still sending, in small groups
   (a few per SMTP connection, or whatever arrived within 20 ms; `transports.groupcommit`), and
   the senders pause when too many wait unrecorded. A crash between the server's `250 OK` and
   this commit re-sends only the messages whose outcome was not committed yet — a bounded few
   per connection, whatever the batch size — byte for byte the same, with the same Message-ID,
   so a receiving server or client can drop the duplicate. A maildir delivery writes the same
   file name again: no duplicate at all.

A dispatcher told to stop releases what it claimed but never tried: back to `pending`, due at
once, the claim's attempt not counted. A message that never reached a server (it could not be
reached) is deferred the same way, with backoff: nckh's or the server's downtime never uses up
a message. Transient failures of the message itself go back to `pending` with exponential
backoff and jitter computed from the `now` passed in (tests jump time, nothing sleeps); they die
only after `max_attempts` attempts *and* `give_up_after` since the first attempt (never since
queueing). Permanent failures go to `dead` with the server's reply. `nckh outbox retry` revives
dead rows with a fresh budget.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifications.catalog import Catalog, load_catalog
from storage.db import Connection
from storage.outbox import Attachment, held_attempts, insert_mail, write_outcomes
from workflows import addresses as address_rule
from workflows.errors import InputError


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row. `sent`: the server took it (`error` notes recipients it
    refused, if any); `retry`: the server answered this message with a transient failure (an
    attempt); `dead`: a permanent failure; `released`: never tried, the dispatcher is stopping
    (due at once); `deferred`: never reached a server that could be reached (backoff, no
    attempt used: downtime never uses up a message); `lost`: the lease was taken over before
    the row went on the wire (nothing to record: its new holder decides)."""

    id: int
    state: str
    error: str | None = None


def enqueue(
    conn: Connection, *, kind: str, now: dt.datetime, dedupe_key: str,
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
    addresses = [address_rule.normalise(a, what="e-mail address") for a in to]
    for filename, content, mimetype in attachments:
        if not filename or "/" not in mimetype or not isinstance(content, bytes):
            raise InputError(f"invalid attachment {filename!r} ({mimetype})")
    return insert_mail(conn, kind=kind, dedupe_key=dedupe_key, task_id=task_id,
                       lang=lang, context=dict(context or {}), addressed_to=addresses, now=now,
                       attachments=attachments)


def backoff(attempts: int, base: dt.timedelta, cap: dt.timedelta,
            rng: random.Random) -> dt.timedelta:
    """Exponential backoff with jitter: in [d/2, d], d = min(cap, base · 2^(attempts-1))."""
    factor: int = 1 << max(0, min(attempts - 1, 30))
    d: dt.timedelta = min(cap, base * factor)
    return d * (0.5 + rng.random() / 2)


def record(conn: Connection, outcomes: Sequence[Outcome], *, now: dt.datetime,
           base: dt.timedelta, cap: dt.timedelta, give_up_after: dt.timedelta,
           max_attempts: int, rng: random.Random, owner: str) -> dict[str, int]:
    """Write outcomes (one transaction, the caller's) and return how many of each.

    A row already `sent` is never reopened. Every other outcome applies only to a row `owner`
    still holds (one whose lease ran out may be on the wire from another dispatcher). A `retry`
    dies only when the message has had `max_attempts` attempts *and* `give_up_after` has passed
    since its first one; `released` and `deferred` rows were never tried, so the claim's attempt
    is taken back (and the give-up clock with it when it was the first).

    Core on a bare connection, not an ORM session: this runs once per group commit, often a
    few hundred times a second, and a session costs four times the statements it wraps. Only
    failures need the row (attempts, first attempt) to decide what follows.
    """
    counts: dict[str, int] = {}
    for o in outcomes:
        if o.state == "lost":
            counts["lost"] = counts.get("lost", 0) + 1
    outcomes = [o for o in outcomes if o.state != "lost"]
    if not outcomes:
        return counts
    failed = [o.id for o in outcomes if o.state != "sent"]
    rows = held_attempts(conn, failed, owner=owner) if failed else {}
    sent: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for o in outcomes:
        if o.state == "sent":
            sent.append({"b_id": o.id, "b_sent": now, "b_error": o.error})
            counts["sent"] = counts.get("sent", 0) + 1
            continue
        if o.id not in rows:  # no longer ours: the holder decides
            continue
        attempts, first = rows[o.id]
        label = o.state
        state, next_at, error = "pending", now, o.error
        if label in ("released", "deferred"):  # never tried: the attempt is taken back
            attempts -= 1
            first = first if attempts > 0 else None
            if label == "deferred":
                next_at = now + backoff(max(1, attempts), base, cap, rng)
        elif label == "retry":
            first = first or now
            if attempts >= max_attempts and now - first >= give_up_after:
                label = state = "dead"
                error = f"gave up after {attempts} attempts: {o.error}"
            else:
                label, next_at = "pending", now + backoff(attempts, base, cap, rng)
        else:
            state = "dead"
        counts[label] = counts.get(label, 0) + 1
        other.append({"b_id": o.id, "b_state": state, "b_next": next_at, "b_error": error,
                      "b_attempts": attempts, "b_first": first})
    write_outcomes(conn, sent, other, owner=owner)
    return counts
