"""The publications register (bài báo, công bố): its table and every statement on it.

One row per article or publication of a unit's research: title, authors, where it appeared (the
venue's kind and name), the day it was published, its URL and/or DOI, an optional file (a row of
`stored_file`), and the research task it reports on when there is one. The seeds count articles
(several per topic; domestic or international journals, conferences, the unit's own website),
not tasks that reached "published". Rows are only added: a publication is a fact. Who recorded
it (the OS login or the web's signed-in person, and the person named with `--as`) and when are
kept on the row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from storage.base import Base, UTCDateTime
from storage.models import Task, Unit
from storage.webmodels import StoredFile

# The kinds of venue, as stored; their labels live with the rules (engine/publications.py).
VENUE_KINDS = ("journal_domestic", "journal_international", "conference", "unit_website",
               "other")
_KINDS_SQL = ", ".join(f"'{k}'" for k in VENUE_KINDS)


class Publication(Base):
    __tablename__ = "publication"
    __table_args__ = (
        Index("ix_publication_unit_published", "unit_id", "published_on"),
        Index("ix_publication_task_id", "task_id"),
        CheckConstraint(f"venue_kind IN ({_KINDS_SQL})", name="venue_kind"),
        # One article once per unit, even against two clicks at once: the title may be too long
        # for a database index, so the key is the hash of what identifies it.
        UniqueConstraint("fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    title: Mapped[str] = mapped_column(Text)
    authors: Mapped[str] = mapped_column(Text)
    venue_kind: Mapped[str] = mapped_column(String(24))
    venue_name: Mapped[str] = mapped_column(String(300))
    published_on: Mapped[dt.date] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(String(2000))
    doi: Mapped[str | None] = mapped_column(String(200))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(320))
    acting_as: Mapped[str | None] = mapped_column(String(320))
    fingerprint: Mapped[str] = mapped_column(String(64))

    unit: Mapped[Unit] = relationship()
    task: Mapped[Task | None] = relationship()
    file: Mapped[StoredFile | None] = relationship()


def fingerprint(unit_id: int, title: str, venue_name: str, published_on: dt.date) -> str:
    """What makes two rows the same article: the unit, the day, the venue and the title."""
    key = "\x1f".join((str(unit_id), published_on.isoformat(), venue_name.casefold(),
                       title.casefold()))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add(session: Session, row: Publication) -> Publication:
    session.add(row)
    session.flush()
    return row


def add_file(session: Session, row: StoredFile) -> StoredFile:
    session.add(row)
    session.flush()
    return row


def of_task(session: Session, task_id: int, *, url: str) -> Publication | None:
    """The task's publication at `url`, if one is recorded (publishing twice records once)."""
    return session.scalar(select(Publication).where(Publication.task_id == task_id,
                                                    Publication.url == url))


def exists(session: Session, unit_id: int, title: str, venue_name: str,
           published_on: dt.date) -> bool:
    return session.scalar(select(Publication.id).where(
        Publication.fingerprint == fingerprint(unit_id, title, venue_name, published_on))) \
        is not None


def listed(session: Session, *, unit_id: int | None = None, start: dt.date | None = None,
           end: dt.date | None = None) -> Sequence[Publication]:
    """Publications, oldest first, of one unit or all, published within [start, end]."""
    query = select(Publication).order_by(Publication.published_on, Publication.id)
    if unit_id is not None:
        query = query.where(Publication.unit_id == unit_id)
    if start is not None:
        query = query.where(Publication.published_on >= start)
    if end is not None:
        query = query.where(Publication.published_on <= end)
    return session.scalars(query).all()


def counted(session: Session, start: dt.date,
            end: dt.date) -> list[tuple[int, str, dt.date, int | None]]:
    """(unit id, venue kind, day, task id) of every publication within [start, end]: what
    reports count."""
    return [(u, k, d, t) for u, k, d, t in session.execute(
        select(Publication.unit_id, Publication.venue_kind, Publication.published_on,
               Publication.task_id)
        .where(Publication.published_on >= start, Publication.published_on <= end)
        .order_by(Publication.unit_id, Publication.published_on, Publication.id))]


def file_with_unit(session: Session, file_id: int) -> tuple[StoredFile, int] | None:
    """A stored file attached to a publication, with that publication's unit id."""
    found = session.execute(select(StoredFile, Publication.unit_id)
                            .join(Publication, Publication.file_id == StoredFile.id)
                            .where(StoredFile.id == file_id)).first()
    return (found[0], int(found[1])) if found is not None else None
