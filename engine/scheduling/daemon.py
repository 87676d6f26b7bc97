"""The daemon: APScheduler 3 as the ticker, the database as the record, a heartbeat for status.

APScheduler only decides *when* to look: an interval job runs one pass (`App.tick`, exactly what
`nckh tick` runs) every few seconds, and a cron job runs one at the send hour so calendar jobs
start on the minute. No job store, nothing due is kept in memory: a pass asks the database.
Jobs use coalesce=True, max_instances=1 and misfire_grace_time=None (a late pass still runs,
once), the business time zone, and next_run_time=now for a catch-up pass at start.

Stopping: SIGTERM/SIGINT set a flag; the sweep finishes the timers in hand and hands back the rest
of its claim, the outbox finishes the messages on the wire and releases the rest of its batch
(pending, due at once), the scheduler waits for the pass, the heartbeat is marked stopped, exit 0.

Logs: every record, whichever library's logger made it, and Python's warnings are JSON lines on
stderr (`setup_logging`).

SQLite is one writer at a time: a second daemon on the same SQLite database refuses to start
while the first one's heartbeat is fresh (and, on the same host, its process is alive).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from select import select as wait_readable
from types import FrameType
from typing import Any, TextIO

from engine.app import App
from storage import daemons as heartbeats
from storage.leases import holder_id
from storage.timers import DaemonHeartbeat
from workflows.clock import Clock
from workflows.errors import Refused

log = logging.getLogger("nckh.daemon")


class JsonFormatter(logging.Formatter):
    """One JSON object per line on stderr: journald keeps it, `jq` reads it."""

    def format(self, record: logging.LogRecord) -> str:
        ts = dt.datetime.fromtimestamp(record.created, dt.UTC)
        data: dict[str, Any] = {
            "ts": ts.isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        data.update(getattr(record, "fields", {}))
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class ExpectedSkips(logging.Filter):
    """APScheduler warns 'Execution of job … skipped: maximum number of running instances
    reached' whenever a sweep comes due while the previous pass still runs. That is the design,
    not a fault: max_instances=1 keeps one pass at a time, and the running pass sees everything
    due. Under load it was 96% of the log, so it is demoted to debug (shown at --log-level
    debug only)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (record.name.startswith("apscheduler.")
                and "maximum number of running instances reached" in str(record.msg)):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger("apscheduler").isEnabledFor(logging.DEBUG)
        return True


