"""Delivery: SMTP through aiosmtplib, or `.eml` files in a maildir when no server is configured.

SMTP: `concurrency` clients work through one batch from a shared queue, each on one connection
reused for every message it sends (aiosmtplib serialises one client, so concurrency needs
several). TLS is explicit — `starttls` or implicit `tls`, never the opportunistic default that a
stripped EHLO would silently downgrade — and login happens at connect. Each send is bounded by
`asyncio.timeout` (aiosmtplib's own timeout bounds one socket operation, not a send).

Errors are converted here, at the boundary, into outcomes. A server that cannot be reached
(refused, unreachable, TLS or login failure at connect) `defers` the message: it was never
tried. Timeouts, disconnects and 4xx replies to a message are `retry` (an attempt); 5xx replies
and every recipient refused with 5xx are `dead`, with the server's reply. A refused login is
logged (a configuration fault, not the message's). A worker that cannot connect stops: the rest
of the batch is deferred to a later pass instead of hammering a server that is down. Secrets
never appear in an outcome or log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib

from notifications.config import SmtpConfig
from notifications.outbox import Outcome
from storage.files import open_private, private_dir

log = logging.getLogger("nckh.mail")
# Group commit (see `deliver_smtp`), per SMTP connection: outcomes in one recorded group, and
# outcomes waiting unrecorded before the senders pause.
GROUP_PER_CONNECTION = 2
UNRECORDED_PER_CONNECTION = 8
GROUP_WAIT_S = 0.02  # the longest an outcome waits for its group
QUIT_WHEN_STOPPING_S = 2.0  # a stopping daemon waits this long, at most, for a QUIT reply


@dataclass(frozen=True)
class Outgoing:
    id: int
    name: str  # file name in the maildir: stable per row
    sender: str
    recipients: tuple[str, ...]
    data: bytes  # the flattened message (CRLF), identical for every copy of this claim
    note: str | None = None  # recipients left out before sending (kept with the outcome)


MaySend = Callable[[int], bool]  # is this row still ours to put on the wire? (storage.leases)


def _always(_row_id: int) -> bool:
    return True


def _noted(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {' '.join(r.message.split())}"
                         for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {' '.join(exc.message.split())}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify(exc: BaseException) -> str:
    """`retry` or `dead` for a failed send."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "dead" if all(r.code >= 500 for r in exc.recipients) else "retry"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "retry"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return "dead" if exc.code >= 500 else "retry"
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


async def deliver_smtp(items: Sequence[Outgoing], cfg: SmtpConfig,
                       record: Callable[[list[Outcome]], None],
                       stop: Callable[[], bool] = lambda: False,
                       may_send: MaySend = _always) -> None:
    """Send a batch; hand outcomes to `record` (run in a thread) in groups as they become known.

    Group commit: a group is recorded once the previous one is, and it holds
    `GROUP_PER_CONNECTION * concurrency` outcomes, or its oldest outcome has waited
    `GROUP_WAIT_S`, or the batch is over (fewer, larger transactions: each costs a thread hop and
    a commit). The senders pause while `UNRECORDED_PER_CONNECTION * concurrency` outcomes wait, so
    a crash re-sends at most that many, plus the group being recorded and the messages on the
    wire, whatever the batch size. If recording fails, sending stops. Once `stop()` is true no
    connection takes another message: those left are `released`, untried. A message whose row
    `may_send` no longer grants (its lease lapsed) is `lost`, never sent. A server that cannot be
    reached defers the messages: they were never tried, so no attempt is used up.
    """
    queue: asyncio.Queue[Outgoing] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    group = GROUP_PER_CONNECTION * cfg.concurrency
    limit = UNRECORDED_PER_CONNECTION * cfg.concurrency
    pending: list[Outcome] = []
    wake = asyncio.Event()
    room = asyncio.Event()
    room.set()
    finished = stopped = False
    unreachable: list[str] = []
    loop = asyncio.get_running_loop()
    oldest = 0.0

    def emit(outcome: Outcome) -> None:
        nonlocal oldest
        if not pending:
            oldest = loop.time()
        pending.append(outcome)
        if len(pending) in (1, group):  # start the group's clock; or it is full
            wake.set()
        if len(pending) >= limit and not stopped:  # a stopped recorder would never make room
            room.clear()

    async def recorder() -> None:
        nonlocal stopped
        try:
            while True:
                waited = loop.time() - oldest
                if pending and (finished or len(pending) >= group or waited >= GROUP_WAIT_S):
                    chunk = pending[:]
                    pending.clear()
                    room.set()
                    await asyncio.to_thread(record, chunk)
                elif finished:
                    return
                else:
                    wake.clear()
                    try:
                        async with asyncio.timeout(GROUP_WAIT_S - waited if pending else None):
                            await wake.wait()
                    except TimeoutError:
                        pass
        finally:
            stopped = True
            room.set()

    async def worker() -> None:
        client: aiosmtplib.SMTP | None = None
        try:
            while True:
                if not room.is_set():
                    await room.wait()
                if stopped or queue.empty() or stop():
                    return
                item = queue.get_nowait()
                if not may_send(item.id):
                    emit(Outcome(item.id, "lost"))
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
                        emit(Outcome(item.id, "deferred", reason))
                        return
                try:
                    async with asyncio.timeout(cfg.timeout_s):
                        refused, _ = await client.sendmail(
                            item.sender, list(item.recipients), item.data)
                except Exception as exc:
                    emit(Outcome(item.id, classify(exc), describe(exc)))
                    await _close(client, 2)
                    client = None
                    continue
                note = "; ".join(f"refused {addr}: {r.code} {' '.join(r.message.split())}"
                                 for addr, r in refused.items()) or None
                emit(Outcome(item.id, "sent", _noted(note, item.note)))
        finally:
            if client is not None:  # a stopping daemon does not wait long for a goodbye
                await _close(client, min(cfg.timeout_s, QUIT_WHEN_STOPPING_S) if stop()
                             else cfg.timeout_s)

    rec = asyncio.create_task(recorder())
    try:
        # A worker's own fault ends that worker only: the others finish the batch and their
        # outcomes are recorded before the fault is raised (gather would otherwise leave them
        # sending, unrecorded, until the loop closed).
        ended = await asyncio.gather(*(worker() for _ in range(min(cfg.concurrency, len(items)))),
                                     return_exceptions=True)
        halted = stop()
        while not queue.empty():
            item = queue.get_nowait()
            if halted:
                emit(Outcome(item.id, "released"))
            else:
                emit(Outcome(item.id, "deferred", f"not attempted: {unreachable[0]}"
                             if unreachable else "not attempted"))
    finally:
        finished = True
        wake.set()
        await rec
    for result in ended:
        if isinstance(result, BaseException):
            raise result


