"""How fast `nckh --help` starts, beside a bare `python -c pass` on the same interpreter.

    .venv/bin/python bench/cli.py [--quick] [--runs N]

Each command runs as a fresh process (the cost a user feels), once to warm the file cache, then
N times (10; 3 with --quick); the median wall time is reported. The goal is under 300 ms: if it
is missed, `python -X importtime -c "import engine.cli.main"` shows which import to make lazy.
The last line is JSON: {"help_ms": …, "python_ms": …}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_MS = 300.0


def median_ms(argv: list[str], runs: int) -> float:
    subprocess.run(argv, check=True, capture_output=True)  # warm-up, not counted
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 10")
    parser.add_argument("--runs", type=int, help="number of timed runs")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 10)
    nckh = Path(sys.executable).with_name("nckh")
    if not nckh.exists():
        sys.exit(f"bench: {nckh} not found; run `make install` first")
    python_ms = median_ms([sys.executable, "-c", "pass"], runs)
    help_ms = median_ms([str(nckh), "--help"], runs)
    verdict = "ok" if help_ms < GOAL_MS else f"SLOWER than the {GOAL_MS:.0f} ms goal"
    print(f"python -c pass   median of {runs}: {python_ms:7.1f} ms")
    print(f"nckh --help      median of {runs}: {help_ms:7.1f} ms  ({verdict}; "
          f"{help_ms - python_ms:.1f} ms above the bare interpreter)")
    print(json.dumps({"help_ms": round(help_ms, 1), "python_ms": round(python_ms, 1)}))


if __name__ == "__main__":
    main()
