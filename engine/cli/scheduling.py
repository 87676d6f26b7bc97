"""`nckh daemon | tick | status | calendar`: the scheduler's shell.

`tick` and the daemon run the same pass (`App.tick`: calendar jobs and due timers first, then the
other components' jobs such as the outbox dispatcher), so `NCKH_NOW=… nckh tick` is exactly what
the daemon would do at that moment.
"""

from __future__ import annotations

from typing import Any

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json
from workflows.inputs import MAX_YEAR, MIN_YEAR

LOG_LEVEL = click.option("--log-level", envvar="NCKH_LOG_LEVEL", default="info",
                         show_default=True,
                         type=click.Choice(["debug", "info", "warning", "error"]),
                         help="Structured (JSON) logs on stderr. Env: NCKH_LOG_LEVEL.")


@click.command()
@click.option("--interval", "interval_s", type=click.FloatRange(min=0.05), metavar="SECONDS",
              help="Seconds between sweeps (default: [scheduler] interval_s, 5).")
@LOG_LEVEL
@pass_ctx
def daemon(ctx: Ctx, interval_s: float | None, log_level: str) -> None:
    """Run the scheduler until SIGTERM/SIGINT; finish the work in hand, then exit 0.

    While it runs, it also answers the office's data-entry commands (`nckh task …`, `unit`,
    `person`, `council`, `session`, … `status`) run by the same user on this machine, which then
    start in a fraction of the time; NCKH_LOCAL=1 runs a command on its own.

    With --now/NCKH_NOW the daemon's clock starts at that instant and runs in real time.
    """
    from engine.cli.server import CommandServer
    from engine.scheduling.daemon import Daemon, setup_logging
    from workflows.clock import RunningClock, SystemClock

    setup_logging(log_level)
    app = ctx.app()
    settings = ctx.settings
    clock = RunningClock(settings.now) if settings.now else SystemClock(settings.tz)
    interval = interval_s or app.config.scheduler.interval_s
    with CommandServer(settings):  # answers `nckh task …` and the like (engine.cli.forward)
        Daemon(app, clock, interval).run()


@click.command()
@LOG_LEVEL
@json_option
@pass_ctx
def tick(ctx: Ctx, log_level: str, as_json: bool) -> None:
    """One pass of everything due as of now (honours --now / NCKH_NOW)."""
    from engine.scheduling.daemon import setup_logging

    setup_logging(log_level if log_level != "info" else "warning")
    now = ctx.now()
    app = ctx.app()
    app.start()
    counts = {name: dict(c) for name, c in app.tick(now).items()}
    if want_json(ctx, as_json):
        emit_json({"now": now.isoformat(), **counts})
        return
    click.echo(f"tick at {now.isoformat(timespec='minutes')}")
    for name, c in counts.items():
        click.echo(f"  {name}: " + (", ".join(f"{k}={v}" for k, v in c.items()) or "nothing"))


@click.command()
@json_option
@pass_ctx
def status(ctx: Ctx, as_json: bool) -> None:
    """Daemons alive (heartbeats), due and overdue timers, next firings."""
    from engine.scheduling.status import status as read_status

    data = read_status(ctx.app(), ctx.now())
    if want_json(ctx, as_json):
        emit_json(data)
        return
    alive = [d for d in data["daemons"] if d["alive"]]
    hours = ("business hours" if data["business_hours"] else
             "quiet: timers wait for the next working day at the send hour")
    click.echo(f"now {data['now']} ({hours})")
    click.echo(f"daemons alive: {len(alive)}")
    for d in alive:
        click.echo(f"  {d['id']}  last heartbeat {d['beat_at']}  passes {d['passes']}  "
                   f"fired {d['fired']}")
    t = data["timers"]
    click.echo(f"timers: {t['pending']} pending, {t['due']} due, {t['overdue']} overdue; "
               f"{t['fired']} fired, {t['skipped']} skipped, {t['cancelled']} cancelled")
    if t["overdue"] and not alive:
        click.echo("WARNING: timers are overdue and no daemon is alive: start `nckh daemon`")
    click.echo("next firings:")
    rows: list[dict[str, Any]] = data["next"]
    for r in rows:
        r["what"] = r["kind"] + (f" → {r['to_role']}" if r["to_role"] else
                                 f" {r['days']}d" if r["kind"] == "reminder" else "")
    table(rows, [("at", "AT"), ("task_id", "TASK"), ("what", "WHAT"), ("state", "STATE"),
                 ("due_on", "DUE")])


@click.group()
def calendar() -> None:
    """Calendar obligations and the business calendar."""


@calendar.command("list")
@json_option
@pass_ctx
def calendar_list(ctx: Ctx, as_json: bool) -> None:
    """The obligations and calendar jobs, and when each fires next."""
    from engine.scheduling.status import calendar_list as read_list

    rows = read_list(ctx.app(), ctx.now())
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    table(rows, [("job", "JOB"), ("when", "WHEN"), ("next_run", "NEXT RUN"),
                 ("last_run", "LAST RUN")])


@calendar.command("days-off")
@click.option("--year", type=click.IntRange(MIN_YEAR, MAX_YEAR), help="Default: the current year.")
@json_option
@pass_ctx
def calendar_days_off(ctx: Ctx, year: int | None, as_json: bool) -> None:
    """Public holidays, swapped days off and make-up working Saturdays of a year (with the
    configured overrides), named in Vietnamese."""
    from workflows.calendar import WEEKDAYS_VI
    from workflows.dates import shown

    cal = ctx.app(check_schema=False).config.scheduler.calendar
    year = year or ctx.now().year
    days = [(d, name, "off") for d, name in cal.days_off(year)]
    days += [(d, "Ngày làm việc bù", "worked") for d in cal.make_up_days(year)]
    rows = [{"date": d.isoformat(), "day": shown(d), "weekday": WEEKDAYS_VI[d.weekday()],
             "kind": kind, "name": name} for d, name, kind in sorted(days)]
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    table([{**r, "kind": "nghỉ" if r["kind"] == "off" else "làm bù"} for r in rows],
          [("day", "NGÀY"), ("weekday", "THỨ"), ("kind", "LOẠI"), ("name", "TÊN")])
    if year not in cal.confirmed_years:
        click.echo(f"\nChưa xác nhận lịch hoán đổi ngày làm việc năm {year}: "
                   "bổ sung khi có văn bản của Chính phủ ([calendar] trong cấu hình).")
