"""The environment file (`--env-file FILE` / `NCKH_ENV_FILE`): secrets read by nckh itself.

Admin commands used to get the service's secrets with `env $(cat nckh.env | xargs) nckh …`,
which puts every password in the process's arguments (any local user reads them with `ps`) and
in sudo's log. nckh reads the file instead, so the secrets only ever live in its memory. It is the
same file systemd's `EnvironmentFile=` reads for the daemon, in the subset both understand:

    # comment (also `;`)           blank lines are skipped
    NCKH_KEY=value                 spaces around the key and the value are trimmed
    NCKH_KEY="value"               quotes are removed; inside "…", \\" and \\\\ are a quote and
    NCKH_KEY='value'               a backslash; '…' is taken as it is

Only `NCKH_*` keys: the file is nckh's, and anything else (PATH, LD_PRELOAD…) is refused with
the file and line, not applied. A file every local user may read is refused when it holds a
password (`NCKH_SMTP_PASSWORD`, or a URL with a password): that would defeat its purpose.

This module parses and checks; `engine.settings` decides what wins (the real environment beats
the file, which beats the config file).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from urllib.parse import urlsplit

from workflows.errors import InputError

KEY = re.compile(r"NCKH_[A-Z0-9_]+")
SECRET_KEYS = ("NCKH_SMTP_PASSWORD",)


def read_env_file(path: Path) -> dict[str, str]:
    """The `NCKH_*` settings of an env file; `InputError` (one line, naming the file and line)
    for anything it cannot take."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"env file {path}: not a regular file")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"env file not found: {path}") from None
    except PermissionError:
        raise InputError(f"env file {path}: permission denied (run as a user who may read "
                         "it, e.g. the nckh user)") from None
    except OSError as exc:
        raise InputError(f"env file {path}: {exc.strerror or type(exc).__name__}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"env file {path}: not UTF-8 text (byte {exc.start})") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip()
        where = f"env file {path}, line {number}"
        if not sep or not key:
            raise InputError(f"{where}: expected KEY=VALUE")
        if not KEY.fullmatch(key):
            raise InputError(f"{where}: only NCKH_* settings are read from an env file, "
                             f"not '{key[:40]}'")
        if key == "NCKH_ENV_FILE":
            raise InputError(f"{where}: an env file cannot name another env file")
        values[key] = _unquote(value.strip(), where)
    if info.st_mode & stat.S_IROTH and (secret := _secret_in(values)):
        raise InputError(f"env file {path} holds a password ({secret}) and every local user may "
                         f"read it (mode {stat.S_IMODE(info.st_mode):04o}): "
                         f"chmod 600 {path}, or 640 with group nckh")
    return values


def _unquote(value: str, where: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        if value[0] == "'":
            return inner
        return re.sub(r"\\([\"\\])", r"\1", inner)
    if value[:1] in ("'", '"'):
        raise InputError(f"{where}: unterminated quote")
    return value


def _secret_in(values: dict[str, str]) -> str | None:
    """The first key holding a password, or None."""
    for key, value in values.items():
        if key in SECRET_KEYS and value:
            return key
        if "://" in value:
            try:
                if urlsplit(value).password:
                    return key
            except ValueError:  # not a URL after all (the settings will say so)
                continue
    return None
