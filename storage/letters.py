"""Letter lines: who is to be told of which queued notice, and in which letter it went.

A notice that is not sent on its own (a reminder, a notice, an escalation, a copy of a step;
see `notifications.letters`) is fanned out, once, into one line per recipient. A person's
waiting lines are gathered into that person's one letter of the day (an outbox row of kind
`letter`); the office's into its digest. `letter_id` is NULL while a line waits.

A line is unique per (notice, address): fanning a notice out again (a dispatcher whose lease
was taken over renders it a second time) adds nothing. Letters of a day are composed under one
lock (`lock_composition`: PostgreSQL's advisory lock; SQLite has one writer at a time), so two
daemons never write a person two letters on one day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime
from storage.db import Connection
from storage.outbox import OutboxAttachment, OutboxMessage
from storage.timers import Timer

COMPOSITION_LOCK = 0x6E636B68  # "nckh": the advisory lock of letter composition


class LetterLine(Base):
    __tablename__ = "letter_line"
    __table_args__ = (UniqueConstraint("item_id", "email"),
                      Index("ix_letter_line_waiting", "letter_id", "office"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    recipient: Mapped[dict[str, Any]] = mapped_column(JSON)  # role, name, title, unit_name
    role: Mapped[str] = mapped_column(String(2))  # "to": to act; "cc": a copy, to know
    office: Mapped[bool] = mapped_column(Boolean, default=False)  # for the office's digest
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"),
                                                  index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def _lines() -> Table:
    return cast(Table, LetterLine.__table__)


def _outbox() -> Table:
    return cast(Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class WaitingLine:
    """A line not yet in a letter, with the notice it carries."""

    id: int
    email: str
    recipient: dict[str, Any]
    role: str
    urgent: bool
    item_id: int
    kind: str
    task_id: int | None
    lang: str
    context: dict[str, Any]
    created_at: dt.datetime


def add_lines(conn: Connection, lines: Sequence[dict[str, Any]]) -> None:
    """Insert fan-out lines; a (notice, address) already there is left as it is."""
    if not lines:
        return
    t = _lines()
    ins = (postgresql.insert(t) if conn.dialect.name == "postgresql" else sqlite.insert(t))
    conn.execute(ins.on_conflict_do_nothing(index_elements=["item_id", "email"]), list(lines))


def lock_composition(conn: Connection) -> None:
    """Hold the composition lock until the caller's transaction ends (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": COMPOSITION_LOCK})


def waiting_lines(conn: Connection, *, office: bool, limit: int = 5000) -> list[WaitingLine]:
    """Lines waiting for a letter (or, `office`, for the digest), oldest first."""
    ln, ob = _lines(), _outbox()
    rows = conn.execute(
        select(ln.c.id, ln.c.email, ln.c.recipient, ln.c.role, ln.c.urgent, ln.c.item_id,
               ob.c.kind, ob.c.task_id, ob.c.lang, ob.c.context, ob.c.created_at)
        .join(ob, ob.c.id == ln.c.item_id)
        .where(ln.c.letter_id.is_(None), ln.c.office.is_(office))
        .order_by(ln.c.id).limit(limit))
    return [WaitingLine(*row) for row in rows]


def lettered_today(conn: Connection, emails: Sequence[str], *, since: dt.datetime,
                   office: bool = False) -> set[str]:
    """Those of `emails` a letter (or, `office`, a digest) was written to since `since`."""
    if not emails:
        return set()
    ln, ob = _lines(), _outbox()
    rows = conn.execute(
        select(ln.c.email).distinct().join(ob, ob.c.id == ln.c.letter_id)
        .where(ln.c.email.in_(list(emails)), ln.c.office.is_(office), ob.c.created_at >= since))
    return {r[0] for r in rows}


def attach(conn: Connection, line_ids: Sequence[int], letter_id: int) -> int:
    """Put waiting lines into a letter; returns how many were still waiting."""
    if not line_ids:
        return 0
    ln = _lines()
    result = conn.execute(update(ln).where(ln.c.id.in_(list(line_ids)), ln.c.letter_id.is_(None))
                          .values(letter_id=letter_id))
    return int(result.rowcount or 0)


