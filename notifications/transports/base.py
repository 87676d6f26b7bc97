"""The transport protocol: what the dispatcher hands a transport, and what it gets back.

A transport takes a batch of `Outgoing` messages (composed, flattened, leased to the caller) and
reports what became of each as an `Outcome` (`notifications.outbox`), through `record`, in
groups, while it goes. Every implementation keeps the same four promises, which the dispatcher's
correctness rests on (the outbox's design note):

1. Every item gets exactly one outcome, handed to `record`, unless the delivery ends with an
   exception (`record` raised, or a fault in the transport itself), which is raised to the
   caller; an item left without a recorded outcome keeps its lease and goes out after it ends.
2. Once `stop()` is true, no item is started: the rest are `released` (never tried).
3. An item whose `may_send(id)` is false (its lease is gone) is `lost`, never put on the wire.
4. Faults of the other side become outcomes here, at the boundary: `retry` (transient: 4xx, a
   timeout, a dropped connection), `dead` (5xx), `deferred` (the far side could not be reached:
   never tried, no attempt used), `sent` (with a note of the recipients refused, if any).
   A reply's code decides the verdict by one rule, `verdict`, for every transport.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from notifications.outbox import Outcome

Record = Callable[[list[Outcome]], None]  # commit these outcomes (may block; may raise)
Stop = Callable[[], bool]  # has the dispatcher been told to stop?
MaySend = Callable[[int], bool]  # is this row still ours to put on the wire? (storage.leases)


@dataclass(frozen=True)
class Outgoing:
    """One message ready for the wire, identical for every copy of a claim."""

    id: int  # the outbox row
    name: str  # file name in the maildir: stable per row
    sender: str
    recipients: tuple[str, ...]
    data: bytes  # the flattened message (CRLF)
    note: str | None = None  # recipients left out before sending (kept with the outcome)


def never() -> bool:
    return False


def always(_row_id: int) -> bool:
    return True


class Transport(Protocol):
    """Delivers a batch; see the module docstring for the promises every implementation keeps."""

    def deliver(self, items: Sequence[Outgoing], record: Record, stop: Stop = never,
                may_send: MaySend = always) -> None: ...

    def where(self, item: Outgoing) -> str:
        """Where `item` went, for a person: a server, a file."""
        ...


def verdict(code: int) -> str:
    """The outcome of a message the other side answered with `code` instead of accepting it:
    `dead` for a permanent (5xx) refusal, `retry` for anything else."""
    return "dead" if code >= 500 else "retry"


def reply_text(code: int, message: str) -> str:
    """A server's reply on one line, as kept in `last_error`."""
    return f"{code} {' '.join(message.split())}"


def refusal_notes(refused: Sequence[tuple[str, int, str]]) -> str | None:
    """The note kept with a `sent` outcome for the recipients the server refused."""
    return "; ".join(f"refused {addr}: {reply_text(code, text)}"
                     for addr, code, text in refused) or None


def noted(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None
