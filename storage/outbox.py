"""The notification outbox: one row per e-mail to send, written in the transaction of its cause.

`dedupe_key` is unique, so the same domain event published twice (a retried transaction, a timer
fired again after a crash) never queues the same mail twice. `state` moves
pending → sending → sent | dead (and sending → pending on a transient failure). A claimed row is
leased by pushing `next_attempt_at` to the end of the lease, so one index on
(state, next_attempt_at) finds both due pending rows and expired leases. The rendered subject,
bodies and recipients are stored on first claim: a re-send is byte-for-byte the same message with
the same Message-ID. Attachments (reports) live in `outbox_attachment`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from storage.base import Base, UTCDateTime

# The outbox row's lifecycle, declared once: every change of `state` is one of these moves, made
# by the function named; those functions take their sources from here (`moves_to`), the
# database refuses any other state (CHECK, migration 0006), and a test walks every move.
LIFECYCLE: dict[tuple[str, str], str] = {
    ("pending", "sending"): "claim_due",
    ("sending", "sending"): "claim_due: a claim whose lease ran out is taken over",
    ("sending", "sent"): "write_outcomes",
    ("pending", "sent"): "write_outcomes: a send that completed after its lease was taken over "
                         "and the new holder's attempt failed",
    ("dead", "sent"): "write_outcomes: the same, the new holder having given up",
    ("sending", "pending"): "write_outcomes: retry, deferred or released",
    ("sending", "dead"): "write_outcomes, store_renderings: a permanent failure",
    ("dead", "pending"): "revive_dead: `nckh outbox retry`",
    ("sending", "bundled"): "store_renderings: a notice fanned out into letters and the digest",
}
STATES = ("pending", "sending", "sent", "dead", "bundled")


def moves_to(state: str) -> tuple[str, ...]:
    """The states a row may move to `state` from."""
    return tuple(a for a, b in LIFECYCLE if b == state)


def _moving(column: Any, *sources: str, to: str) -> Any:
    """`column` is one of `sources`, each (source, to) checked against the lifecycle. Written
    as equalities, not IN: an IN list cannot go into an executemany statement."""
    for source in sources:
        assert (source, to) in LIFECYCLE, f"outbox: {source} -> {to} is not in its lifecycle"
    return or_(*(column == source for source in sources))


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due", "state", "next_attempt_at"),
        CheckConstraint(f"state IN ({', '.join(repr(s) for s in STATES)})", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    lang: Mapped[str] = mapped_column(String(8), default="vi")
    # Facts of the event that caused the mail (plain JSON); enriched from the database at render.
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Addresses given explicitly by the caller (reports, `mail test`), on top of the kind's roles.
    addressed_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Resolved and rendered on first claim, then frozen: {"to": [{...}], "cc": [{...}]}.
    recipients: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(250))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The give-up clock starts at the first delivery attempt, never at queueing: mail queued
    # before a downtime is as young as the day it is first tried.
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", order_by="OutboxAttachment.id", cascade="all, delete-orphan")


class OutboxAttachment(Base):
    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mimetype: Mapped[str] = mapped_column(String(120))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")


# --- claims (the dispatcher's side of the lease: see storage.leases) ------------------------------
def _table() -> Table:
    table = OutboxMessage.__table__
    assert isinstance(table, Table)
    return table


def claim_due(conn: Connection, *, now: dt.datetime, until: dt.datetime, owner: str,
              limit: int) -> list[int]:
    """Lease up to `limit` due rows to `owner` until `until`; return their ids in send order.

    Due: pending with `next_attempt_at <= now`, or sending whose lease ran out. The claim counts
    an attempt and starts the give-up clock on the first one (a release or a deferral takes both
    back). PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint rows;
    SQLite runs one writer at a time (BEGIN IMMEDIATE).
    """
    t = _table()
    due = (select(t.c.id).where(_moving(t.c.state, "pending", "sending", to="sending"),
                                t.c.next_attempt_at <= now)
           .order_by(t.c.next_attempt_at, t.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = conn.execute(
        update(t).where(t.c.id.in_(due.scalar_subquery()))
        .values(state="sending", claimed_by=owner, attempts=t.c.attempts + 1,
                first_attempt_at=func.coalesce(t.c.first_attempt_at,
                                               literal(now, UTCDateTime())),
                next_attempt_at=until)
        .returning(t.c.id))
    return sorted(claimed.scalars())


def renew_claims(conn: Connection, ids: list[int], *, owner: str,
                 until: dt.datetime) -> list[int]:
    """Extend `owner`'s lease on the rows it still holds; return those (the others are gone)."""
    if not ids:
        return []
    t = _table()
    _lock_in_id_order(conn, ids)
    kept = conn.execute(update(t).where(t.c.id.in_(ids), t.c.claimed_by == owner,
                                        t.c.state == "sending")
                        .values(next_attempt_at=until).returning(t.c.id))
    return list(kept.scalars())


