"""Building the e-mail: headers safe against injection, a stable Message-ID, bodies, attachments.

Header safety: names and subjects are collapsed to one line before they reach a header, and every
address goes through `headerregistry.Address`, which encodes Vietnamese display names (RFC 2047)
and refuses CR/LF or a malformed address (`BadMessage`, a permanent failure: retrying cannot fix
it). A user string never becomes a raw `To:` value, so a comma in a name cannot add a recipient.

The Message-ID is derived from the outbox row (id and creation time), never random: a message
re-sent after a crash carries the same Message-ID, and the receiving side can deduplicate it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from icalendar import Alarm, Calendar, Event

from notifications.render import oneline

Attachment = tuple[str, bytes, str]  # (filename, content, "maintype/subtype")


class _Subject(str):
    """A Subject header that folds itself with `email.header.Header`.

    The stdlib's modern folder (3.11–3.13) puts the space between two RFC 2047 encoded words
    *between* them, where decoders drop it ("đăng ký đề tài" arrives as "đăng kýđề tài");
    `Header` keeps the space inside the encoded word. The policy hands any header object with
    `name` and `fold()` through untouched. The text is already one line (no CR/LF).
    """

    name = "Subject"

    def fold(self, *, policy: Any) -> str:
        linesep = getattr(policy, "linesep", "\n")
        charset = "us-ascii" if self.isascii() else "utf-8"
        encoded = Header(str(self), charset, header_name="Subject").encode(linesep=linesep)
        return f"Subject: {encoded}{linesep}"


class _Addresses(str):
    """An address header folded with `formataddr` (fast, RFC 2047 names); validated on build."""

    def __new__(cls, name: str, pairs: Sequence[tuple[str, str]]) -> _Addresses:
        self = super().__new__(cls, ", ".join(f"{n} <{a}>" if n else a for n, a in pairs))
        self.name = name
        self.pairs = tuple(pairs)
        return self

    name: str
    pairs: tuple[tuple[str, str], ...]

    def fold(self, *, policy: Any) -> str:
        linesep = getattr(policy, "linesep", "\n")
        parts = [formataddr((n, a), charset="utf-8") for n, a in self.pairs]
        return f"{self.name}: " + f",{linesep} ".join(parts) + linesep


class BadMessage(ValueError):
    """The message cannot be built (invalid address, header that would break): never retried."""


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip(" >") or "localhost"


def message_id_for(row_id: int, created_at: dt.datetime, mail_from: str) -> str:
    stamp = created_at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"<nckh.outbox.{row_id}.{stamp}@{domain_of(mail_from)}>"


def address(name: str, email: str) -> tuple[str, str]:
    """(display name, address), checked by `headerregistry.Address` (no CR/LF, well-formed)."""
    try:
        checked = Address(display_name=oneline(name), addr_spec=email.strip())
    except (ValueError, IndexError) as exc:  # headerregistry raises both on bad input
        raise BadMessage(f"invalid address {email!r}: {exc}") from None
    if not checked.domain or not checked.username:
        raise BadMessage(f"invalid address {email!r}: needs a user and a domain")
    return checked.display_name, checked.addr_spec


def _header(name: str, people: Sequence[Mapping[str, Any]]) -> _Addresses:
    return _Addresses(name, [address(str(r.get("name") or ""), str(r["email"])) for r in people])


def build_message(
    *, mail_from: str, from_name: str, reply_to: str | None,
    to: Sequence[Mapping[str, Any]], cc: Sequence[Mapping[str, Any]],
    subject: str, text: str, html: str | None, message_id: str, date: dt.datetime, kind: str,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    msg = EmailMessage()
    try:
        # Address headers are folded by `formataddr`: the stdlib's modern folder takes ~1 ms
        # per address header, the whole cost of a send at our rates.
        msg["From"] = _Addresses("From", [address(from_name, mail_from)])
        msg["To"] = _header("To", to)
        if cc:
            msg["Cc"] = _header("Cc", cc)
        if reply_to:
            msg["Reply-To"] = _Addresses("Reply-To", [address(from_name, reply_to)])
        msg["Subject"] = _Subject(oneline(subject))
        msg["Date"] = format_datetime(date.astimezone(dt.UTC))
        msg["Message-ID"] = message_id
        # RFC 3834: an automatic message; ask auto-responders (out-of-office) to stay quiet.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
        msg["X-Nckh-Kind"] = oneline(kind)
    except BadMessage:
        raise
    except (ValueError, TypeError) as exc:
        raise BadMessage(f"cannot build headers: {exc}") from None
    msg.set_content(text, subtype="plain", charset="utf-8")
    if html:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    for filename, content, mimetype in attachments:
        maintype, _, subtype = mimetype.partition("/")
        params = ({"method": "PUBLISH", "charset": "utf-8"} if mimetype == "text/calendar"
                  else {})
        msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=oneline(filename), params=params)
    return msg


def recipients_of(msg: EmailMessage) -> list[str]:
    """Envelope recipients: every To and Cc address (there is never a Bcc header)."""
    out: list[str] = []
    for header in ("To", "Cc"):
        value = msg[header]
        if isinstance(value, _Addresses):
            out.extend(a for _, a in value.pairs)
    return out


def flatten(msg: EmailMessage) -> bytes:
    """The bytes on the wire (CRLF), computed once per claim and reused by every transport."""
    return msg.as_bytes(policy=policy.SMTP)


def calendar_file(*, uid: str, summary: str, description: str, due_on: dt.date,
                  stamp: dt.datetime, organizer: str | None) -> bytes:
    """An all-day VEVENT on the due date (METHOD:PUBLISH), with a reminder the day before."""
    cal = Calendar()
    cal.add("prodid", "-//nckh//research task deadlines//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", due_on)
    event.add("dtend", due_on + dt.timedelta(days=1))
    event.add("summary", oneline(summary))
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    if organizer:
        event.add("organizer", f"mailto:{organizer}")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", oneline(summary))
    alarm.add("trigger", dt.timedelta(days=-1))
    event.add_component(alarm)
    cal.add_component(event)
    return bytes(cal.to_ical())
