"""`nckh sample load`, `nckh demo`, `nckh doctor`: the newcomer's first hour and the operator's
health check.

Only click is imported at module top; each command imports what it needs when it runs.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, want_json


def _progress(length: int, label: str, *, show_item: bool = False) -> Any:
    """A progress bar on stderr (stdout stays clean for the results and --json)."""
    def show(item: Any) -> str | None:
        return str(item) if item is not None and show_item else None

    return click.progressbar(length=length, label=label, file=sys.stderr,
                             item_show_func=show)


@click.group()
def sample() -> None:
    """A sample province (the units of the Vĩnh Phúc plan 57/KH-SYT) to try nckh on."""


@sample.command("load")
@click.option("--year", type=int, help="Plan year to play (default: the current year).")
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path),
              help="Another province file in the same format (default: the packaged one).")
@json_option
@pass_ctx
def sample_load(ctx: Ctx, year: int | None, file: Path | None, as_json: bool) -> None:
    """Create the sample units, heads, contacts, office and council, and tasks in varied states.

    Each step is fired through the engine on its day of the year (steps later than today wait);
    a second run adds nothing.
    """
    from engine.sample.data import read
    from engine.sample.loader import check_year, load, script

    now = ctx.now()
    app = ctx.app()
    year = year if year is not None else now.astimezone(app.settings.tz).year
    check_year(year, now, app.settings.tz)
    province = read(file)
    steps = len(script(province, year, app.settings.tz))
    with _progress(steps, "Loading the sample province") as bar:

        def advance(_action: object) -> None:
            bar.update(1)

        done = load(app.engine, province, year, now=now, on_action=advance,
                    operator=ctx.operator())
    counts = {"year": year, "units": done.units, "people": done.people, "tasks": done.tasks,
              "transitions": done.transitions, "already_loaded": done.skipped_tasks,
              "steps_later_than_now": done.pending_steps,
              "publications": done.publications, "councils": done.councils,
              "recognitions": done.recognitions}
    if want_json(ctx, as_json):
        emit_json(counts)
        return
    if not (done.units or done.people or done.tasks):
        click.echo(f"sample province {year}: already loaded, nothing added")
        return
    click.echo(f"sample province {year}: {done.units} units, {done.people} people, "
               f"{done.tasks} tasks, {done.transitions} transitions"
               + (f" ({done.pending_steps} steps dated after today wait)"
                  if done.pending_steps else ""))


@click.command()
@click.option("--year", type=int, required=True, help="The year to replay, e.g. 2025.")
@click.option("--report/--no-report", default=True, show_default=True,
              help="End with the compliance report.")
@json_option
@pass_ctx
def demo(ctx: Ctx, year: int, report: bool, as_json: bool) -> None:
    """Replay the sample province's year at high speed, in a database of its own.

    One tick per day at 08:00 local (exactly what the daemon does then), the sample's transitions
    on their dates, the units answering their calendar obligations; then a timeline of the
    e-mails (from the outbox) and the compliance report as of 31 December. Runs in
    DATA_DIR/demo-YEAR (wiped first), with SMTP off: e-mails land in its maildir.
    """
    from engine.reports.build import make_report
    from engine.reports.build import render as render_report
    from engine.reports.render import to_data
    from engine.sample.data import read
    from engine.sample.demo import (
        demo_settings,
        format_line,
        format_recipient,
        fresh_app,
        grouped,
        per_recipient,
        play_year,
        timeline,
    )
    from engine.sample.loader import check_year

    province = read()
    settings = demo_settings(ctx.settings, year, province)
    check_year(year, dt.datetime(year, 12, 31, 23, 59, tzinfo=settings.tz), settings.tz)
    app = fresh_app(settings)
    try:
        days = (dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1
        with _progress(days, f"Replaying {year}", show_item=True) as bar:

            def advance(day: dt.date) -> None:
                bar.update(1, day)

            totals = play_year(app, province, year, on_day=advance)
        rows = timeline(app)
        recipients = per_recipient(rows)
        result = (make_report(app.engine, "compliance", year, today=dt.date(year, 12, 31),
                              rules=app.report_rules())
                  if report else None)
    finally:
        app.close()
    if want_json(ctx, as_json):
        emit_json({"year": year, "totals": totals, "timeline": rows, "recipients": recipients,
                   "maildir": str(settings.maildir),
                   "report": to_data(result) if result else None})
        return
    click.echo(f"Timeline of e-mails, {year} ({len(rows)} messages; one line per moment, kind "
               "and subject):")
    for group in grouped(rows):
        click.echo(format_line(group))
    click.echo(f"\n{totals['tasks']} tasks, {totals['transitions']} transitions, "
               f"{totals['submitted']} reports submitted; e-mails in {settings.maildir}\n")
    if result is not None:
        click.echo(render_report(result, "table").decode())
    click.echo(f"E-mails per recipient ({len(rows)} in all): total, busiest day (e-mails that "
               "day), what they carried")
    for row in recipients:
        click.echo(format_recipient(row))


@click.command()
@json_option
@pass_ctx
def doctor(ctx: Ctx, as_json: bool) -> None:
    """Check the configuration, the database schema, the SMTP server, the templates and the
    calendar's swap data (warns when this year's, or from 1 November next year's, is missing).

    Exits 1 when something needs fixing, and says what to do.
    """
    from engine.doctor import run_checks

    results = run_checks(lambda: ctx.settings, lambda: ctx.now().date())
    if want_json(ctx, as_json):
        emit_json([r.as_dict() for r in results])
    else:
        for r in results:
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}[r.status]
            click.echo(f"[{mark}] {r.name}: {r.detail}")
            if r.fix:
                click.echo(f"       fix: {r.fix}")
    if any(r.status == "fail" for r in results):
        ctx.close()
        raise SystemExit(1)
