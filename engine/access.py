"""Signing in to the web app, and the personal links that mails carry: the rules.

- **Sign-in links.** A registered, active person asks for a link; it is mailed through the
  outbox (kind `signin_link`), lives `SIGNIN_MINUTES`, and works once. The database keeps its
  row and the hash of its token (`notifications.links`). Requests are limited per address and
  per client (`RATE_PER_ADDRESS`, `RATE_PER_CLIENT` in `RATE_WINDOW`), counted in the database
  so that every web process agrees. An unknown address is counted and sent nothing; the page
  says the same either way, so it tells nobody who is registered.
- **Sessions.** A random token in the (signed) cookie; the database keeps its hash, the person
  and when it was last seen (to the minute: `SEEN_EVERY`). Idle longer than the configured
  minutes, or signed out: ended.
- **Passwords.** Only for the office's people, set by the office (argon2id via argon2-cffi).
- **Action links.** One person, one item: an HMAC of both under the secret, so a later mail
  writes the same link. Valid while the item is open and until `ACTION_GRACE_DAYS` after the
  legal end of its last deadline; revocable. Every use is recorded with time, address and
  browser; opening one only shows a page (mail scanners fetch links), acting takes a POST.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine import directory
from notifications.links import Links, digest
from storage import access as rows
from storage.db import DbEngine, Session, read, unit_of_work
from storage.models import Person
from storage.webmodels import ActionLink, ActionLinkUse, SigninToken, WebPassword, WebSession
from workflows import inputs
from workflows.calendar import BusinessCalendar
from workflows.errors import InputError, NotAllowed
from workflows.visibility import Viewer

SIGNIN_MINUTES = 15
RATE_WINDOW = dt.timedelta(minutes=15)
RATE_PER_ADDRESS = 3
RATE_PER_CLIENT = 10
ACTION_GRACE_DAYS = 30
PASSWORD_MIN = 12
# A session's last-seen time is written at most this often: reading a page takes no write.
SEEN_EVERY = dt.timedelta(minutes=1)


class RateLimited(NotAllowed):
    pass


class LinkRefused(NotAllowed):
    """A sign-in or action link that cannot be used; `why` says which way, so a shell can say
    it in the person's language: invalid, used, expired, revoked, inactive."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why


WHY = {"this sign-in link is not valid": "invalid", "this link is not valid": "invalid",
       "this sign-in link has already been used": "used",
       "this sign-in link has expired": "expired", "this link has expired": "expired",
       "this link has been revoked": "revoked", "this person may no longer sign in": "inactive",
       "this person may no longer act": "inactive"}


def _refused(message: str) -> LinkRefused:
    return LinkRefused(message, WHY.get(message, "invalid"))


@dataclass(frozen=True)
class LinkGrant:
    """What a valid action link gives: this person, this one item."""

    link_id: int
    viewer: Viewer
    task_id: int


def viewer_of(person: Person) -> Viewer:
    return Viewer(person_id=person.id, email=person.email, name=person.name, role=person.role,
                  unit_id=person.unit_id, unit_code=person.unit.code if person.unit else None)


def _client(text: str) -> str:
    return inputs.printable(text or "?")[:64]


