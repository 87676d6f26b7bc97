"""How long a daemon takes to obey SIGTERM while a long outbox drains to a slow mail server.

    .venv/bin/python bench/stop.py [--quick] [--messages N] [--delay-ms D]

A real `nckh daemon` (SQLite, SMTP, 4 connections, batches of 200) sends N queued messages
(2,000 by default; 600 with --quick) to an aiosmtpd server that takes D ms (5 by default) to
answer each command (`bench/mail.py --serve-slow`). Once a tenth has been sent (and recorded)
the daemon gets SIGTERM. Measured in the same run:
  * stop_s: SIGTERM to exit;
  * drain_s: what draining the rest would have taken at the rate the daemon was sending (the
    baseline: a daemon that finishes its outbox before it exits);
  * batch_s: what finishing the batch in hand would have taken (the daemon before it stopped
    between messages): the rows it held `sending` at the signal, at the same rate.
Prints the figures and their ratios; the last line is JSON:
{"stop_s": …, "drain_s": …, "ratio_drain": …, "batch_s": …, "ratio_batch": …, …}.
The daemon must exit 0 with every message either sent or pending and unclaimed, or the bench
fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds scripts named like libraries (bench/transitions.py): take the script's directory
# off the path (it comes first) and put the repository root there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.scratch import free_port, wait_for_port  # noqa: E402
from engine.app import App, build  # noqa: E402
from engine.settings import load_settings  # noqa: E402
from notifications.outbox import enqueue  # noqa: E402
from storage.outbox import OutboxMessage  # noqa: E402
from workflows.clock import DEFAULT_TZ  # noqa: E402

NOW = "2025-04-15T09:00"  # the daemon's clock
QUEUED_AT = dt.datetime(2025, 4, 15, 8, 0, tzinfo=DEFAULT_TZ)
BATCH = 200
CONCURRENCY = 4
CONFIG = f"""
[scheduler]
obligations = []
reports = {{}}
quota_check = "off"

[mail]
digest_weekday = "off"
batch_size = {BATCH}
concurrency = {CONCURRENCY}
"""


def states(app: App) -> Counter[str]:
    with app.sessions() as s:
        return Counter(dict(s.execute(select(OutboxMessage.state, func.count())
                                      .group_by(OutboxMessage.state)).all()))


def run(n: int, delay_s: float) -> dict[str, float | int]:
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "mail.py"), "--serve-slow",
                               str(port), str(delay_s)])
    try:
        wait_for_port(server, port)
        with tempfile.TemporaryDirectory(prefix="nckh-bench-") as tmp:
            config = Path(tmp) / "nckh.toml"
            config.write_text(CONFIG, encoding="utf-8")
            env = {"NCKH_DATA_DIR": tmp, "NCKH_CONFIG": str(config), "NCKH_NOW": NOW,
                   "NCKH_SMTP_HOST": "127.0.0.1", "NCKH_SMTP_PORT": str(port),
                   "NCKH_MAIL_FROM": "nckh@syt.example.vn"}
            app = build(load_settings(env=env), jobs=("outbox",))
            with app.engine.transaction() as s:
                for i in range(n):
                    enqueue(s.connection(), kind="test", to=[f"user{i}@example.vn"], now=QUEUED_AT,
                            dedupe_key=f"stop:{i}")
            daemon = subprocess.Popen([str(Path(sys.executable).parent / "nckh"), "daemon",
                                       "--interval", "0.5"], env={**os.environ, **env},
                                      stdout=subprocess.DEVNULL,
                                      stderr=(Path(tmp) / "daemon.log").open("wb"))
            first: tuple[float, int] | None = None
            while True:  # a tenth sent, and at least 20 since the first seen, for the rate
                now = states(app)
                sent = now["sent"]
                if sent and first is None:
                    first = (time.perf_counter(), sent)
                if first is not None and sent >= max(n // 10, first[1] + 20):
                    break
                if daemon.poll() is not None:
                    raise SystemExit("the daemon exited early: "
                                     + (Path(tmp) / "daemon.log").read_text()[-2000:])
                time.sleep(0.02)
            assert first is not None
            rate = (sent - first[1]) / (time.perf_counter() - first[0])
            in_hand = now["sending"]  # claimed, not yet recorded: the batch being sent
            t0 = time.perf_counter()
            daemon.send_signal(signal.SIGTERM)
            try:
                code = daemon.wait(timeout=600)
            except subprocess.TimeoutExpired:
                daemon.kill()
                raise SystemExit("the daemon did not exit within 600 s of SIGTERM") from None
            stop_s = time.perf_counter() - t0
            after = states(app)
            app.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    if code != 0 or set(after) - {"sent", "pending"}:
        raise SystemExit(f"the daemon exited {code} leaving {dict(after)}")
    left = after["pending"]
    return {"messages": n, "delay_ms": delay_s * 1000, "sent_at_signal": sent,
            "in_hand_at_signal": in_hand, "sent_after_signal": after["sent"] - sent,
            "left_pending": left, "send_rate_per_s": round(rate, 1),
            "stop_s": round(stop_s, 3), "drain_s": round(left / rate, 3),
            "batch_s": round(in_hand / rate, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="600 messages (well under a minute)")
    ap.add_argument("--messages", type=int)
    ap.add_argument("--delay-ms", type=float, default=5.0)
    args = ap.parse_args()
    n = args.messages or (600 if args.quick else 2000)
    r = run(n, args.delay_ms / 1000)
    r["ratio_drain"] = round(r["drain_s"] / max(r["stop_s"], 1e-9), 1)
    r["ratio_batch"] = round(r["batch_s"] / max(r["stop_s"], 1e-9), 1)
    print(f"{n} messages, server answers each command in {args.delay_ms:g} ms, "
          f"{CONCURRENCY} connections, batches of {BATCH}")
    print(f"sending at {r['send_rate_per_s']} msg/s; SIGTERM after {r['sent_at_signal']} sent")
    print(f"SIGTERM to exit: {r['stop_s']:.3f} s ({r['sent_after_signal']} more sent, "
          f"{r['left_pending']} left pending and unclaimed)")
    print(f"draining the rest first would take {r['drain_s']:.2f} s: {r['ratio_drain']}x longer")
    print(f"finishing the batch in hand would take {r['batch_s']:.2f} s: "
          f"{r['ratio_batch']}x longer")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
