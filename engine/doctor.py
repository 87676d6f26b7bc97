"""`nckh doctor`: what an operator checks first, each check with what to do when it fails.

Checks, in order (later ones need earlier ones): the configuration (file and environment parse,
the scheduler's and mail's sections validate), the data directory, the database (reachable, schema
at this release's head), the SMTP server (connects, says hello to EHLO, STARTTLS/TLS as
configured; no login, so no password is ever sent by the doctor), the sender and office addresses
and the e-mail templates (every
template renders against sample data, through the notifications package's own check), and the
calendar's swap data (a warning for this year, and from 1 November for the next, when no swaps
were confirmed against the official dispatch: 2027's are announced during 2026).
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from engine.settings import Settings
from workflows.errors import NckhError

SMTP_TIMEOUT_S = 10


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail | skip
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_config(load: Callable[[], Settings]) -> tuple[Check, Settings | None]:
    try:
        settings = load()
    except NckhError as exc:
        return Check("configuration", "fail", str(exc),
                     "correct the value named above (environment NCKH_* or the config file)"), None
    where = f"file {settings.config_file}" if settings.config_file else "no config file"
    return Check("configuration", "ok", f"{where}; time zone {settings.timezone}"), settings


def check_data_dir(settings: Settings) -> Check:
    path = settings.data_dir
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and os.access(parent, os.W_OK):
            return Check("data directory", "ok", f"{path} (created on first use)")
        return Check("data directory", "fail", f"{path} does not exist and cannot be created",
                     "create it, or set NCKH_DATA_DIR / data_dir to a writable directory")
    if not os.access(path, os.W_OK):
        return Check("data directory", "fail", f"{path} is not writable",
                     f"give the nckh user write access: chown nckh {path}")
    return Check("data directory", "ok", str(path))


def check_database(settings: Settings) -> Check:
    from storage.db import DbError, make_engine
    from storage.migrate import current_revision, head_revision, is_empty, known_revisions

    where = settings.database_url.split("@")[-1]
    try:
        db = make_engine(settings.database_url)
    except NckhError as exc:
        return Check("database", "fail", str(exc), "fix NCKH_DATABASE_URL / database_url")
    try:
        current = current_revision(db)
        empty = is_empty(db)  # read without the write lock: the daemon may be writing
    except DbError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return Check("database", "fail", f"cannot connect to {where}: {reason}",
                     "is the server running, and are the URL, user and password right?")
    except NckhError as exc:  # converted on the way out of storage (e.g. the database is busy)
        return Check("database", "fail", f"{where}: {exc}")
    finally:
        db.dispose()
    head = head_revision()
    if current is None:
        return Check("database", "fail", f"{where} is {'empty' if empty else 'not nckh’s'}",
                     "run `nckh init`" if empty else "point nckh at its own database")
    if current == head:
        return Check("database", "ok", f"{where}, schema {current} (up to date)")
    if current not in known_revisions():
        return Check("database", "fail", f"{where} has schema {current}, newer than this nckh",
                     "upgrade nckh to the release that wrote it")
    return Check("database", "fail", f"{where} has schema {current}; this release needs {head}",
                 "back up the database, then run `nckh init` to upgrade it")


def check_components(settings: Settings) -> tuple[Check, Check]:
    """The scheduler's and mail's settings (they validate when installed), then the templates
    through the notifications component's own check (every template against sample data)."""
    from engine.app import build

    try:
        app = build(settings, check_schema=False)
    except NckhError as exc:
        return (Check("scheduler and mail settings", "fail", str(exc),
                      "correct that key in the config file (see deploy/nckh.toml)"),
                Check("templates", "skip", "needs valid mail settings"))
    try:
        try:
            app.dispatcher.check()
        except NckhError as exc:
            return (Check("scheduler and mail settings", "ok", "valid"),
                    Check("templates", "fail", str(exc),
                          "run `nckh mail check` for the full list and fix those templates"))
        return (Check("scheduler and mail settings", "ok", "valid"),
                Check("templates", "ok", "every template renders against sample data"))
    finally:
        app.close()


def check_smtp(settings: Settings) -> Check:
    if not settings.smtp_host:
        return Check("SMTP", "skip",
                     f"no server configured: e-mails are written to {settings.maildir}",
                     None)
    mode = settings.smtp_tls
    port = settings.smtp_port or {"tls": 465, "starttls": 587}.get(mode, 25)
    host = f"{settings.smtp_host}:{port}"
    try:
        client: smtplib.SMTP
        if mode == "tls":
            client = smtplib.SMTP_SSL(settings.smtp_host, port, timeout=SMTP_TIMEOUT_S,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.smtp_host, port, timeout=SMTP_TIMEOUT_S)
        with client:
            code, reply = client.ehlo()
            if code != 250:
                return Check("SMTP", "fail", f"{host} answered EHLO with {code}",
                             "check the host and port of the mail server")
            if mode == "starttls":
                if not client.has_extn("starttls"):
                    return Check("SMTP", "fail", f"{host} does not offer STARTTLS",
                                 "set NCKH_SMTP_TLS=tls (port 465) or ask for STARTTLS")
                client.starttls(context=ssl.create_default_context())
                code, reply = client.ehlo()
            auth = "AUTH offered" if client.has_extn("auth") else "no AUTH offered"
            if settings.smtp_user and not client.has_extn("auth"):
                return Check("SMTP", "fail", f"{host} offers no AUTH but a user is configured",
                             "use STARTTLS/TLS (servers offer AUTH only over TLS) or drop the user")
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return Check("SMTP", "fail", f"cannot talk to {host} ({mode}): {exc}",
                     "check NCKH_SMTP_HOST/PORT/TLS and that the server accepts this machine")
    greeting = reply.decode(errors="replace").splitlines()[0] if reply else ""
    return Check("SMTP", "ok", f"{host} ({mode}) says hello: 250 {greeting}; {auth}")


