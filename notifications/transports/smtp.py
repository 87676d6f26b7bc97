"""SMTP delivery through aiosmtplib: several reused connections, outcomes recorded in groups.

`concurrency` senders work through one batch from a shared queue, each on one connection reused
for every message it sends (aiosmtplib serialises one client, so concurrency needs several);
their outcomes go through one `GroupCommit`. TLS is explicit — `starttls` or implicit `tls`,
never the opportunistic default that a stripped EHLO would silently downgrade — and login
happens at connect. Each send is bounded by `asyncio.timeout` (aiosmtplib's own timeout bounds
one socket operation, not a send).

Errors are converted here, at the boundary, into outcomes. A server that cannot be reached
(refused, unreachable, TLS or login failure at connect) `defers` the message: it was never
tried. Timeouts, disconnects and 4xx replies to a message are `retry` (an attempt); 5xx replies
and every recipient refused with 5xx are `dead`, with the server's reply. A refused login is
logged (a configuration fault, not the message's). A sender that cannot connect stops: the rest
of the batch is deferred to a later pass instead of hammering a server that is down. Secrets
never appear in an outcome or log.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
from collections.abc import Coroutine, Iterator, Sequence
from typing import Any

import aiosmtplib

from notifications.config import SmtpConfig
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
from notifications.transports.groupcommit import GroupCommit

log = logging.getLogger("nckh.mail")
# Group commit, per SMTP connection: outcomes in one recorded group, and outcomes waiting
# unrecorded before the senders pause (see GroupCommit).
GROUP_PER_CONNECTION = 2
UNRECORDED_PER_CONNECTION = 8
GROUP_WAIT_S = 0.02  # the longest an outcome waits for its group
QUIT_WHEN_STOPPING_S = 2.0  # a stopping daemon waits this long, at most, for a QUIT reply


def run_coroutine(coro: Coroutine[Any, Any, None]) -> None:
    """`asyncio.run`, or in a fresh thread when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {reply_text(r.code, r.message)}"
                         for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return reply_text(exc.code, exc.message)
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify(exc: BaseException) -> str:
    """`retry` or `dead` for a failed send."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "dead" if all(verdict(r.code) == "dead" for r in exc.recipients) else "retry"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "retry"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return verdict(exc.code)
    return "retry"


def make_client(cfg: SmtpConfig) -> aiosmtplib.SMTP:
    context = ssl.create_default_context(cafile=cfg.ca_file) if cfg.tls != "none" else None
    return aiosmtplib.SMTP(
        hostname=cfg.host, port=cfg.port, use_tls=cfg.tls == "tls",
        start_tls=cfg.tls == "starttls", tls_context=context, username=cfg.user,
        password=cfg.password, timeout=cfg.timeout_s,
    )


async def _close(client: aiosmtplib.SMTP, timeout_s: float) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            await client.quit()
    except Exception:
        client.close()


class SmtpTransport:
    """The SMTP server of `[smtp]`, through `deliver_smtp`."""

    def __init__(self, cfg: SmtpConfig) -> None:
        self.cfg = cfg

    def deliver(self, items: Sequence[Outgoing], record: Record, stop: Stop = never,
                may_send: MaySend = always) -> None:
        run_coroutine(deliver_smtp(items, self.cfg, record, stop, may_send))

    def where(self, item: Outgoing) -> str:
        return f"{self.cfg.host}:{self.cfg.port} (tls: {self.cfg.tls})"


async def deliver_smtp(items: Sequence[Outgoing], cfg: SmtpConfig, record: Record,
                       stop: Stop = never, may_send: MaySend = always) -> None:
    """Send a batch on `cfg.concurrency` connections; hand outcomes to `record` (in a thread) in
    groups as they become known (`GroupCommit`: at most `UNRECORDED_PER_CONNECTION` per
    connection wait unrecorded). Once `stop()` is true no connection takes another message:
    those left are `released`, untried. A message whose row `may_send` no longer grants (its
    lease lapsed) is `lost`, never sent. A server that cannot be reached defers the messages:
    they were never tried, so no attempt is used up."""
    queue: Iterator[Outgoing] = iter(items)
    left = len(items)
    commit = GroupCommit(record, group=GROUP_PER_CONNECTION * cfg.concurrency,
                         limit=UNRECORDED_PER_CONNECTION * cfg.concurrency, wait_s=GROUP_WAIT_S)
    unreachable: list[str] = []

    async def sender() -> None:
        nonlocal left
        client: aiosmtplib.SMTP | None = None
        try:
            while True:
                if not await commit.ready() or not left or stop():
                    return
                item = next(queue)
                left -= 1
                if not may_send(item.id):
                    commit.add(Outcome(item.id, "lost"))
                    continue
                if client is None:
                    try:
                        client = make_client(cfg)
                        async with asyncio.timeout(cfg.timeout_s):
                            await client.connect()
                    except Exception as exc:
                        client = None
                        reason = f"cannot connect to {cfg.host}:{cfg.port}: {describe(exc)}"
                        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                            log.error("SMTP login refused for user %s: %s", cfg.user,
                                      describe(exc))
                        unreachable.append(reason)
                        commit.add(Outcome(item.id, "deferred", reason))
                        return
                try:
                    async with asyncio.timeout(cfg.timeout_s):
                        refused, _ = await client.sendmail(
                            item.sender, list(item.recipients), item.data)
                except Exception as exc:
                    commit.add(Outcome(item.id, classify(exc), describe(exc)))
                    await _close(client, 2)
                    client = None
                    continue
                note = refusal_notes([(addr, r.code, r.message) for addr, r in refused.items()])
                commit.add(Outcome(item.id, "sent", noted(note, item.note)))
        finally:
            if client is not None:  # a stopping daemon does not wait long for a goodbye
                await _close(client, min(cfg.timeout_s, QUIT_WHEN_STOPPING_S) if stop()
                             else cfg.timeout_s)

    def leftovers() -> Iterator[Outcome]:
        """The messages no connection took: released when stopping, else deferred."""
        halted = stop()
        for item in queue:
            if halted:
                yield Outcome(item.id, "released")
            else:
                yield Outcome(item.id, "deferred", f"not attempted: {unreachable[0]}"
                              if unreachable else "not attempted")

    await commit.run((sender() for _ in range(min(cfg.concurrency, len(items)))), leftovers)
