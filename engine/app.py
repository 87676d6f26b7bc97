"""The one composition root: settings in, a ready `App` out. Used by every shell (CLI, daemon).

`build(settings)` opens the database, checks its schema and parses every configuration section
once — a bad value stops the command before anything runs, with one line naming the key — then
hands out typed components built on first use, each from the ones it needs (constructor
injection, in dependency order):

    config (scheduler, mail, reports)        parsed at build
    catalog ← mail config                     kinds.yaml: who gets which mail
    rules ← scheduler config, catalog         the pure core: steps, timers, mails as values
    engine ← rules                            the API every shell calls
    timers, calendar_jobs ← engine, reports   the scheduler's due work
    dispatcher ← mail config, catalog         the outbox: render and send

So `nckh unit list` builds the engine and never the calendar, the templates or the mailer.
`tick` is the daemon's pass, written out: calendar jobs and due timers (which queue e-mails),
then the outbox (which sends them in the same pass). A stopping daemon's `stop` predicate is
handed down; once it is true each part returns after the unit of work in hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from engine.reports.config import ReportsConfig, reports_config
from engine.scheduling.config import SchedulerConfig, load_config
from engine.service import Engine
from engine.settings import Settings
from notifications.config import MailConfig, mail_config
from notifications.links import Links
from storage.db import DbEngine, make_engine, session_factory
from storage.leases import holder_id
from storage.migrate import ensure_current
from workflows.registry import Registry

if TYPE_CHECKING:
    from engine.access import Access
    from engine.reports.compute import ReportRules
    from engine.reports.mailer import ReportMailer
    from engine.rules import Rules
    from engine.scheduling.obligations import CalendarJobs
    from engine.scheduling.timers import TimerService
    from engine.submissions import Submissions
    from notifications.catalog import Catalog
    from notifications.dispatcher import Dispatcher

StopFlag = Callable[[], bool]
JOBS = ("timers", "outbox")  # the parts of a pass, in order


@dataclass(frozen=True)
class Config:
    """Every configuration section a component reads, parsed and checked once."""

    scheduler: SchedulerConfig
    mail: MailConfig
    reports: ReportsConfig


class App:
    def __init__(self, settings: Settings, db: DbEngine, config: Config,
                 jobs: tuple[str, ...] = JOBS) -> None:
        self.settings = settings
        self.db = db
        self.sessions = session_factory(db)
        self.config = config
        self.jobs = jobs
        self.worker = holder_id()
        self.registry = Registry(settings.workflows_dir)

    # --- the components, each built on first use ------------------------------------------
    @cached_property
    def catalog(self) -> Catalog:
        from notifications.catalog import load_catalog

        return load_catalog(self.config.mail.kinds_file)

    @cached_property
    def rules(self) -> Rules:
        from engine.rules import Rules
        from notifications.plan import MailPlan
        from workflows.timerplan import Planner

        sch = self.config.scheduler
        return Rules(self.settings.tz, sch.calendar,
                     Planner(sch.calendar, sch.send_at, self.settings.tz),
                     MailPlan(self.catalog, self.config.mail.lang), sch.policy, sch.grace_days)

    @cached_property
    def engine(self) -> Engine:
        return Engine(self.db, self.registry, rules=lambda: self.rules, tz=self.settings.tz)

    @cached_property
    def links(self) -> Links:
        """The personal links in mails, signed with the web secret (`web_secret`)."""
        return Links(web_secret(self.settings), self.settings.base_url)

    @cached_property
    def access(self) -> Access:
        from engine.access import Access

        return Access(self.db, self.links, idle_minutes=self.settings.session_idle_minutes,
                      calendar=self.config.scheduler.calendar, tz=self.settings.tz)

    @cached_property
    def submissions(self) -> Submissions:
        from engine.submissions import Submissions

        return Submissions(self.engine, self.settings.data_dir / "files",
                           self.settings.upload_limit_mb * 1024 * 1024)

    @cached_property
    def reports(self) -> ReportMailer:
        from engine.reports.mailer import ReportMailer

        return ReportMailer(self.config.reports, office_email=self.settings.office_email,
                            tz=self.settings.tz, catalog=self.catalog,
                            current=self.registry.current(),
                            rules=self.report_rules())

    def report_rules(self) -> ReportRules:
        """What the reports judge by, from the scheduler's configuration."""
        from engine.reports.compute import ReportRules

        sch = self.config.scheduler
        return ReportRules(sch.quota_kinds, sch.sessions, sch.calendar)

    @cached_property
    def timers(self) -> TimerService:
        from engine.scheduling.timers import TimerService

        return TimerService(self.engine, self.config.scheduler, self.worker)

    @cached_property
    def calendar_jobs(self) -> CalendarJobs:
        from engine.scheduling.obligations import CalendarJobs

        return CalendarJobs(self.engine, self.config.scheduler, self.worker, self.reports)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        from notifications.dispatcher import Dispatcher
        from notifications.render import Renderer

        cfg, sch, tz = self.config.mail, self.config.scheduler, self.settings.tz
        return Dispatcher(self.db, cfg, self.catalog,
                          Renderer(self.catalog, cfg.templates_dir), tz=tz, links=self.links,
                          calendar=sch.calendar,
                          office_hours=lambda now: sch.in_business_hours(now.astimezone(tz)))

    def set_worker(self, worker: str) -> None:
        """The daemon's own id on the timers and calendar runs it claims."""
        self.worker = worker
        self.timers.worker = self.calendar_jobs.worker = worker

    # --- the daemon's pass ---------------------------------------------------------------------
    def start(self) -> None:
        """Before the first pass of a daemon or a tick (never for other commands, which may run
        under an account that can only read): remove files an unfinished write left in
        maildir/tmp."""
        from notifications.transports.maildir import clean_maildir_tmp

        clean_maildir_tmp(self.config.mail.maildir)

    def tick(self, now: dt.datetime,
             stop: StopFlag = lambda: False) -> dict[str, Mapping[str, int]]:
        """One pass as of `now`: calendar jobs and due timers, then the outbox."""
        done: dict[str, Mapping[str, int]] = {}
        if "timers" in self.jobs and not stop():
            counts = dict(self.calendar_jobs.run_due(now))
            counts.update(self.timers.sweep(now, stop))
            done["timers"] = counts
        if "outbox" in self.jobs and not stop():
            done["outbox"] = self.dispatcher.tick(now, stop)
        return done

    def close(self) -> None:
        self.db.dispose()