def check_addresses(settings: Settings) -> Check:
    """Mail goes out, but does it reach the office and carry a real sender? A sender on a local
    or reserved domain fails once an SMTP server is configured (real servers reject or bin it,
    and nobody can answer it); a missing office address only warns: the embedded default (a
    maildir, no office address) is a valid way to try nckh."""
    from workflows.addresses import problem, undeliverable

    for what, value, key in (("sender", settings.mail_from, "NCKH_MAIL_FROM / mail_from"),
                             ("office", settings.office_email, "NCKH_OFFICE_EMAIL / "
                                                               "office_email")):
        reason = problem(value.strip().lower()) if value else None
        if reason is not None:
            return Check("mail addresses", "fail", f"{what} address '{value}': {reason}",
                         f"set {key} to an address the mail server accepts")
    problems: list[str] = []
    fixes: list[str] = []
    local = undeliverable(settings.mail_from)
    failed = bool(settings.smtp_host and local)
    if failed:
        problems.append(f"sender {settings.mail_from} will be rejected or flagged as spam by "
                        f"real mail servers ({local})")
        fixes.append("set NCKH_MAIL_FROM / mail_from to an address of the Department's domain")
    if not settings.office_email:
        problems.append("no office address: mail for the Medical Affairs office goes to the "
                        "people registered with role office, if any, and answers to mail go "
                        "to the first of them")
        fixes.append("set NCKH_OFFICE_EMAIL / office_email")
    if problems:
        return Check("mail addresses", "fail" if failed else "warn", "; ".join(problems),
                     "; ".join(fixes))
    return Check("mail addresses", "ok",
                 f"from {settings.mail_from}; office {settings.office_email}")


def check_offices(settings: Settings) -> Check:
    """The offices and what each receives (`notifications.offices`): the default one, the
    obligations and workflows routed elsewhere, the offices copied on a level. A bad office
    fails the settings check above, with its line; this one then skips."""
    from engine.app import read_config, with_routes
    from workflows.registry import Registry

    try:
        mail = with_routes(read_config(settings), Registry(settings.workflows_dir))
    except NckhError:
        return Check("offices", "skip", "needs valid settings")
    parts = []
    for key, office in mail.offices.items():
        head = " ".join(str(office.get(k) or "") for k in ("head_title", "head_name")).strip()
        gets = sorted([*(n for n, k in mail.routes.obligations.items() if k == key),
                       *(n for n, k in mail.routes.workflows.items() if k == key)])
        copied = [lv for lv, keys in mail.routes.copies.items() if key in keys]
        parts.append(f"{key}: {office['department']} <{office.get('email') or 'no address'}>"
                     + (f", {head}" if head else "")
                     + (" (default)" if key == mail.routes.default else "")
                     + (f", receives {', '.join(gets)}" if gets else "")
                     + (f", copied on {', '.join(copied)} tasks" if copied else ""))
    return Check("offices", "ok", "; ".join(parts))


def check_web(settings: Settings) -> Check:
    """The address e-mail links point at: another machine must be able to reach it."""
    from urllib.parse import urlsplit

    url = settings.base_url
    host = urlsplit(url).hostname or ""
    if host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost"):
        return Check("web base URL", "warn", f"{url}: links in e-mails point at this machine, "
                     "which nobody else can open", "set NCKH_BASE_URL ([web] base_url) to the "
                     "address people reach nckh web at, e.g. https://nckh.soyte.example")
    if url.startswith("http://"):
        return Check("web base URL", "warn", f"{url}: sign-in links would travel unencrypted",
                     "serve nckh web over https (deploy/nginx-nckh.conf) and use https://")
    return Check("web base URL", "ok", url)


def check_calendar(settings: Settings, today: dt.date) -> Check:
    """Are this year's (and, from 1 November, next year's) swapped days off known? Without them
    a reminder may go out on a day off, or a deadline roll to the wrong day. Only a warning."""
    from engine.scheduling.config import load_config

    try:
        cal = load_config(settings.section("scheduler"), settings.section("calendar")).calendar
    except NckhError:
        return Check("calendar", "skip", "needs valid scheduler settings")
    missing = cal.unconfirmed_years(today)
    if missing:
        years = ", ".join(str(y) for y in missing)
        return Check("calendar", "warn",
                     f"no confirmed swapped days off for {years}: reminders may go out on a day "
                     "off, and deadlines may roll to the wrong day",
                     "once the Government announces them, enter the swaps in [calendar] "
                     f"extra_holidays / working_saturdays and add {missing[0]} to confirmed_years "
                     "(also when the year has none), or upgrade nckh")
    known = sorted(y for y in cal.confirmed_years if y >= today.year)
    return Check("calendar", "ok",
                 "swapped days off confirmed for " + ", ".join(str(y) for y in known))


def run_checks(load: Callable[[], Settings],
               today: Callable[[], dt.date] | None = None) -> list[Check]:
    """Every check in order. `today` (the shell's clock, read once) dates the calendar check."""
    config, settings = check_config(load)
    if settings is None:
        return [config]
    components, templates = check_components(settings)
    checks = [config, check_data_dir(settings), check_database(settings), components,
              check_smtp(settings), check_addresses(settings), check_offices(settings),
              check_web(settings), templates]
    if today is not None:
        checks.append(check_calendar(settings, today()))
    return checks