class Access:
    def __init__(self, db: DbEngine, links: Links, *, idle_minutes: int,
                 calendar: BusinessCalendar, tz: dt.tzinfo) -> None:
        self.db = db
        self.links = links
        self.idle = dt.timedelta(minutes=idle_minutes)
        self.calendar = calendar
        self.tz = tz
        self.hasher = PasswordHasher()

    # --- sign-in links --------------------------------------------------------------------
    def request_signin(self, email: str, *, client: str, now: dt.datetime,
                       lang: str = "vi") -> None:
        """Queue a sign-in link to `email` if it is a registered, active person's. Refused with
        `RateLimited` past the limits; an unknown address is counted and sent nothing."""
        from storage.outbox import insert_mail

        key = inputs.lookup_key(email) or ""
        if "@" not in key:
            raise InputError("enter the e-mail address registered with the office")
        client = _client(client)
        with unit_of_work(self.db) as s:
            since = now - RATE_WINDOW
            if rows.requests_since(s, email=key, since=since) >= RATE_PER_ADDRESS:
                raise RateLimited("too many sign-in links asked for this address: wait "
                                  f"{RATE_WINDOW.seconds // 60} minutes")
            if rows.requests_since(s, client=client, since=since) >= RATE_PER_CLIENT:
                raise RateLimited("too many sign-in links asked from this computer: wait "
                                  f"{RATE_WINDOW.seconds // 60} minutes")
            person = _active_person(s, key)
            row = rows.add_signin(s, SigninToken(
                email=key, person_id=person.id if person else None, client=client,
                salt=secrets.token_hex(8), requested_at=now,
                expires_at=now + dt.timedelta(minutes=SIGNIN_MINUTES)))
            if person is None:
                return
            rows.set_signin_hash(s, row, digest(self.links.signin_token(row.id, row.salt)))
            insert_mail(s.connection(), kind="signin_link", dedupe_key=f"signin:{row.id}",
                        task_id=None, lang=lang, addressed_to=[person.email], now=now,
                        context={"signin": {"id": row.id, "salt": row.salt,
                                            "minutes": SIGNIN_MINUTES}})

    def signin_link(self, email: str, *, operator: str, now: dt.datetime) -> str:
        """A one-time sign-in link for a registered, active person, handed to the operator
        instead of mailed (`nckh web-link`: the first sign-in, a person whose mail is down).
        The same lifetime and single use as a mailed one; counted like one."""
        key = inputs.lookup_key(email) or ""
        with unit_of_work(self.db) as s:
            person = _active_person(s, key)
            if person is None:
                raise NotAllowed(f"{inputs.printable(email)} is not an active registered person")
            row = rows.add_signin(s, SigninToken(
                email=key, person_id=person.id, client=_client(f"cli:{operator}"),
                salt=secrets.token_hex(8), requested_at=now,
                expires_at=now + dt.timedelta(minutes=SIGNIN_MINUTES)))
            rows.set_signin_hash(s, row, digest(self.links.signin_token(row.id, row.salt)))
            return self.links.signin_url(row.id, row.salt)

    def redeem_signin(self, row_id: int, token: str, *, client: str, now: dt.datetime) -> str:
        """Use a sign-in link once: a new session's token. Forged, used or expired: refused."""
        with unit_of_work(self.db) as s:
            row = rows.signin(s, row_id) if inputs.id_in_range(row_id) else None
            if row is None or row.token_hash is None or row.person_id is None or \
                    not self.links.matches(self.links.signin_token(row.id, row.salt), token):
                raise _refused("this sign-in link is not valid")
            if row.used_at is not None:
                raise _refused("this sign-in link has already been used")
            if now >= row.expires_at:
                raise _refused("this sign-in link has expired")
            person = rows.person(s, row.person_id)
            if person is None or not person.active:
                raise _refused("this person may no longer sign in")
            if not rows.use_signin(s, row.id, now):
                raise _refused("this sign-in link has already been used")
            return self._open_session(s, person, how="link", client=client, now=now)

    # --- passwords (the office's people only) --------------------------------------------------
    def set_password(self, email: str, password: str, *, by: Viewer, now: dt.datetime) -> None:
        if not by.is_office:
            raise NotAllowed("only the office may set passwords")
        if len(password) < PASSWORD_MIN:
            raise InputError(f"the password must have at least {PASSWORD_MIN} characters")
        with unit_of_work(self.db) as s:
            person = directory.find_person(s, email)
            if person.role != "office":
                raise NotAllowed(f"{person.email} is not in the office: they sign in with a "
                                 "link sent by e-mail")
            rows.put_password(s, WebPassword(person_id=person.id, hash=self.hasher.hash(password),
                                             set_at=now, set_by=by.email))

    def password_signin(self, email: str, password: str, *, client: str,
                        now: dt.datetime) -> str:
        with unit_of_work(self.db) as s:
            person = _active_person(s, inputs.lookup_key(email) or "")
            stored = rows.password(s, person.id) if person else None
            try:
                ok = stored is not None and self.hasher.verify(stored.hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok or person is None or person.role != "office":
                raise NotAllowed("wrong e-mail address or password")
            return self._open_session(s, person, how="password", client=client, now=now)

    # --- sessions -----------------------------------------------------------------------------
    def _open_session(self, s: Session, person: Person, *, how: str, client: str,
                      now: dt.datetime) -> str:
        token = secrets.token_urlsafe(32)
        rows.add_session(s, WebSession(token_hash=digest(token), person_id=person.id, how=how,
                                       client=_client(client), created_at=now, last_seen_at=now))
        return token

    def session_viewer(self, token: str, *, now: dt.datetime) -> Viewer | None:
        """The person of a live session (and it is seen now), or None: ended, idle too long,
        or the person deactivated since.

        Every signed-in page asks, so the check reads in a read-only transaction (on SQLite no
        write lock, which the daemon may hold) and writes only when there is something to
        write: the end of a session, or its last-seen time once it is `SEEN_EVERY` old. Idle
        expiry is therefore exact to that much."""
        with read(self.db) as conn:  # plain rows: no ORM session for the hottest read
            seen = rows.session_seen(conn, digest(token))
        if seen is None or seen.ended_at is not None:
            return None
        idle = now - seen.last_seen_at > self.idle
        if idle or not seen.active:
            with unit_of_work(self.db) as s:
                rows.end_session(s, seen.id, at=seen.last_seen_at + self.idle if idle else now)
            return None
        if now - seen.last_seen_at >= SEEN_EVERY:
            with unit_of_work(self.db) as s:
                rows.see_session(s, seen.id, at=now)
        return Viewer(person_id=seen.person_id, email=seen.email, name=seen.name,
                      role=seen.role, unit_id=seen.unit_id, unit_code=seen.unit_code)

    def end_session(self, token: str, *, now: dt.datetime) -> None:
        with unit_of_work(self.db) as s:
            row = rows.session_by_hash(s, digest(token))
            if row is not None and row.ended_at is None:
                row.ended_at = now

    # --- action links --------------------------------------------------------------------------
    def use_link(self, person_id: int, task_id: int, token: str, *, what: str, client: str,
                 browser: str, now: dt.datetime) -> LinkGrant:
        """Check an action link and record this use (`open` for a GET, `act` for a POST).
        A forged, expired or revoked link is refused, and the refusal is recorded too."""
        assert what in ("open", "act")
        with unit_of_work(self.db) as s:
            ok = (inputs.id_in_range(person_id) and inputs.id_in_range(task_id)
                  and self.links.matches(self.links.action_token(person_id, task_id), token))
            if not ok:
                rows.add_use(s, _use(None, "forged", client, browser, now,
                                     f"{person_id}-{task_id}"))
                s.commit()  # the record of a forged link stays; the caller sees the refusal
                raise _refused("this link is not valid")
            link = rows.link(s, person_id, task_id)
            if link is None:
                link = ActionLink(person_id=person_id, task_id=task_id, token_hash=digest(token),
                                  created_at=now)
                rows.add_link(s, link)
            refusal = self._why_not(s, link, now)
            person = rows.person(s, person_id)
            if refusal is None and (person is None or not person.active):
                refusal = "this person may no longer act"
            rows.add_use(s, _use(link.id, what if refusal is None else "refused", client,
                                 browser, now, refusal))
            if refusal is not None or person is None:
                # the refusal's record commits with this transaction; the caller sees why
                s.commit()
                raise _refused(refusal or "this link is not valid")
            return LinkGrant(link.id, viewer_of(person), task_id)

    def _why_not(self, s: Session, link: ActionLink, now: dt.datetime) -> str | None:
        if link.revoked_at is not None:
            return "this link has been revoked"
        task = rows.task(s, link.task_id)
        if task is None:
            return "this link is not valid"
        ends = [d.due_on for d in task.deadlines]
        if ends and all(d.closed_at is not None for d in task.deadlines):
            last = self.calendar.legal_end(max(ends))
            if now.astimezone(self.tz).date() > last + dt.timedelta(days=ACTION_GRACE_DAYS):
                return "this link has expired"
        return None

    def revoke_link(self, person_id: int, task_id: int, *, by: Viewer, now: dt.datetime) -> None:
        if not by.is_office:
            raise NotAllowed("only the office may revoke links")
        with unit_of_work(self.db) as s:
            link = rows.link(s, person_id, task_id)
            if link is None:
                link = ActionLink(person_id=person_id, task_id=task_id,
                                  token_hash=digest(self.links.action_token(person_id, task_id)),
                                  created_at=now)
                rows.add_link(s, link)
            link.revoked_at = link.revoked_at or now

    def link_uses(self, person_id: int, task_id: int) -> list[dict[str, str | None]]:
        with unit_of_work(self.db, read_only_=True) as s:
            link = rows.link(s, person_id, task_id)
            return [] if link is None else [
                {"what": u.what, "at": u.at.astimezone(self.tz).strftime("%d/%m/%Y %H:%M"),
                 "client": u.client, "browser": u.browser, "note": u.note}
                for u in rows.uses(s, link.id)]


def _use(link_id: int | None, what: str, client: str, browser: str, now: dt.datetime,
         note: str | None) -> ActionLinkUse:
    return ActionLinkUse(link_id=link_id, what=what, at=now, client=_client(client),
                         browser=inputs.printable(browser or "?")[:300],
                         note=note[:300] if note else None)


def _active_person(s: Session, email: str) -> Person | None:
    from storage import directory as people

    person = people.person_by_email(s, email) if email else None
    return person if person is not None and person.active else None