def notices(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The queued notices a letter carries: kind, task, language, facts, when queued."""
    if not ids:
        return {}
    ob = _outbox()
    rows = conn.execute(select(ob.c.id, ob.c.kind, ob.c.task_id, ob.c.lang, ob.c.context,
                               ob.c.created_at).where(ob.c.id.in_(list(ids))))
    return {r.id: {"kind": r.kind, "task_id": r.task_id, "lang": r.lang,
                   "context": r.context or {}, "created_at": r.created_at} for r in rows}


def notice_files(conn: Connection, ids: Sequence[int]) -> list[tuple[str, bytes, str]]:
    """The files the notices `ids` carry (a report's tables), as (filename, content, mimetype),
    in the order the notices were queued: a letter or a digest that holds a notice carries its
    files."""
    if not ids:
        return []
    a = cast(Table, OutboxAttachment.__table__)
    rows = conn.execute(select(a.c.filename, a.c.content, a.c.mimetype)
                        .where(a.c.outbox_id.in_(sorted(set(ids)))).order_by(a.c.outbox_id, a.c.id))
    return [(r.filename, bytes(r.content), r.mimetype) for r in rows]


def last_digest_at(conn: Connection, office: str | None = None) -> dt.datetime | None:
    """When the last digest was queued: the default office's (`office` None; its dedupe key is
    `digest:DAY`), or office `office`'s (`digest:DAY:OFFICE`)."""
    ob = _outbox()
    pattern = "digest:%" if office is None else f"digest:%:{office}"
    rows = conn.execute(select(ob.c.dedupe_key, ob.c.created_at)
                        .where(ob.c.kind == "digest", ob.c.dedupe_key.like(pattern)))
    # `_` is a LIKE wildcard and office keys hold it: the pattern narrows, this decides.
    times = [at for key, at in rows if (key.count(":") == 1 if office is None
                                        else key.split(":", 2)[2] == office)]
    return max(times, default=None)


def timers_still_due(conn: Connection, now: dt.datetime, window: dt.timedelta) -> bool:
    """A timer due within `window` before `now` has not fired yet (a sweep still running, on
    this daemon or another): the day's letters wait for it, so nobody gets two."""
    t = cast(Table, Timer.__table__)
    return conn.scalar(select(t.c.id).where(
        t.c.done_at.is_(None), t.c.fire_at <= now, t.c.fire_at > now - window).limit(1)) \
        is not None


def carried_kinds(conn: Connection, letter_ids: Sequence[int]) -> dict[int, list[str]]:
    """The kinds of the notices each letter (or digest) carried, one per notice, in queue order."""
    if not letter_ids:
        return {}
    ln, ob = _lines(), _outbox()
    rows = conn.execute(
        select(ln.c.letter_id, ob.c.id, ob.c.kind).distinct()
        .join(ob, ob.c.id == ln.c.item_id)
        .where(ln.c.letter_id.in_(list(letter_ids))).order_by(ln.c.letter_id, ob.c.id))
    out: dict[int, list[str]] = {}
    for letter_id, _, kind in rows:
        out.setdefault(letter_id, []).append(kind)
    return out


def task_mails(conn: Connection, task_id: int) -> list[dict[str, Any]]:
    """The notices queued about a task (an item page's "e-mails"), oldest first: kind, when
    queued, state, readers as first rendered, and subject and sending time — its own, else
    those of the first letter or digest that carried it."""
    ob, ln = _outbox(), _lines()
    first = (select(ln.c.item_id, func.min(ln.c.letter_id).label("letter_id"))
             .where(ln.c.letter_id.is_not(None)).group_by(ln.c.item_id).subquery())
    carrier = ob.alias("carrier")
    rows = conn.execute(
        select(ob.c.id, ob.c.kind, ob.c.state, ob.c.created_at, ob.c.recipients,
               func.coalesce(ob.c.subject, carrier.c.subject).label("subject"),
               func.coalesce(ob.c.sent_at, carrier.c.sent_at).label("sent_at"))
        .outerjoin(first, first.c.item_id == ob.c.id)
        .outerjoin(carrier, carrier.c.id == first.c.letter_id)
        .where(ob.c.task_id == task_id).order_by(ob.c.created_at, ob.c.id))
    return [dict(r._mapping) for r in rows]
