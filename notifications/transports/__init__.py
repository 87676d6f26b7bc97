"""Transports: how a batch of composed messages leaves nckh (the outbox's one I/O seam).

`base.Transport` is the protocol the dispatcher calls. `smtp` (aiosmtplib, several reused
connections, group commit), `maildir` (`.eml` files) and `memory` (in-process, answers scripted
per message, for unit tests of the dispatcher's logic) implement it. `transport_for` is the one
place that picks an implementation from the mail settings; a dispatcher asks it once, when it is
built, unless it is given a transport. Implementations are imported when chosen, so a command
that never sends never loads aiosmtplib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notifications.config import MailConfig
    from notifications.transports.base import Transport


def transport_for(cfg: MailConfig) -> Transport:
    """SMTP when a server is configured, else the maildir under the data directory."""
    if cfg.smtp is not None:
        from notifications.transports.smtp import SmtpTransport

        return SmtpTransport(cfg.smtp)
    from notifications.transports.maildir import MaildirTransport

    return MaildirTransport(cfg.maildir)