def setup_logging(level: str, stream: TextIO | None = None) -> None:
    """Every logger's records, and Python's warnings, as JSON lines on stderr (or `stream`).

    The handler sits on the root logger: APScheduler, SQLAlchemy, asyncio and the warnings module
    log through their own loggers, which used to reach stderr as plain text. `level` is nckh's
    own; APScheduler's chatter ("Running job …" twice a pass) shows at debug only, and other
    libraries at warning and above. An exception that ends a thread is logged, not printed as
    a bare traceback."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ExpectedSkips())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    # Replace a handler we installed before (tests call this twice); keep anybody else's.
    root.handlers[:] = [h for h in root.handlers if not getattr(h, _OURS, False)] + [handler]
    # Other libraries speak at warning and above: at debug SQLAlchemy would log every statement
    # with its parameters, and aiosmtplib the SMTP conversation (its AUTH line included).
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("nckh")
    ours.handlers[:] = []
    ours.setLevel(level.upper())
    ours.propagate = True
    logging.getLogger("apscheduler").setLevel(
        logging.DEBUG if level.lower() == "debug" else logging.WARNING)
    logging.captureWarnings(True)
    threading.excepthook = _log_thread_death


_OURS = "_nckh_json"


def _log_thread_death(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    log.error("thread died", exc_info=exc_info,
              extra={"fields": {"thread": args.thread.name if args.thread else None}})


class AnotherDaemon(Refused):
    pass


def _alive_locally(row: DaemonHeartbeat) -> bool:
    if row.host != socket.gethostname():
        return True  # cannot tell: trust the heartbeat's age
    try:
        os.kill(row.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Daemon:
    app: App
    clock: Clock
    interval_s: float
    worker: str = field(default_factory=holder_id)
    _signal: int | None = None  # written by the signal handler only
    _pass_lock: threading.Lock = field(default_factory=threading.Lock)


    def register(self) -> None:
        """Write our heartbeat row; on SQLite, refuse if another daemon is alive."""
        now = self.clock.now()
        stale = dt.timedelta(seconds=self.app.config.scheduler.heartbeat_stale_s)
        with self.app.engine.transaction() as s:
            if heartbeats.is_sqlite(s):
                for row in heartbeats.live_heartbeats(s):
                    if row.beat_at > now - stale and _alive_locally(row):
                        raise AnotherDaemon(
                            f"another nckh daemon ({row.id}, last heartbeat "
                            f"{row.beat_at.isoformat(timespec='seconds')}) is running on this "
                            "SQLite database; SQLite allows one daemon: stop it first, or use "
                            "PostgreSQL for several")
                    row.stopped_at = now  # dead: its claims expire with their leases
            heartbeats.add_heartbeat(s, worker=self.worker, host=socket.gethostname(),
                                     pid=os.getpid(), at=now)

    def beat(self, fired: int = 0, passes: int = 0, stopped: bool = False) -> None:
        now = self.clock.now()
        with self.app.engine.transaction() as s:
            heartbeats.beat(s, self.worker, at=now, fired=fired, passes=passes, stopped=stopped)

    def one_pass(self) -> Mapping[str, Mapping[str, int]] | None:
        if not self._pass_lock.acquire(blocking=False):
            return None  # a pass is running; it will see everything due
        try:
            if self.stopping():
                return None
            now = self.clock.now()
            counts = self.app.tick(now, self.stopping)
            fired = int(counts.get("timers", {}).get("fired", 0))
            self.beat(fired=fired, passes=1)
            if any(v for c in counts.values() for v in c.values()):
                log.info("pass", extra={"fields": {"worker": self.worker, "at": now.isoformat(),
                                                   **{k: dict(v) for k, v in counts.items()}}})
            return counts
        except Exception:
            log.exception("pass failed", extra={"fields": {"worker": self.worker}})
            return None
        finally:
            self._pass_lock.release()

    def heartbeat_job(self) -> None:
        try:
            self.beat()
        except Exception:
            log.exception("heartbeat failed", extra={"fields": {"worker": self.worker}})

    def _wait_for_signal(self) -> None:
        """Sleep until a stop signal has been handled. The self-pipe: Python writes a byte for
        each signal to the wakeup socket before the handler runs, so a signal that comes before
        `select` still wakes it, and no lock is shared with the handler."""
        wake, notify = socket.socketpair()
        wake.setblocking(False)
        notify.setblocking(False)
        previous = signal.set_wakeup_fd(notify.fileno())
        try:
            while not self.stopping():
                wait_readable([wake], [], [], 1.0)
                with contextlib.suppress(BlockingIOError):
                    wake.recv(64)
        finally:
            signal.set_wakeup_fd(previous)
            wake.close()
            notify.close()

    def stopping(self) -> bool:
        return self._signal is not None

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        # A plain store and nothing else: the handler runs between two bytecodes of the main
        # thread, which may hold a lock just then (threading.Event.wait holds its own), so
        # setting an Event or logging here could wait forever on our own thread.
        self._signal = signum

    def run(self) -> int:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        tz = self.app.engine.tz
        if "outbox" in self.app.jobs:
            self.app.dispatcher.check()  # a broken template stops the daemon now, not later
        self.app.set_worker(self.worker)
        self.register()
        self.app.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.request_stop)
        send_at = self.app.config.scheduler.send_at
        sched = BackgroundScheduler(timezone=tz, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        sched.add_job(self.one_pass, IntervalTrigger(seconds=self.interval_s, timezone=tz),
                      id="sweep", next_run_time=dt.datetime.now(tz))
        sched.add_job(self.one_pass, CronTrigger(hour=send_at.hour, minute=send_at.minute,
                                                 timezone=tz), id="send_hour")
        sched.add_job(self.heartbeat_job, IntervalTrigger(
            seconds=max(1.0, min(self.interval_s, 10.0)), timezone=tz), id="heartbeat")
        log.info("started", extra={"fields": {
            "worker": self.worker, "interval_s": self.interval_s,
            "database": self.app.db.dialect.name, "now": self.clock.now().isoformat()}})
        sched.start()
        try:
            self._wait_for_signal()
            log.info("stopping", extra={"fields": {"worker": self.worker,
                                                   "signal": self._signal}})
        finally:
            sched.shutdown(wait=True)
            self.beat(stopped=True)
            log.info("stopped", extra={"fields": {"worker": self.worker}})
        return 0