def _lock_in_id_order(conn: Connection, ids: Sequence[int]) -> None:
    """PostgreSQL: take the row locks of `ids` in id order, before any update of them.

    A dispatcher's lease renewal and its group commit update overlapping rows from two
    connections at once; updating row by row in different orders, each could hold a row the
    other wanted next, and PostgreSQL aborted one after a second (`deadlock detected`: a lost
    renewal, or sent messages left unrecorded, to go out again). Every writer of held rows
    locks in one order, so one only ever waits for the other to commit. SQLite has one writer
    at a time: nothing to order."""
    if conn.dialect.name == "postgresql" and ids:
        t = _table()
        conn.execute(select(t.c.id).where(t.c.id.in_(sorted(ids))).order_by(t.c.id)
                     .with_for_update())


def store_renderings(conn: Connection, renderings: list[dict[str, Any]],
                     calendars: list[dict[str, Any]], dead: list[dict[str, Any]], *,
                     owner: str, bundled: Sequence[dict[str, Any]] = ()) -> None:
    """Freeze first renderings into their rows (and their calendar files), move the rows that
    cannot be sent to `dead`, and those fanned out into letters to `bundled` (with the
    recipients they were fanned out to) — only rows `owner` still holds."""
    t = _table()
    if bundled:
        conn.execute(update(t).where(t.c.id == bindparam("b_id"), t.c.claimed_by == owner,
                                     _moving(t.c.state, "sending", to="bundled"))
                     .values(state="bundled", recipients=bindparam("b_recipients"),
                             claimed_by=None, last_error=None), list(bundled))
    held = (t.c.id == bindparam("b_id"), t.c.claimed_by == owner,
            _moving(t.c.state, "sending", to="dead"))
    if renderings:
        conn.execute(update(t).where(*held, t.c.subject.is_(None)).values(
            recipients=bindparam("b_recipients"), subject=bindparam("b_subject"),
            body_text=bindparam("b_text"), body_html=bindparam("b_html"),
            message_id=bindparam("b_message_id")), renderings)
    if calendars:
        conn.execute(insert(cast(Table, OutboxAttachment.__table__)), calendars)
    if dead:
        conn.execute(update(t).where(*held).values(state="dead", last_error=bindparam("b_error"),
                                                  claimed_by=None), dead)


# --- queueing ----------------------------------------------------------------------------------
Attachment = tuple[str, bytes, str]  # (filename, content, mimetype)


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
        table = _table()
        ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        _INSERTS[dialect] = ins.on_conflict_do_nothing(
            index_elements=["dedupe_key"]).returning(table.c.id)
    return _INSERTS[dialect]


def insert_mail(conn: Connection, *, kind: str, dedupe_key: str, task_id: int | None,
                lang: str, context: Mapping[str, Any], addressed_to: Sequence[str],
                now: dt.datetime, attachments: Sequence[Attachment] = ()) -> int | None:
    """Queue one e-mail in the caller's transaction; None when `dedupe_key` is already queued
    (then nothing is written). `context` is JSON-able data (dates become ISO strings)."""
    values = {
        "kind": kind, "task_id": task_id, "dedupe_key": dedupe_key, "lang": lang,
        "context": _jsonable(dict(context)), "addressed_to": list(addressed_to),
        "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
    }
    row_id: int | None = conn.execute(_insert_for(conn.dialect.name), values).scalar_one_or_none()
    if row_id is not None and attachments:
        conn.execute(insert(cast(Table, OutboxAttachment.__table__)), [
            {"outbox_id": row_id, "filename": f, "mimetype": m, "content": c}
            for f, c, m in attachments])
    return row_id


class HeldAttachment(NamedTuple):
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class HeldMessage:
    """A claimed row as the dispatcher reads it: plain values, no session behind them."""

    id: int
    kind: str
    task_id: int | None
    lang: str
    context: dict[str, Any]
    addressed_to: list[str]
    recipients: dict[str, Any] | None  # the first rendering, once stored (None before)
    subject: str | None
    body_text: str | None
    body_html: str | None
    message_id: str | None
    created_at: dt.datetime
    attachments: tuple[HeldAttachment, ...]  # in the order they were added


def held_rows(conn: Connection, ids: list[int], *, owner: str) -> list[HeldMessage]:
    """The claimed rows `owner` still holds, with their attachments, in id order.

    Core, not ORM objects: a pass reads up to a batch of rows once and never writes through
    them, and loading each as a mapped instance cost a tenth of the pass."""
    t, a = _table(), cast(Table, OutboxAttachment.__table__)
    rows = conn.execute(
        select(t.c.id, t.c.kind, t.c.task_id, t.c.lang, t.c.context, t.c.addressed_to,
               t.c.recipients, t.c.subject, t.c.body_text, t.c.body_html, t.c.message_id,
               t.c.created_at)
        .where(t.c.id.in_(ids), t.c.claimed_by == owner, t.c.state == "sending")
        .order_by(t.c.id)).all()
    files: dict[int, list[HeldAttachment]] = {}
    if rows:
        for f in conn.execute(select(a.c.outbox_id, a.c.filename, a.c.content, a.c.mimetype)
                              .where(a.c.outbox_id.in_([r.id for r in rows])).order_by(a.c.id)):
            files.setdefault(f.outbox_id, []).append(
                HeldAttachment(f.filename, f.content, f.mimetype))
    return [HeldMessage(**r._mapping, attachments=tuple(files.get(r.id, ()))) for r in rows]


