"""Mail throughput: the outbox dispatcher against the naive baseline, same server, same messages.

    .venv/bin/python bench/mail.py [--quick] [--messages N] [--concurrency C]

A local aiosmtpd server (a Sink, in its own process so it does not share our interpreter) receives
N queued messages (1,000 by default; 200 with --quick) twice:
  * dispatcher: `nckh tick`'s outbox pass — claim, render, send over `concurrency` reused
    aiosmtplib connections, record each outcome in SQLite;
  * baseline: stdlib `smtplib`, a new connection per message, one after the other, nothing
    recorded (the same rendered messages).
Prints both rates and their ratio; the last line is JSON:
{"dispatcher_per_s": …, "baseline_per_s": …}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds scripts named like libraries (bench/transitions.py): take the script's directory
# off the path (it comes first) and put the repository root there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from engine.app import build  # noqa: E402
from engine.clock import DEFAULT_TZ  # noqa: E402
from engine.settings import load_settings  # noqa: E402
from notifications import wiring  # noqa: E402
from notifications.outbox import enqueue  # noqa: E402
from notifications.transport import Outgoing  # noqa: E402
from storage.outbox import OutboxMessage  # noqa: E402

NOW = dt.datetime(2025, 4, 16, 8, 0, tzinfo=DEFAULT_TZ)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c",
                             "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # wait for the port to accept connections
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("aiosmtpd did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 messages (well under a minute)")
    ap.add_argument("--messages", type=int)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    n = args.messages or (200 if args.quick else 1000)
    port = free_port()
    server = start_server(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "nckh.toml"
            config.write_text(f'[mail]\ndigest_weekday = "off"\nconcurrency = {args.concurrency}\n'
                              f'batch_size = {n}\n', encoding="utf-8")
            settings = load_settings(env={
                "NCKH_DATA_DIR": tmp, "NCKH_SMTP_HOST": "127.0.0.1", "NCKH_SMTP_PORT": str(port),
                "NCKH_MAIL_FROM": "nckh@syt.example.vn", "NCKH_CONFIG": str(config)})
            app = build(settings, install=False)
            wiring.install(app)
            dispatcher = app.extras["notifications.dispatcher"]
            dispatcher.check()  # template check is start-up cost, not throughput
            with app.engine.transaction() as s:
                for i in range(n):
                    enqueue(s, kind="test", to=[f"user{i}@example.vn"], now=NOW,
                            dedupe_key=f"bench:{i}")
            t0 = time.perf_counter()
            counts = app.tick(NOW)["outbox"]
            dispatcher_s = time.perf_counter() - t0
            if counts.get("sent") != n:
                raise SystemExit(f"dispatcher sent {counts}, expected {n}")
            with app.sessions() as s:
                rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
                messages: list[Outgoing] = [dispatcher.prepare(s, r) for r in rows]
                s.rollback()
            app.close()
        t0 = time.perf_counter()
        for item in messages:
            with smtplib.SMTP("127.0.0.1", port) as client:
                client.sendmail(item.sender, list(item.recipients), item.data)
        baseline_s = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=10)
    d_rate, b_rate = n / dispatcher_s, n / baseline_s
    print(f"messages: {n}; dispatcher concurrency {args.concurrency} (one connection each), "
          f"SQLite outbox")
    print(f"dispatcher: {dispatcher_s:.2f} s  {d_rate:8.1f} msg/s  (claim + render + send + "
          f"record)")
    print(f"baseline:   {baseline_s:.2f} s  {b_rate:8.1f} msg/s  (smtplib, connection per "
          f"message, sequential)")
    print(f"ratio: {d_rate / b_rate:.1f}x (goal ≥ 5x)")
    print(json.dumps({"dispatcher_per_s": round(d_rate, 1), "baseline_per_s": round(b_rate, 1),
                      "ratio": round(d_rate / b_rate, 2), "messages": n}))


if __name__ == "__main__":
    main()
