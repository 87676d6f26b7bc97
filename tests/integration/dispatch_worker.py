"""A dispatcher in its own process.

`dispatch_worker ISO-TIME`: one outbox pass as of that time (the SIGKILL test).
`dispatch_worker now`: passes on the system clock, every 0.2 s like a daemon's interval, until
no message is left to send, then the summed counts (several dispatchers must share the system
clock for their leases to mean the same thing).

Settings come from the environment (NCKH_*), as the daemon's would.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter

from sqlalchemy import func, select

from engine.app import build
from engine.settings import load_settings
from storage.outbox import OutboxMessage


def main() -> None:
    app = build(load_settings(), jobs=("outbox",))
    if sys.argv[1] != "now":
        counts = app.tick(dt.datetime.fromisoformat(sys.argv[1]))
        print(dict(counts["outbox"]), flush=True)
        return
    total: Counter[str] = Counter()
    while True:
        total.update(app.tick(dt.datetime.now(dt.UTC))["outbox"])
        with app.sessions() as s:
            left = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.state.in_(("pending", "sending"))))
        if not left:
            break
        time.sleep(0.2)
    print(dict(total), flush=True)


if __name__ == "__main__":
    main()
