"""`nckh session add|list`: the science sessions units held (sinh hoạt khoa học).

A thin shell over `Engine.add_session` / `list_sessions`: it parses the day as people write it
(dd/mm/yyyy), checks that a minutes file named with --file exists here (its path is what is
kept), and prints what the engine returns or refuses.
"""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json
from workflows.inputs import MAX_YEAR, MIN_YEAR


@click.group()
def session() -> None:
    """Science sessions held by the units (sinh hoạt khoa học)."""


@session.command("add")
@click.option("--unit", "unit_code", required=True, metavar="CODE", help="The unit that held it.")
@click.option("--date", "date_text", required=True, metavar="DD/MM/YYYY",
              help="The day it was held (not in the future).")
@click.option("--topic", required=True, help="Its topic (chủ đề).")
@click.option("--presenter-email", required=True, metavar="EMAIL", help="Who presented.")
@click.option("--presenter-name", metavar="NAME",
              help="The presenter's name (default: as registered, if they are).")
@click.option("--department", metavar="TEXT", help="The department that ran it (khoa/phòng).")
@click.option("--attendance", type=int, metavar="N", help="How many attended.")
@click.option("--file", "minutes", type=click.Path(path_type=Path), metavar="PATH",
              help="The minutes file (biên bản); its path is recorded.")
@click.option("--as", "acting_as", metavar="EMAIL",
              help="The person this is recorded for: the office or someone of the unit.")
@json_option
@pass_ctx
def session_add(ctx: Ctx, unit_code: str, date_text: str, topic: str, presenter_email: str,
                presenter_name: str | None, department: str | None, attendance: int | None,
                minutes: Path | None, acting_as: str | None, as_json: bool) -> None:
    """Record a session a unit held."""
    from engine.sessions import SessionInput
    from workflows.clock import parse_date
    from workflows.errors import InputError

    held_on = parse_date(date_text, what="--date")
    minutes_path: str | None = None
    if minutes is not None:
        if not minutes.is_file():
            raise InputError(f"--file {minutes}: no such file")
        minutes_path = str(minutes.resolve())
    session_id = ctx.app().engine.add_session(
        SessionInput(unit_code=unit_code, held_on=held_on, topic=topic,
                     presenter_email=presenter_email, presenter_name=presenter_name,
                     department=department, attendance=attendance, minutes_path=minutes_path),
        now=ctx.now(), operator=ctx.operator(acting_as))
    if want_json(ctx, as_json):
        emit_json({"id": session_id})
    else:
        click.echo(f"session {session_id} recorded")


@session.command("list")
@click.option("--unit", "unit_code", metavar="CODE", help="Only this unit's sessions.")
@click.option("--year", type=click.IntRange(MIN_YEAR, MAX_YEAR), help="Only sessions held then.")
@json_option
@pass_ctx
def session_list(ctx: Ctx, unit_code: str | None, year: int | None, as_json: bool) -> None:
    """The sessions recorded, oldest first."""
    app = ctx.app()
    rows = app.engine.list_sessions(app.config.scheduler.sessions, unit_code=unit_code,
                                    year=year)
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    shown = [{**r, "pi": "có" if r["presenter_is_pi"] else "không"} for r in rows]
    table(shown, [("id", "ID"), ("unit", "ĐƠN VỊ"), ("date", "NGÀY"), ("period", "KỲ"),
                  ("department", "KHOA/PHÒNG"), ("topic", "CHỦ ĐỀ"),
                  ("presenter_name", "NGƯỜI TRÌNH BÀY"), ("pi", "CHỦ NHIỆM ĐT"),
                  ("attendance", "SỐ NGƯỜI")])
