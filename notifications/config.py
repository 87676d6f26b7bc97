"""Mail settings as one frozen value, built from `Settings` (the shell read them; we never do).

The `[smtp]` keys and `NCKH_SMTP_*`/`NCKH_MAIL_FROM`/`NCKH_OFFICE_EMAIL` are parsed by
`engine.settings`; the rest lives in the config file's `[mail]` section:

    [mail]
    office_agency = "Sở Y tế tỉnh Phú Thọ"        # the letterhead: every name is configuration
    office_department = "Phòng Nghiệp vụ Y"
    subject_prefix = "Sở Y tế"                    # "[Sở Y tế] V/v …"
    office_phone = "0210 3 846 xxx"
    office_address = "…"
    plan_reference = "Kế hoạch số 57/KH-SYT ngày 03 tháng 3 năm 2025 của Sở Y tế"  # never invented
    lang = "vi"                                   # vi | en
    templates_dir = "/etc/nckh/templates"         # administrator overrides: <dir>/<lang>/<kind>.*
    kinds_file = "/etc/nckh/kinds.yaml"           # who gets what
    concurrency = 4                               # SMTP connections per batch
    timeout_s = 30                                # one send, end to end
    ca_file = "/etc/ssl/certs/internal-ca.pem"    # extra CA for the SMTP server's certificate
    digest_weekday = 0                            # the office's weekly digest: Monday (or "off")
    digest_hour = 8                               # … from this hour; daily when something new
    first_escalation_at_once = false              # a research task's first escalation on its own
    office_head_name = "…"                        # the default office's head (doctor shows it)
    office_head_title = "Trưởng phòng"

Other offices are `[[offices]]` entries (`notifications.offices`); `[mail]` above is the
default one's, key `nghiep_vu_y`.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from notifications.offices import DEFAULT_KEY, Office, Routes, parse_offices
from workflows import addresses
from workflows.errors import InputError
from workflows.inputs import check_keys

DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
# Every key `[mail]` may hold (a key nobody reads is refused: a typo must not pass silently).
MAIL_KEYS = ("mail_from", "office_email", "office_agency", "office_department", "subject_prefix",
             "office_phone", "office_address", "plan_reference", "lang", "templates_dir",
             "kinds_file", "concurrency", "timeout_s", "ca_file", "batch_size", "lease_s",
             "retry_base_s", "retry_cap_s", "give_up_after_h", "max_attempts", "digest_weekday",
             "digest_hour", "first_escalation_at_once", "office_head_name", "office_head_title")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str = "none"  # none | starttls | tls — always explicit, never opportunistic
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout_s: float = 30.0
    concurrency: int = 4


@dataclass(frozen=True)
class MailConfig:
    mail_from: str
    office: Mapping[str, Any]
    plan_reference: str | None
    lang: str
    smtp: SmtpConfig | None  # None: deliver into the maildir
    maildir: Path
    templates_dir: Path | None
    kinds_file: Path | None
    batch_size: int = 200
    lease: dt.timedelta = dt.timedelta(minutes=5)
    retry_base: dt.timedelta = dt.timedelta(minutes=1)
    retry_cap: dt.timedelta = dt.timedelta(hours=1)
    give_up_after: dt.timedelta = dt.timedelta(days=3)  # since the first attempt
    max_attempts: int = 5  # a message dies only after this many attempts *and* give_up_after
    digest_weekday: int | None = 0  # Monday; None: no digest
    digest_hour: int = 8
    # The office reads escalations in its digest; a province may want the first escalation of
    # a research task (not of a unit's report) in a mail of its own, at once.
    first_escalation_at_once: bool = False
    # Every office by key, the default (`office`) among them; empty: the default alone (a
    # config built by hand). `routes` says which one a task's mail goes to; `engine.app.build`
    # sets it once the workflows and obligations are known.
    offices: Mapping[str, Office] = field(default_factory=dict)
    routes: Routes = field(default_factory=Routes)

    def office_named(self, key: str | None) -> Office:
        """The office `key`; the default for None or a key no longer configured (a digest
        queued before its office was removed still goes somewhere that reads it)."""
        return self.offices.get(key or DEFAULT_KEY) or {**self.office, "key": DEFAULT_KEY}

    def office_for(self, workflow: str | None, obligation: str | None) -> Office:
        return self.office_named(self.routes.office_for(workflow, obligation))

    def copies_for(self, level: str | None) -> list[Office]:
        """The offices copied on an office-bound mail of a task at `level`."""
        return [self.offices[k] for k in self.routes.copies_for(level) if k in self.offices]


def _num(section: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    raw = section.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InputError(f"invalid [mail] {key} = {raw!r}: expected a number") from None
    if not low <= value <= high:
        raise InputError(f"invalid [mail] {key} = {raw!r}: expected {low:g}–{high:g}")
    return value


def _path(value: Any) -> Path | None:
    return Path(str(value)).expanduser() if value else None


def _templates_dir(value: Any) -> Path | None:
    """The administrator's template overrides: a directory that is not there is a typo."""
    path = _path(value)
    if path is not None and not path.is_dir():
        raise InputError(f"invalid [mail] templates_dir = {str(value)!r}: no such directory")
    return path


