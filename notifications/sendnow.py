"""`nckh mail test`: one message straight through the dispatcher's transport, not the outbox.

It tests the configuration (server, TLS, login, sender address) and says what happened; a
failure is a `DeliveryError` carrying the server's reply, never the password.
"""

from __future__ import annotations

import datetime as dt

from notifications.context import empty_context
from notifications.dispatcher import Dispatcher
from notifications.message import BadMessage, build_message, domain_of
from notifications.outbox import Outcome
from notifications.transports.base import Outgoing
from storage.db import read_session
from workflows.errors import DeliveryError


def send_test(d: Dispatcher, address: str, now: dt.datetime) -> str:
    cfg = d.cfg
    to = [{"role": "addressed", "name": "", "title": "", "email": address, "unit_name": ""}]
    with read_session(d.db) as s:
        reply_to = d.reply_to(s.connection())
    ctx = empty_context(cfg, "test", cfg.lang, now.astimezone(d.tz).date())
    ctx["to"] = to
    rendered = d.renderer.render("test", cfg.lang, ctx)
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    office = cfg.office
    try:
        msg = build_message(
            mail_from=cfg.mail_from, from_name=f"{office['department']} – {office['agency']}",
            reply_to=reply_to, to=to, cc=[], subject=rendered.subject,
            text=rendered.text, html=rendered.html,
            message_id=f"<nckh.test.{stamp}@{domain_of(cfg.mail_from)}>", date=now, kind="test")
    except BadMessage as exc:
        raise DeliveryError(f"cannot build the test message: {exc}") from None
    item = Outgoing(0, f"{stamp}-test", cfg.mail_from, (address,), msg.data)
    outcomes: list[Outcome] = []
    d.transport.deliver([item], outcomes.extend)
    where = d.transport.where(item)
    outcome = outcomes[0] if outcomes else Outcome(0, "retry", "no outcome")
    if outcome.state != "sent":
        raise DeliveryError(f"test message to {address} not delivered via {where}: "
                            f"{outcome.error}")
    return f"test message sent to {address} via {where}"
