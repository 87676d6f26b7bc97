"""Reviving dead messages (`nckh outbox retry`): back to pending, rendered afresh, same Message-ID.

The rendered text, recipients and calendar file are cleared so the retry picks up a corrected
address or template; the Message-ID is derived from the row, so it stays the same. A message
already sent is never retried (that would send it twice); a pending one needs no retry.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from engine.service import Engine
from storage.outbox import OutboxAttachment, OutboxMessage
from workflows.errors import InputError, NotFound


def retry(engine: Engine, row_id: int | None, *, now: dt.datetime) -> int:
    """Re-queue one dead row (`row_id`) or every dead row (None); return how many."""
    with engine.transaction() as s:
        if row_id is not None:
            row = s.get(OutboxMessage, row_id)
            if row is None:
                raise NotFound("outbox message", row_id)
            if row.state != "dead":
                what = ("already sent: retrying would send it twice" if row.state == "sent"
                        else f"{row.state}: it will be sent without a retry")
                raise InputError(f"outbox message {row_id} is {what}")
            rows = [row]
        else:
            rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.state == "dead")))
        for r in rows:
            s.execute(delete(OutboxAttachment).where(OutboxAttachment.outbox_id == r.id,
                                                     OutboxAttachment.mimetype == "text/calendar"))
            # A fresh budget: attempts and the give-up clock start again at the next attempt.
            r.state, r.next_attempt_at, r.attempts, r.claimed_by = "pending", now, 0, None
            r.first_attempt_at = None
            r.recipients = r.subject = r.body_text = r.body_html = None
            r.created_at = min(r.created_at, now)
            r.last_error = f"retried by an operator; before: {r.last_error}"
        return len(rows)