def _ca_file(value: Any) -> str | None:
    """The extra CA file, checked now: a typo should stop `nckh` at start with one line, not
    fail every connection of every batch later."""
    if not value:
        return None
    path = str(value)
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError:
        raise InputError(f"invalid [mail] ca_file = {path!r}: no PEM certificate in it") from None
    except OSError as exc:
        raise InputError(f"invalid [mail] ca_file = {path!r}: {exc.strerror or exc}") from None
    return path


class MailSettings(Protocol):
    """What the mail needs of the shell's settings (`engine.settings.Settings` is one): the
    environment's SMTP and address keys, the data directory's maildir, the file's sections."""

    @property
    def smtp_host(self) -> str | None: ...

    @property
    def smtp_port(self) -> int | None: ...

    @property
    def smtp_tls(self) -> str: ...

    @property
    def smtp_user(self) -> str | None: ...

    @property
    def smtp_password(self) -> str | None: ...

    @property
    def mail_from(self) -> str: ...

    @property
    def office_email(self) -> str | None: ...

    @property
    def maildir(self) -> Path: ...

    @property
    def offices(self) -> tuple[Mapping[str, Any], ...]: ...

    def section(self, name: str) -> Mapping[str, Any]: ...


def mail_config(settings: MailSettings) -> MailConfig:
    m = settings.section("mail")
    check_keys(m, MAIL_KEYS, "mail")
    smtp_section = settings.section("smtp")
    lang = str(m.get("lang", "vi"))
    if lang not in ("vi", "en"):
        raise InputError(f"invalid [mail] lang = {lang!r}: expected vi or en")
    smtp: SmtpConfig | None = None
    if settings.smtp_host:
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_tls],
            tls=settings.smtp_tls, user=settings.smtp_user, password=settings.smtp_password,
            ca_file=_ca_file(m.get("ca_file") or smtp_section.get("ca_file")),
            timeout_s=_num(m, "timeout_s", 30, 1, 600),
            concurrency=int(_num(m, "concurrency", 4, 1, 32)),
        )
    weekday = m.get("digest_weekday", 0)
    office = {
        "agency": str(m.get("office_agency", "Sở Y tế")),
        "department": str(m.get("office_department", "Phòng Nghiệp vụ Y")),
        "prefix": str(m.get("subject_prefix", "Sở Y tế")),
        "email": addresses.normalise(settings.office_email, what="office address "
                                     "(NCKH_OFFICE_EMAIL / office_email)")
        if settings.office_email else "",
        "phone": str(m.get("office_phone", "")),
        "address": str(m.get("office_address", "")),
        "head_name": str(m.get("office_head_name", "")),
        "head_title": str(m.get("office_head_title", "")),
    }
    return MailConfig(
        # Checked at start: a malformed sender would make every message undeliverable.
        mail_from=addresses.normalise(settings.mail_from,
                                      what="sender address (NCKH_MAIL_FROM / mail_from)"),
        office=office,
        offices=parse_offices(settings.offices, office),
        plan_reference=str(m["plan_reference"]) if m.get("plan_reference") else None,
        lang=lang,
        smtp=smtp,
        maildir=settings.maildir,
        templates_dir=_templates_dir(m.get("templates_dir")),
        kinds_file=_path(m.get("kinds_file")),
        batch_size=int(_num(m, "batch_size", 200, 1, 5000)),
        lease=dt.timedelta(seconds=_num(m, "lease_s", 300, 1, 86400)),
        retry_base=dt.timedelta(seconds=_num(m, "retry_base_s", 60, 1, 86400)),
        retry_cap=dt.timedelta(seconds=_num(m, "retry_cap_s", 3600, 1, 86400)),
        give_up_after=dt.timedelta(hours=_num(m, "give_up_after_h", 72, 1, 24 * 30)),
        max_attempts=int(_num(m, "max_attempts", 5, 1, 1000)),
        digest_weekday=None if weekday in (None, "", "off") else int(_num(m, "digest_weekday",
                                                                         0, 0, 6)),
        digest_hour=int(_num(m, "digest_hour", 8, 0, 23)),
        first_escalation_at_once=_bool(m, "first_escalation_at_once", False),
    )


def _bool(section: Mapping[str, Any], key: str, default: bool) -> bool:
    raw = section.get(key, default)
    if not isinstance(raw, bool):
        raise InputError(f"invalid [mail] {key} = {raw!r}: expected true or false")
    return raw