def outbox_state(conn: Connection, row_id: int) -> str | None:
    t = _table()
    return conn.scalar(select(t.c.state).where(t.c.id == row_id))


def revive_dead(conn: Connection, row_id: int | None, *, now: dt.datetime) -> int:
    """Dead rows (one, or all) back to pending with a fresh budget, their rendering cleared."""
    t = _table()
    where = [_moving(t.c.state, "dead", to="pending"),
             *([t.c.id == row_id] if row_id is not None else [])]
    ids = list(conn.scalars(select(t.c.id).where(*where)))
    if not ids:
        return 0
    a = cast(Table, OutboxAttachment.__table__)
    conn.execute(delete(a).where(a.c.outbox_id.in_(ids), a.c.mimetype == "text/calendar"))
    conn.execute(update(t).where(t.c.id.in_(ids)).values(
        state="pending", next_attempt_at=now, attempts=0, claimed_by=None,
        first_attempt_at=None, recipients=None, subject=None, body_text=None, body_html=None,
        created_at=func.min(t.c.created_at, literal(now, UTCDateTime()))
        if conn.dialect.name == "sqlite" else func.least(t.c.created_at, now),
        last_error=literal("retried by an operator; before: ", Text())
        + func.coalesce(t.c.last_error, "")))
    return len(ids)


def held_attempts(conn: Connection, ids: list[int], *,
                  owner: str) -> dict[int, tuple[int, dt.datetime | None]]:
    """(attempts, first attempt) of the rows `owner` still holds among `ids`."""
    t = _table()
    return {r.id: (r.attempts, r.first_attempt_at) for r in conn.execute(
        select(t.c.id, t.c.attempts, t.c.first_attempt_at)
        .where(t.c.id.in_(ids), t.c.claimed_by == owner, t.c.state == "sending"))}


def write_outcomes(conn: Connection, sent: list[dict[str, Any]], other: list[dict[str, Any]],
                   *, owner: str) -> None:
    """Record outcomes: a row already `sent` is never reopened, and the others apply only to
    rows `owner` still holds. The rows are locked in id order first (`_lock_in_id_order`).

    Sent rows without a note (nearly all) that share a time go in one UPDATE … WHERE id IN, the
    rest one execution per row (executemany); the statements are built once per process. A
    group commit runs this a few hundred times a second, and building the statements and
    binding each row's parameters was most of its cost."""
    _lock_in_id_order(conn, [row["b_id"] for row in (*sent, *other)])
    plain: dict[Any, list[int]] = {}
    noted: list[dict[str, Any]] = []
    for row in sent:
        if row["b_error"] is None:
            plain.setdefault(row["b_sent"], []).append(row["b_id"])
        else:
            noted.append(row)
    for at, ids in plain.items():
        conn.execute(_OUTCOME_STATEMENTS["sent_ids"], {"b_ids": ids, "b_sent": at})
    if noted:
        conn.execute(_OUTCOME_STATEMENTS["sent"], noted)
    if other:
        conn.execute(_OUTCOME_STATEMENTS["other"], [{**row, "b_owner": owner} for row in other])


def _outcome_statements() -> dict[str, Any]:
    t = _table()
    sent: dict[str, Any] = {"state": "sent", "sent_at": bindparam("b_sent"), "claimed_by": None}
    to_sent = _moving(t.c.state, *moves_to("sent"), to="sent")
    held = t.c.claimed_by == bindparam("b_owner")
    for target in ("pending", "dead"):  # a retry, deferral or release; or a death
        held &= _moving(t.c.state, "sending", to=target)
    return {
        "sent_ids": update(t).where(t.c.id.in_(bindparam("b_ids", expanding=True)), to_sent)
        .values(last_error=None, **sent),
        "sent": update(t).where(t.c.id == bindparam("b_id"), to_sent)
        .values(last_error=bindparam("b_error"), **sent),
        "other": update(t).where(t.c.id == bindparam("b_id"), held)
        .values(state=bindparam("b_state"), next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"), attempts=bindparam("b_attempts"),
                first_attempt_at=bindparam("b_first"), claimed_by=None),
    }


_OUTCOME_STATEMENTS = _outcome_statements()


# --- `nckh outbox list|show` and the demo's timeline ----------------------------------------
def recent_messages(session: Session, *, state: str | None = None,
                    limit: int | None = None, newest_first: bool = True) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(
        OutboxMessage.id.desc() if newest_first else OutboxMessage.id)
    if state:
        query = query.where(OutboxMessage.state == state)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def message(session: Session, row_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, row_id, options=[selectinload(OutboxMessage.attachments)])
