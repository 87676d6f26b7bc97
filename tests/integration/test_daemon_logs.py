"""In daemon mode every line on stderr is one JSON object, whichever library logged it.

A real daemon runs briefly (stopped with SIGTERM, as systemd does) at debug level, where
APScheduler speaks on every pass; the same run shows the start-up cleaning of maildir/tmp and
that the database's -wal and -shm are private under a umask of 000. In-process, a real
BackgroundScheduler whose job is still running when it comes due again shows that the
expected "maximum number of running instances" warning is demoted to debug.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import stat
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.scheduling.daemon import setup_logging
from tests.acceptance.cli import NCKH, cli_env
from tests.integration import children

pytestmark = pytest.mark.slow


def wait_until(condition: Callable[[], bool], what: str, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def parsed(text: str) -> list[dict[str, object]]:
    """Every line as a JSON object; fails naming the first line that is not one."""
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
        assert isinstance(value, dict), line
        assert {"ts", "level", "logger", "msg"} <= value.keys(), line
        lines.append(value)
    return lines


def test_a_daemon_writes_only_json_lines_and_cleans_its_maildir_tmp_at_start(
        tmp_path: Path) -> None:
    env = cli_env(tmp_path, "2025-04-15T09:00")
    assert subprocess.run([NCKH, "init"], env=env, capture_output=True, timeout=120
                          ).returncode == 0
    tmp = tmp_path / "maildir" / "tmp"
    tmp.mkdir(parents=True)
    abandoned, fresh = tmp / "nckh-1.eml", tmp / "nckh-2.eml"
    for path in (abandoned, fresh):
        path.write_bytes(b"Subject: half")
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))

    log = tmp_path / "daemon.log"
    with log.open("wb") as err:
        proc = children.popen([NCKH, "daemon", "--interval", "0.05", "--log-level", "debug"],
                              env=env, stdout=subprocess.DEVNULL, stderr=err,
                              preexec_fn=lambda: os.umask(0))
    try:
        wait_until(lambda: log.read_text().count("Running job") >= 5, "five passes")
        db = tmp_path / "nckh.db"
        for side in (Path(f"{db}-wal"), Path(f"{db}-shm"), tmp_path / "nckh.sock"):
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, side
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        children.kill(proc)

    lines = parsed(log.read_text())
    loggers = {str(line["logger"]) for line in lines}
    assert {"nckh.daemon", "nckh.mail"} <= loggers
    assert any(name.startswith("apscheduler.") for name in loggers)
    messages = [line["msg"] for line in lines if line["logger"] == "nckh.daemon"]
    assert messages[0] == "started" and messages[-1] == "stopped"
    assert not abandoned.exists() and fresh.exists()


@pytest.fixture
def logging_restored() -> Iterator[io.StringIO]:
    root, ours, aps = logging.getLogger(), logging.getLogger("nckh"), logging.getLogger(
        "apscheduler")
    saved = (list(root.handlers), root.level, list(ours.handlers), ours.level, ours.propagate,
             aps.level, threading.excepthook)
    yield io.StringIO()
    logging.captureWarnings(False)
    root.handlers[:], ours.handlers[:], ours.propagate = saved[0], saved[2], saved[4]
    root.setLevel(saved[1])
    ours.setLevel(saved[3])
    aps.setLevel(saved[5])
    threading.excepthook = saved[6]


def skip_a_run(stream: io.StringIO, level: str) -> list[dict[str, object]]:
    """Run a real scheduler whose one job is still running when it comes due again."""
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    setup_logging(level, stream)
    release, skipped = threading.Event(), threading.Event()
    sched = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                              "misfire_grace_time": None})
    sched.add_listener(lambda _event: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    sched.add_job(release.wait, IntervalTrigger(seconds=0.05), id="sweep")
    sched.start()
    try:
        assert skipped.wait(60), "the scheduler never skipped a run"
    finally:
        release.set()
        sched.shutdown(wait=True)
    return parsed(stream.getvalue())


def test_the_expected_max_instances_warning_is_debug_and_warnings_and_thread_deaths_are_json(
        logging_restored: io.StringIO) -> None:
    lines = skip_a_run(logging_restored, "info")
    assert not [line for line in lines if "maximum number of running instances" in
                str(line["msg"])]

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a library's deprecation", UserWarning, stacklevel=1)
    thread = threading.Thread(target=lambda: 1 / 0, name="sender-1")
    thread.start()
    thread.join()
    lines = parsed(logging_restored.getvalue())
    [warned] = [line for line in lines if line["logger"] == "py.warnings"]
    assert warned["level"] == "warning" and "a library's deprecation" in str(warned["msg"])
    [died] = [line for line in lines if line["msg"] == "thread died"]
    assert died["level"] == "error" and "ZeroDivisionError" in str(died["error"])
    assert died["thread"] == "sender-1"


def test_at_debug_level_the_skipped_runs_show_as_debug_json(
        logging_restored: io.StringIO) -> None:
    lines = skip_a_run(logging_restored, "debug")
    skips = [line for line in lines if "maximum number of running instances" in str(line["msg"])]
    assert skips and {line["level"] for line in skips} == {"debug"}
