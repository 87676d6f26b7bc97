"""The daemon as real processes: several on one PostgreSQL database, SIGKILL, SIGTERM, restart.

These tests wait on other processes, so they poll the database until a condition holds (with a
generous limit); they never sleep a fixed time expecting the scheduler to have acted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.app import App
from notifications.outbox import enqueue
from storage.outbox import OutboxMessage
from storage.timers import DaemonHeartbeat, Timer
from tests.conftest import _empty_pg, local, make_settings
from tests.integration import children, mailserver
from tests.integration.mailfixtures import MAIL_ENV
from tests.scheduling import build_scheduling_app, seed_timers, small_province

pytestmark = pytest.mark.slow
NCKH = str(Path(sys.executable).parent / "nckh")
NOW = "2025-04-15T09:00"
CONFIG = """
[scheduler]
obligations = []
reports = {}
quota_check = "off"
lease_s = 3
batch = 300
heartbeat_stale_s = 30
"""


def wait_until(condition: Callable[[], bool], what: str, limit_s: float = 240) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


class Daemons:
    def __init__(self, url: str, tmp: Path, mail: str = "", **env: str) -> None:
        self.tmp = tmp
        (tmp / "nckh.toml").write_text(CONFIG + (f"\n[mail]\n{mail}\n" if mail else ""))
        self.env = {**os.environ, "NCKH_DATABASE_URL": url, "NCKH_DATA_DIR": str(tmp),
                    "NCKH_CONFIG": str(tmp / "nckh.toml"), "NCKH_NOW": NOW, **env}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = self.tmp / f"daemon{len(self.procs)}.log"
        with log.open("wb") as err:
            proc = children.popen([NCKH, "daemon", "--interval", "0.2", "--log-level", "debug"],
                                  env=self.env, stdout=subprocess.DEVNULL, stderr=err)
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def fired_ids(self) -> Counter[int]:
        """Timer ids each daemon logged as fired (after its commit), across all daemons."""
        seen: Counter[int] = Counter()
        for log in self.logs:
            for line in log.read_text(errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by SIGKILL
                if entry.get("msg") == "timer fired":
                    seen[int(entry["timer_id"])] += 1
        return seen

    def stop_all(self) -> list[int]:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        return [proc.wait(timeout=60) for proc in self.procs]

    def kill_all(self) -> None:
        for proc in self.procs:
            children.kill(proc)


@pytest.fixture
def spawn() -> Iterator[Callable[..., Daemons]]:
    """Makes `Daemons`; whatever a failed test left running is killed, not left to hold the
    database or the SMTP server."""
    made: list[Daemons] = []

    def make(url: str, tmp: Path, mail: str = "", **env: str) -> Daemons:
        made.append(Daemons(url, tmp, mail, **env))
        return made[-1]

    yield make
    for daemons in made:
        daemons.kill_all()


@pytest.fixture
def pg_app(pg_url: str, tmp_path: Path) -> Iterator[App]:
    _empty_pg(pg_url)
    app = build_scheduling_app(make_settings(pg_url, tmp_path))
    small_province(app, local(2025, 1, 2))
    yield app
    app.close()


def count(app: App, *where: object) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Timer).where(*where)) or 0)


def heartbeat_of(app: App, proc: subprocess.Popen[bytes]) -> str | None:
    with app.sessions() as s:
        return s.scalar(select(DaemonHeartbeat.id).where(DaemonHeartbeat.pid == proc.pid))


@pytest.mark.postgres
def test_three_daemons_fire_10000_timers_exactly_once_even_when_one_is_killed(
        pg_app: App, pg_url: str, tmp_path: Path, spawn: Callable[..., Daemons]) -> None:
    seed_timers(pg_app, 10_000, local(2025, 4, 15, 8), local(2025, 1, 2), per_task=50)
    daemons = spawn(pg_url, tmp_path)
    victim = daemons.start()
    for _ in range(2):
        daemons.start()
    wait_until(lambda: heartbeat_of(pg_app, victim) is not None, "the victim's heartbeat")
    victim_id = heartbeat_of(pg_app, victim)
    # Killed mid-work, not before it began: the victim started last, on a busy machine.
    wait_until(lambda: count(pg_app, Timer.fired_by == victim_id) >= 100
               and count(pg_app, Timer.status == "fired") >= 1500, "the first firings")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    with pg_app.sessions() as s:
        orphaned = set(s.scalars(select(Timer.id).where(Timer.claimed_by == victim_id,
                                                        Timer.done_at.is_(None))))
    wait_until(lambda: count(pg_app, Timer.done_at.is_(None)) == 0, "every timer to fire")
    exits = daemons.stop_all()

    assert exits[1:] == [0, 0] and exits[0] == -signal.SIGKILL
    assert count(pg_app, Timer.status == "fired") == 10_000 + 0  # no more, no fewer
    logged = daemons.fired_ids()
    assert [tid for tid, n in logged.items() if n > 1] == []  # never twice
    with pg_app.sessions() as s:
        by = Counter(s.scalars(select(Timer.fired_by)))
        taken_over = set(s.scalars(select(Timer.id).where(
            Timer.id.in_(orphaned), Timer.fired_by != victim_id)))
    assert len(by) == 3 and victim_id in by  # all three worked, the victim before it died
    assert taken_over == orphaned  # what the victim had claimed, the others finished
    assert sum(logged.values()) >= 10_000 - by[victim_id]


SIGTERM_TIMERS = 12_000


def test_sigterm_exits_0_and_a_restart_continues_where_it_stopped(
        sqlite_url: str, tmp_path: Path, spawn: Callable[..., Daemons]) -> None:
    app = build_scheduling_app(make_settings(sqlite_url, tmp_path))
    small_province(app, local(2025, 1, 2))
    # Enough that the first daemon is still busy when SIGTERM comes: it fires thousands a second,
    # so the signal goes at its first committed firings (waiting for 200 of 6,000 let a fast
    # daemon finish them all before the signal, once in CI).
    seed_timers(app, SIGTERM_TIMERS, local(2025, 4, 15, 8), local(2025, 1, 2), per_task=500)
    daemons = spawn(sqlite_url, tmp_path)
    first = daemons.start()
    wait_until(lambda: count(app, Timer.status == "fired") >= 1, "the first firings")
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    left = count(app, Timer.done_at.is_(None))
    assert left > 0, "the daemon finished before SIGTERM: seed more timers"
    assert count(app, Timer.claimed_by.is_not(None), Timer.done_at.is_(None)) == 0  # handed back
    daemons.start()
    wait_until(lambda: count(app, Timer.done_at.is_(None)) == 0, "the rest to fire")
    assert daemons.stop_all() == [0, 0]
    assert count(app, Timer.status == "fired") == SIGTERM_TIMERS
    assert [tid for tid, n in daemons.fired_ids().items() if n > 1] == []
    with app.sessions() as s:
        beats = s.scalars(select(DaemonHeartbeat).order_by(DaemonHeartbeat.started_at)).all()
    assert [b.stopped_at is not None for b in beats] == [True, True]
    app.close()


def test_a_second_daemon_on_sqlite_refuses_to_start_with_a_clear_message(
        sqlite_url: str, tmp_path: Path, spawn: Callable[..., Daemons]) -> None:
    daemons = spawn(sqlite_url, tmp_path)
    daemons.start()
    app = build_scheduling_app(make_settings(sqlite_url, tmp_path))

    def beats() -> int:
        with app.sessions() as s:  # a fresh transaction each time: SQLite locks while it lasts
            return int(s.scalar(select(func.count()).select_from(DaemonHeartbeat)) or 0)

    wait_until(lambda: beats() == 1, "the first daemon's heartbeat")
    app.close()
    second = subprocess.run([NCKH, "daemon", "--interval", "0.2"], env=daemons.env,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 3
    last = second.stderr.strip().splitlines()[-1]
    assert last.startswith("nckh: another nckh daemon (")
    assert "SQLite allows one daemon: stop it first, or use PostgreSQL for several" in last
    # The first daemon still answers commands (the second left its socket alone), as a command
    # run on its own would answer, and removes the socket when it stops.
    sock = tmp_path / "nckh.sock"
    assert sock.exists()
    answered = subprocess.run([NCKH, "person", "list", "--json"], env=daemons.env,
                              capture_output=True, text=True, timeout=60)
    alone = subprocess.run([NCKH, "person", "list", "--json"],
                           env={**daemons.env, "NCKH_LOCAL": "1"}, capture_output=True,
                           text=True, timeout=60)
    assert (answered.returncode, answered.stdout, answered.stderr) == (0, alone.stdout, "")
    commands = [json.loads(line) for line in daemons.logs[0].read_text().splitlines()
                if '"nckh.commands"' in line]
    assert [(c["msg"], c["command"], c["exit"]) for c in commands
            if c["msg"] == "command"] == [("command", "person list --json", 0)]
    assert daemons.stop_all() == [0]
    assert not sock.exists()


def test_sigterm_while_the_outbox_drains_finishes_the_messages_on_the_wire_and_exits(
        sqlite_url: str, tmp_path: Path, spawn: Callable[..., Daemons]) -> None:
    """A long outbox must not hold a stopping daemon: it finishes the messages on the wire,
    leaves the rest pending and unclaimed, and a restart sends each remaining message once."""
    n, target, connections = 400, 110, 4  # the target falls inside the sixth batch of 20
    gate = threading.Event()  # past the target, DATA waits until the daemon says "stopping"
    box = mailserver.Inbox(target=target, hold=gate)
    controller = mailserver.start(box)
    try:
        app = build_scheduling_app(make_settings(sqlite_url, tmp_path))
        with app.engine.transaction() as s:
            for i in range(n):
                enqueue(s.connection(), kind="test", to=[f"user{i}@example.vn"],
                        now=local(2025, 4, 1), dedupe_key=f"drain:{i}")
        daemons = spawn(sqlite_url, tmp_path,
                        mail=f'digest_weekday = "off"\nbatch_size = 20\n'
                             f'concurrency = {connections}',
                        NCKH_SMTP_HOST="127.0.0.1", NCKH_SMTP_PORT=str(controller.port),
                        **MAIL_ENV)
        first = daemons.start()
        assert box.reached.wait(timeout=120), "the daemon never got going"
        first.send_signal(signal.SIGTERM)
        wait_until(lambda: '"stopping"' in daemons.logs[0].read_text(), "the stop request")
        gate.set()
        assert first.wait(timeout=60) == 0
        # Only the messages already on the wire (one per connection) went out after the target.
        assert target <= len(box.received) <= target + connections
        with app.sessions() as s:
            states = Counter(s.scalars(select(OutboxMessage.state)))
        assert states["pending"] > 0, "the daemon drained the outbox before stopping"
        assert states["sending"] == 0  # the untried rest of its batch was released
        assert states["sent"] == len(box.received)
        daemons.start()
        wait_until(lambda: len(box.received) == n, "the rest to be sent")
        assert daemons.stop_all() == [0, 0]
        assert sorted(Counter(box.message_ids()).values()) == [1] * n  # each exactly once
        app.close()
    finally:
        gate.set()  # a failed assertion must not leave the server's DATA waiting
        controller.stop()
