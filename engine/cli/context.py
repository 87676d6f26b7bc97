"""What every command shares: settings, the clock, the app (built on first use), and output."""

from __future__ import annotations

import datetime as dt
import json
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from engine.app import App
    from engine.directory_log import Operator
    from engine.settings import Settings


@dataclass
class Ctx:
    config: str | None = None
    env_file: str | None = None
    now_text: str | None = None
    json: bool = False
    # The login of whoever typed the command: set when the daemon runs it for them.
    login: str | None = None
    _settings: Settings | None = None
    _app: App | None = None
    _now: dt.datetime | None = field(default=None)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from engine.settings import load_settings

            self._settings = load_settings(config_file=self.config, now_text=self.now_text,
                                           env_file=self.env_file)
        return self._settings

    def now(self) -> dt.datetime:
        """The time this command acts at: --now/NCKH_NOW, else the system clock (read once)."""
        if self._now is None:
            from workflows.clock import FixedClock, SystemClock

            s = self.settings
            self._now = (FixedClock(s.now) if s.now else SystemClock(s.tz)).now()
        return self._now

    def app(self, *, check_schema: bool = True) -> App:
        if self._app is None:
            from engine.app import build

            self._app = build(self.settings, check_schema=check_schema)
        return self._app

    def operator(self, acting_as: str | None = None) -> Operator:
        """Who runs this command, for the directory's history: the OS login (read here, in the
        shell, never in the core) and the person named with --as, if any."""
        from engine.directory_log import Operator

        return Operator(self.login or os_login(), acting_as)

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


pass_ctx = click.make_pass_decorator(Ctx, ensure=True)


def os_login() -> str:
    """The login name of the process, or its uid when the system knows no name for it (a
    container user without a passwd entry)."""
    import getpass
    import os

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def json_option(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def want_json(ctx: Ctx, as_json: bool) -> bool:
    return ctx.json or as_json


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]],
          max_width: int = 60) -> None:
    """A plain aligned table; long cells are cut with an ellipsis."""
    if not rows:
        click.echo("(none)")
        return

    def cell(value: Any) -> str:
        text = "" if value is None else ("yes" if value is True else "no" if value is False
                                         else str(value))
        text = " ".join(text.split())
        return text if width(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[cell(r.get(key)) for key, _ in columns] for r in rows]
    widths = [max(width(h), *(width(c[i]) for c in cells)) for i, (_, h) in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True))

    click.echo(line([h for _, h in columns]).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for c in cells:
        click.echo(line(c).rstrip())


def err(message: str) -> None:
    click.echo(message, file=sys.stderr)
