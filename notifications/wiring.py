"""Installs the notifications component into an `App` (outbox subscriber, dispatcher tick job).

Cheap to call on every CLI command: nothing is rendered here. The dispatcher checks every
template before its first pass, so `nckh tick` and the daemon refuse to run with a broken one;
`app.extras["notifications.check"]` lets the daemon run that check explicitly at start. At start
(daemon, tick) files abandoned in maildir/tmp by an unfinished write are removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from notifications.catalog import load_catalog
from notifications.config import mail_config
from notifications.dispatcher import Dispatcher
from notifications.render import Renderer
from notifications.subscriber import OutboxWriter
from notifications.transport import clean_maildir_tmp

if TYPE_CHECKING:
    from engine.app import App


def install(app: App) -> None:
    """Subscribe the outbox writer to domain events; register the dispatcher as a tick job."""
    cfg = mail_config(app.settings)
    catalog = load_catalog(cfg.kinds_file)
    app.engine.bus.subscribe(OutboxWriter(catalog, cfg.lang))
    dispatcher = Dispatcher(app.sessions, cfg, catalog, Renderer(catalog, cfg.templates_dir),
                            tz=app.settings.tz, working_days=lambda: app.engine.working_days)
    app.tick_jobs.append(("outbox", dispatcher.tick))
    app.extras["notifications.dispatcher"] = dispatcher
    app.extras["notifications.check"] = dispatcher.check
    app.startup.append(lambda: clean_maildir_tmp(cfg.maildir))
