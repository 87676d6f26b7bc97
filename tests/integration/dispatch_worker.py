"""A dispatcher in its own process: one outbox pass as of argv[1] (an ISO time, or `now` for the
system clock, which several dispatchers must share for their leases to mean the same thing).

Settings come from the environment (NCKH_*), as the daemon's would.
"""

from __future__ import annotations

import datetime as dt
import sys

from engine.app import build
from engine.settings import load_settings
from notifications import wiring


def main() -> None:
    app = build(load_settings(), install=False)
    wiring.install(app)
    at = (dt.datetime.now(dt.UTC) if sys.argv[1] == "now"
          else dt.datetime.fromisoformat(sys.argv[1]))
    counts = app.tick(at)
    print(dict(counts["outbox"]), flush=True)


if __name__ == "__main__":
    main()