def web_secret(settings: Settings) -> bytes:
    """The secret that signs links and cookies: `NCKH_WEB_SECRET` / `[web] secret`, else a
    random one kept in `<data dir>/web.secret` (0600), made on first use, so the daemon that
    writes links and the web app that checks them share it on one machine."""
    import secrets

    from storage.files import create_private, private_dir

    if settings.web_secret:
        return settings.web_secret.encode()
    path = private_dir(settings.data_dir) / "web.secret"
    if create_private(path):
        path.write_text(secrets.token_hex(32), encoding="ascii")
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        from workflows.errors import InputError

        raise InputError(f"{path} holds no usable secret: delete it to make a new one")
    return text.encode()


def read_config(settings: Settings) -> Config:
    return Config(load_config(settings.section("scheduler"), settings.section("calendar")),
                  mail_config(settings), reports_config(settings.section("reports")))


def with_routes(config: Config, registry: Registry) -> MailConfig:
    """The mail config with its offices' routes: which office each workflow and obligation
    names, every key checked against `[[offices]]` (an unknown one stops nckh in one line).
    A workflow file that does not parse is left to the commands that read workflows."""
    from notifications.offices import routes_for
    from workflows.errors import DefinitionError

    mail = config.mail
    obligations = {o.key: o.office for o in config.scheduler.obligations}
    try:
        current = registry.current()
    except DefinitionError:  # reported, with its file and line, by whatever reads the workflows
        current = {}
    workflows = {name: wf.office for name, wf in current.items()}
    return dataclasses.replace(mail, routes=routes_for(mail.offices, workflows, obligations))


def build(settings: Settings, *, check_schema: bool = True,
          jobs: tuple[str, ...] = JOBS) -> App:
    """The app for `settings`. `jobs` limits what a pass runs (a test of the outbox alone)."""
    config = read_config(settings)
    config = dataclasses.replace(config, mail=with_routes(config, Registry(settings.workflows_dir)))
    db = make_engine(settings.database_url)
    if check_schema:
        ensure_current(db)
    app = App(settings, db, config, jobs)
    if config.mail.kinds_file is not None:  # an operator's file is checked at start like the rest
        _ = app.catalog
    return app


__all__ = ["JOBS", "App", "Config", "build", "web_secret"]
