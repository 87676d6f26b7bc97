"""The rows of sign-in and of personal links: requests, sessions, passwords, links and uses.

`engine.access` owns the rules (how long a link lives, how many requests, who may hold a
password); the queries are here. Each function takes the caller's session (one transaction).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload

from storage.models import Person, Task, Unit
from storage.webmodels import ActionLink, ActionLinkUse, SigninToken, WebPassword, WebSession


def person(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id, options=[joinedload(Person.unit)])


def requests_since(session: Session, *, email: str | None = None, client: str | None = None,
                   since: dt.datetime) -> int:
    query = select(func.count()).select_from(SigninToken).where(
        SigninToken.requested_at >= since)
    if email is not None:
        query = query.where(SigninToken.email == email)
    if client is not None:
        query = query.where(SigninToken.client == client)
    return int(session.scalar(query) or 0)


def add_signin(session: Session, row: SigninToken) -> SigninToken:
    session.add(row)
    session.flush()
    return row


def set_signin_hash(session: Session, row: SigninToken, token_hash: str) -> None:
    row.token_hash = token_hash
    session.flush()


def signin(session: Session, row_id: int) -> SigninToken | None:
    return session.get(SigninToken, row_id)


def use_signin(session: Session, row_id: int, now: dt.datetime) -> bool:
    """Mark a sign-in link used; False when it already was (two clicks racing: one wins)."""
    done = session.execute(update(SigninToken).where(
        SigninToken.id == row_id, SigninToken.used_at.is_(None)).values(used_at=now))
    return bool(getattr(done, "rowcount", 0) == 1)


def add_session(session: Session, row: WebSession) -> None:
    session.add(row)
    session.flush()


def session_by_hash(session: Session, token_hash: str) -> WebSession | None:
    return session.scalar(select(WebSession).where(WebSession.token_hash == token_hash))


@dataclass(frozen=True)
class SessionSeen:
    """A session with its person, read in one statement (every signed-in page asks)."""

    id: int
    ended_at: dt.datetime | None
    last_seen_at: dt.datetime
    person_id: int
    email: str
    name: str
    role: str
    unit_id: int | None
    active: bool
    unit_code: str | None


_SESSION_SEEN = (select(WebSession.id, WebSession.ended_at, WebSession.last_seen_at,
                        Person.id, Person.email, Person.name, Person.role, Person.unit_id,
                        Person.active, Unit.code)
                 .join(Person, Person.id == WebSession.person_id)
                 .outerjoin(Unit, Unit.id == Person.unit_id)
                 .where(WebSession.token_hash == bindparam("token_hash")))


def session_seen(conn: Connection, token_hash: str) -> SessionSeen | None:
    row = conn.execute(_SESSION_SEEN, {"token_hash": token_hash}).first()
    if row is None:
        return None
    id_, ended_at, last_seen_at, person_id, email, name, role, unit_id, active, code = row
    return SessionSeen(id_, ended_at, last_seen_at, person_id, email, name, role, unit_id,
                       bool(active), code)


def see_session(session: Session, session_id: int, *, at: dt.datetime) -> None:
    """Seen at `at`, unless it ended meanwhile or was seen later already."""
    session.execute(update(WebSession).where(
        WebSession.id == session_id, WebSession.ended_at.is_(None),
        WebSession.last_seen_at < at).values(last_seen_at=at))


def end_session(session: Session, session_id: int, *, at: dt.datetime) -> None:
    """Ended at `at`, unless it ended already (a sign-out meanwhile keeps its time)."""
    session.execute(update(WebSession).where(
        WebSession.id == session_id, WebSession.ended_at.is_(None)).values(ended_at=at))


def password(session: Session, person_id: int) -> WebPassword | None:
    return session.get(WebPassword, person_id)


def put_password(session: Session, row: WebPassword) -> None:
    session.merge(row)
    session.flush()


def link(session: Session, person_id: int, task_id: int) -> ActionLink | None:
    return session.scalar(select(ActionLink).where(ActionLink.person_id == person_id,
                                                   ActionLink.task_id == task_id))


def links_by_key(session: Session, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of the (person, task) pairs, those that have a link row already."""
    if not pairs:
        return set()
    found = session.execute(select(ActionLink.person_id, ActionLink.task_id).where(
        ActionLink.person_id.in_({p for p, _ in pairs}),
        ActionLink.task_id.in_({t for _, t in pairs})))
    return {(p, t) for p, t in found}


def add_link(session: Session, row: ActionLink) -> None:
    session.add(row)
    session.flush()


def add_use(session: Session, row: ActionLinkUse) -> None:
    session.add(row)
    session.flush()


def uses(session: Session, link_id: int) -> list[ActionLinkUse]:
    return list(session.scalars(select(ActionLinkUse).where(ActionLinkUse.link_id == link_id)
                                .order_by(ActionLinkUse.id)))


def task(session: Session, task_id: int) -> Task | None:
    return session.get(Task, task_id)


def active_person_id(conn: Connection, email: str) -> int | None:
    """The id of the active person with this address (a mail's reader), or None."""
    found = conn.scalar(select(Person.id).where(Person.email == email.strip().lower(),
                                                Person.active.is_(True)))
    return int(found) if found is not None else None
