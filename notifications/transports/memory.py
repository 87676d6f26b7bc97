"""An in-memory transport: a scripted mail server in the process, for tests of the dispatcher.

Like httpx's `MockTransport` or procrastinate's in-memory connector, it is shipped beside the
real transports and keeps their promises (`transports.base`): each message is answered in turn
— accepted, refused with a 4xx or 5xx reply, some recipients refused, the connection dropped, the
server unreachable, or answered slowly — and the outcome follows from the answer by the same
rules as SMTP's (`base.verdict`, the same notes). What was offered and what was accepted is kept
(`attempts`, `delivered`) for the test to read.

    transport = MemoryTransport()
    transport.script(reply("421 4.3.2 try later"), accept(refused={"b@x.vn": "550 no"}))
    transport.answer = lambda item: drop() if "c@x.vn" in item.recipients else accept()
    transport.down = "connection refused"  # every message deferred until set back to None

A slow answer passes its time through `sleep` (inject a test clock's advance: nothing sleeps).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from notifications.outbox import Outcome
from notifications.transports.base import (
    MaySend,
    Outgoing,
    Record,
    Stop,
    always,
    never,
    noted,
    refusal_notes,
    reply_text,
    verdict,
)


@dataclass(frozen=True)
class Answer:
    """How the server answers one message (build with the functions below)."""

    reply: tuple[int, str] | None = None  # None: accepted (250)
    refused: Mapping[str, tuple[int, str]] = field(default_factory=dict)  # per recipient
    dropped: bool = False  # the connection is lost before the reply
    unreachable: str | None = None  # the server cannot be reached (from this message on)
    delay_s: float = 0.0  # the time the answer takes


def _reply(line: str) -> tuple[int, str]:
    code, _, text = line.partition(" ")
    if not (code.isdigit() and len(code) == 3):
        raise ValueError(f"an SMTP reply starts with a 3-digit code: {line!r}")
    return int(code), text


def accept(refused: Mapping[str, str] | None = None, delay_s: float = 0.0) -> Answer:
    """250 for the message; `refused` maps recipients to their own reply ("550 no such user")."""
    return Answer(refused={a: _reply(r) for a, r in (refused or {}).items()}, delay_s=delay_s)


def reply(line: str, delay_s: float = 0.0) -> Answer:
    """The message refused with `line` ("421 4.3.2 try later", "550 5.7.1 rejected")."""
    return Answer(reply=_reply(line), delay_s=delay_s)


def drop(delay_s: float = 0.0) -> Answer:
    """The connection lost before the reply: the server may or may not have the message."""
    return Answer(dropped=True, delay_s=delay_s)


def unreachable(reason: str = "connection refused") -> Answer:
    """The server cannot be reached from this message on (for the rest of the batch)."""
    return Answer(unreachable=reason)


def slow(delay_s: float, then: Answer | None = None) -> Answer:
    """`then` (accepted by default), after `delay_s`."""
    base = then or Answer()
    return Answer(base.reply, base.refused, base.dropped, base.unreachable, delay_s)


@dataclass(frozen=True)
class Delivered:
    item: Outgoing
    recipients: tuple[str, ...]  # those the server accepted


class MemoryTransport:
    """A scripted server: answers from `script()` first, then from `answer(item)` (accept by
    default); `down` set to a reason makes it unreachable. Outcomes are recorded every `group`
    messages and at the end."""

    def __init__(self, answer: Callable[[Outgoing], Answer] | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, group: int = 8) -> None:
        self.answer: Callable[[Outgoing], Answer] = answer or (lambda _item: Answer())
        self.sleep = sleep
        self.group = group
        self.down: str | None = None
        self.attempts: list[Outgoing] = []  # every message put on the (pretend) wire
        self.delivered: list[Delivered] = []  # every message the server accepted
        self._script: deque[Answer] = deque()

    def script(self, *answers: Answer) -> MemoryTransport:
        """Answer the next messages with these, in order (then `answer` again)."""
        self._script.extend(answers)
        return self

    def where(self, item: Outgoing) -> str:
        return "the in-memory transport"

    def deliver(self, items: Sequence[Outgoing], record: Record, stop: Stop = never,
                may_send: MaySend = always) -> None:
        done: list[Outcome] = []
        reason: str | None = None
        for n, item in enumerate(items):
            if stop():
                done.extend(Outcome(rest.id, "released") for rest in items[n:])
                break
            if reason is not None:
                done.append(Outcome(item.id, "deferred", f"not attempted: {reason}"))
            elif not may_send(item.id):
                done.append(Outcome(item.id, "lost"))
            else:
                outcome = self._answer(item)
                if outcome.state == "deferred":
                    reason = outcome.error
                done.append(outcome)
            if len(done) >= self.group:
                record(done)
                done = []
        if done:
            record(done)

    def _answer(self, item: Outgoing) -> Outcome:
        if self.down is not None:
            return Outcome(item.id, "deferred", f"cannot connect to memory: {self.down}")
        answer = self._script.popleft() if self._script else self.answer(item)
        if answer.unreachable is not None:
            return Outcome(item.id, "deferred", f"cannot connect to memory: {answer.unreachable}")
        self.attempts.append(item)
        if answer.delay_s:
            self.sleep(answer.delay_s)
        if answer.dropped:
            return Outcome(item.id, "retry", "connection lost before the reply")
        if answer.reply is not None:
            code, text = answer.reply
            return Outcome(item.id, verdict(code), reply_text(code, text))
        refused = [(a, *answer.refused[a]) for a in item.recipients if a in answer.refused]
        if refused and len(refused) == len(item.recipients):  # as SMTP: a failed send
            state = "dead" if all(verdict(code) == "dead" for _, code, _ in refused) else "retry"
            return Outcome(item.id, state, "; ".join(f"{a}: {reply_text(code, text)}"
                                                     for a, code, text in refused))
        self.delivered.append(Delivered(item, tuple(
            a for a in item.recipients if a not in answer.refused)))
        return Outcome(item.id, "sent", noted(refusal_notes(refused), item.note))
