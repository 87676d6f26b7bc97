"""A dispatcher in its own process, for the SIGKILL test: one outbox pass as of argv[1].

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
    counts = app.tick(dt.datetime.fromisoformat(sys.argv[1]))
    print(dict(counts["outbox"]), flush=True)


if __name__ == "__main__":
    main()
