"""Settings: read once by a shell (environment, then config file, then defaults), passed in frozen.

Nothing else in nckh reads the environment. The environment wins over the file so an operator can
override one key for one run. Secrets (the SMTP password) are kept out of `repr`.

An env file (`--env-file FILE` / `NCKH_ENV_FILE`, parsed by `engine.envfile`) stands between the
two: a key set (non-empty) in the real environment beats the env file, which beats the config file.

The file's sections are known by name, and a key nobody reads is refused with the section named:
a typo must not be silently ignored. `[nckh]` and `[smtp]` are checked here; `[mail]`,
`[scheduler]`, `[calendar]` and `[reports]` by the component that reads each (`check_keys`).
`[[offices]]`, the one list of tables at the top level, is kept as read and checked by
`notifications.offices`.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.errors import InputError
from workflows.inputs import check_keys, printable

ENV_PREFIX = "NCKH_"
TLS_MODES = ("none", "starttls", "tls")
SECTIONS = ("nckh", "smtp", "mail", "scheduler", "calendar", "reports", "web")
NCKH_KEYS = ("data_dir", "database_url", "timezone", "workflows_dir", "now", "mail_from",
             "office_email")
# The web app (`nckh web`) and the links in e-mails; env NCKH_BASE_URL, NCKH_WEB_SECRET, …
WEB_KEYS = ("base_url", "secret", "upload_limit_mb", "session_idle_minutes")
# `smtp_host` and the like are the environment's spelling, accepted in the file as well.
SMTP_KEYS = ("host", "port", "tls", "user", "password", "ca_file", "smtp_host", "smtp_port",
             "smtp_tls", "smtp_user", "smtp_password")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    timezone: str = "Asia/Ho_Chi_Minh"
    workflows_dir: Path | None = None
    now: dt.datetime | None = None
    config_file: Path | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_tls: str = "none"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = "nckh@localhost"
    office_email: str | None = None
    base_url: str = "http://127.0.0.1:8080"
    web_secret: str | None = field(default=None, repr=False)
    upload_limit_mb: int = 20
    session_idle_minutes: int = 30
    # The `[[offices]]` entries as read (the offices besides the default; `notifications.offices`).
    offices: tuple[Mapping[str, Any], ...] = ()
    # Whole TOML sections owned by the scheduling, mail and report components, read by them.
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def maildir(self) -> Path:
        return self.data_dir / "maildir"

    def section(self, name: str) -> Mapping[str, Any]:
        return self.sections.get(name, {})


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", ".")) / ".local" / "share")
    return Path(base) / "nckh"


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            cfg = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"config file {path} is a directory, not a TOML file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"config file {path}: not UTF-8 text (byte {exc.start}); is it a "
                         "TOML file?") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config file {path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"config file {path}: {exc.strerror or exc}") from None
    for key, value in cfg.items():
        if key == "offices":
            if not isinstance(value, list):
                raise InputError(f"config file {path}: offices are written [[offices]] (one "
                                 "table per office), not [offices]")
            continue
        if not isinstance(value, dict):
            raise InputError(f"config file {path}: key '{printable(key)}' is outside any "
                             "section; put it under [nckh] or the section it belongs to")
        if key not in SECTIONS:
            raise InputError(f"config file {path}: unknown section [{printable(key)}]; "
                             f"sections: {', '.join(f'[{s}]' for s in SECTIONS)}")
    check_keys(cfg.get("nckh", {}), NCKH_KEYS, "nckh")
    check_keys(cfg.get("smtp", {}), SMTP_KEYS, "smtp")
    check_keys(cfg.get("web", {}), WEB_KEYS, "web")
    for section in ("nckh", "smtp", "web"):
        for key, value in cfg.get(section, {}).items():
            _check_type(section, key, value)
    return cfg


def _check_type(section: str, key: str, value: Any) -> None:
    """Every [nckh] and [smtp] value is text, but a port (a number) and `now` (a TOML date)."""
    if key.endswith("port") and isinstance(value, int) and not isinstance(value, bool):
        return
    if key == "now" and isinstance(value, dt.date):
        return
    if section == "web" and key in ("upload_limit_mb", "session_idle_minutes"):
        return  # a number, checked with its range below
    if not isinstance(value, str):
        raise InputError(f"config [{section}] {key}: expected text in quotes, not "
                         f"{printable(repr(value))}")


def load_settings(
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
    now_text: str | None = None,
    database_url: str | None = None,
    env_file: str | None = None,
) -> Settings:
    """Build settings from explicit arguments, the environment, the env file, the config file
    and defaults."""
    from engine.envfile import read_env_file
    from workflows.clock import parse_datetime

    env = dict(os.environ) if env is None else dict(env)
    env_file = env_file or env.get(ENV_PREFIX + "ENV_FILE")
    if env_file:
        given = {k: v for k, v in env.items() if v != ""}
        env = {**read_env_file(Path(env_file).expanduser()), **given}
    cfg_path_text = config_file or env.get(ENV_PREFIX + "CONFIG")
    cfg: dict[str, Any] = {}
    cfg_path: Path | None = None
    if cfg_path_text:
        cfg_path = Path(cfg_path_text).expanduser()
        cfg = _read_config(cfg_path)
    general = cfg.get("nckh", {})
    smtp = cfg.get("smtp", {})
    mail = cfg.get("mail", {})

    def pick(key: str, *sources: Mapping[str, Any], default: Any = None) -> Any:
        if (value := env.get(ENV_PREFIX + key.upper())) not in (None, ""):
            return value
        for source in sources:
            if key in source:
                return source[key]
        return default

    data_dir = Path(str(pick("data_dir", general, default=default_data_dir(env)))).expanduser()
    if data_dir.exists() and not data_dir.is_dir():
        raise InputError(f"data directory {data_dir} is a file, not a directory "
                         "(NCKH_DATA_DIR or [nckh] data_dir)")
    url = database_url or pick("database_url", general)
    if not url:
        url = f"sqlite:///{data_dir / 'nckh.db'}"
    timezone = str(pick("timezone", general, default="Asia/Ho_Chi_Minh"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone '{timezone}' (setting 'timezone')") from None
    workflows_dir = pick("workflows_dir", general)
    now_value = now_text or pick("now", general)
    now = (parse_datetime(str(now_value), ZoneInfo(timezone), what="--now/NCKH_NOW")
           if now_value else None)

    port_raw = pick("smtp_port", smtp, {"smtp_port": smtp.get("port")} if "port" in smtp else {})
    try:
        port = int(port_raw) if port_raw not in (None, "") else None
    except ValueError:
        raise InputError(f"invalid SMTP port '{port_raw}' (NCKH_SMTP_PORT)") from None
    if port is not None and not 1 <= port <= 65535:
        raise InputError(f"invalid SMTP port {port} (NCKH_SMTP_PORT): expected 1–65535")
    tls = str(pick("smtp_tls", smtp, {"smtp_tls": smtp.get("tls")} if "tls" in smtp else {},
                   default="none")).lower()
    if tls not in TLS_MODES:
        raise InputError(f"invalid NCKH_SMTP_TLS '{tls}': expected one of {', '.join(TLS_MODES)}")

    def smtp_key(key: str) -> Any:
        short = key.removeprefix("smtp_")
        return pick(key, smtp, {key: smtp[short]} if short in smtp else {})

    web = cfg.get("web", {})
    base_url = str(pick("base_url", web, default="http://127.0.0.1:8080")).rstrip("/")
    if not base_url.startswith(("http://", "https://")) or " " in base_url:
        raise InputError(f"invalid base URL '{printable(base_url)}' (NCKH_BASE_URL or [web] "
                         "base_url): expected http(s)://host[:port][/path]")
    web_numbers = {key: _positive(pick(key, web, default=default), key)
                   for key, default in (("upload_limit_mb", 20), ("session_idle_minutes", 30))}
    sections = {k: v for k, v in cfg.items() if isinstance(v, dict)}
    return Settings(
        data_dir=data_dir,
        database_url=str(url),
        timezone=timezone,
        workflows_dir=Path(str(workflows_dir)) if workflows_dir else None,
        now=now,
        config_file=cfg_path,
        smtp_host=smtp_key("smtp_host"),
        smtp_port=port,
        smtp_tls=tls,
        smtp_user=smtp_key("smtp_user"),
        smtp_password=smtp_key("smtp_password"),
        mail_from=str(pick("mail_from", mail, general, default="nckh@localhost")),
        office_email=pick("office_email", mail, general),
        base_url=base_url,
        web_secret=pick("web_secret", {"web_secret": web["secret"]} if "secret" in web else {}),
        upload_limit_mb=web_numbers["upload_limit_mb"],
        session_idle_minutes=web_numbers["session_idle_minutes"],
        sections=sections,
        offices=tuple(cfg.get("offices", ())),
    )


def _positive(value: Any, key: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or isinstance(value, bool):
        raise InputError(f"invalid {key} '{printable(str(value))}' (NCKH_{key.upper()} or "
                         f"[web] {key}): expected a whole number ≥ 1")
    return number
