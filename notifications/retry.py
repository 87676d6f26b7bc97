"""Reviving dead messages (`nckh outbox retry`): back to pending, rendered afresh, same Message-ID.

The rendered text, recipients and calendar file are cleared so the retry picks up a corrected
address or template; the Message-ID is derived from the row, so it stays the same. A message
already sent is never retried (that would send it twice); a pending one needs no retry. A retry
is a fresh budget: attempts and the give-up clock start again at the next attempt.
"""

from __future__ import annotations

import datetime as dt

from storage.db import DbEngine
from storage.outbox import outbox_state, revive_dead
from workflows.errors import InputError, NotFound


def retry(db: DbEngine, row_id: int | None, *, now: dt.datetime) -> int:
    """Re-queue one dead row (`row_id`) or every dead row (None); return how many."""
    with db.begin() as conn:
        if row_id is not None:
            state = outbox_state(conn, row_id)
            if state is None:
                raise NotFound("outbox message", row_id)
            if state != "dead":
                what = ("already sent: retrying would send it twice" if state == "sent"
                        else f"{state}: it will be sent without a retry")
                raise InputError(f"outbox message {row_id} is {what}")
        return revive_dead(conn, row_id, now=now)