# A maildir/tmp file older than this is abandoned (a write takes milliseconds); the maildir
# convention's 36 hours is for directories other programs also write into, which ours is not.
MAILDIR_TMP_MAX_AGE_S = 3600.0


def deliver_maildir(items: Sequence[Outgoing], maildir: Path,
                    record: Callable[[list[Outcome]], None], chunk: int = 100,
                    stop: Callable[[], bool] = lambda: False,
                    may_send: MaySend = _always) -> None:
    """Write each message as `new/<name>.eml` (tmp, then rename: readers never see half a file).

    The name is stable per outbox row, so delivering a row twice rewrites the same file. Files
    are 0600 and the directories 0700 whatever the umask (the messages name people and tasks). A
    write that fails (a full disk) removes its `tmp` file: no partial copy is left behind, and
    the row is deferred (the disk's fault uses up no attempt).
    """
    for sub in ("tmp", "new", "cur"):
        private_dir(maildir / sub)
    done: list[Outcome] = []
    for n, item in enumerate(items):
        if stop():
            done.extend(Outcome(rest.id, "released") for rest in items[n:])
            break
        if not may_send(item.id):
            done.append(Outcome(item.id, "lost"))
            continue
        tmp = maildir / "tmp" / f"{item.name}.eml"
        try:
            with os.fdopen(open_private(tmp), "wb") as fh:
                fh.write(item.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, maildir / "new" / f"{item.name}.eml")
            done.append(Outcome(item.id, "sent", item.note))
        except OSError as exc:  # the disk, not the message: no attempt used up
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            done.append(Outcome(item.id, "deferred", f"maildir {maildir}: {describe(exc)}"))
        if len(done) >= chunk:
            record(done)
            done = []
    if done:
        record(done)


def clean_maildir_tmp(maildir: Path, *, older_than_s: float = MAILDIR_TMP_MAX_AGE_S,
                      now_s: float | None = None) -> int:
    """Remove files left in `maildir/tmp` by a write that never finished (a crash, a full disk
    before this release); return how many. Only files older than `older_than_s`: a write in
    progress elsewhere (a `nckh tick` beside the daemon, several daemons sharing the data
    directory) takes milliseconds and is never touched. `now_s` is the wall clock (file times
    are wall-clock times, not the business clock)."""
    tmp = maildir / "tmp"
    if not tmp.is_dir():
        return 0
    now_s = time.time() if now_s is None else now_s
    removed = 0
    for entry in tmp.iterdir():
        try:
            if entry.is_file() and now_s - entry.stat().st_mtime > older_than_s:
                entry.unlink()
                removed += 1
        except OSError as exc:  # not ours to remove, or gone meanwhile: leave it, say so
            log.warning("cannot remove %s: %s", entry, describe(exc))
    if removed:
        log.info("removed %d abandoned file(s) from %s", removed, tmp)
    return removed
