"""`nckh report compliance|progress|compilation`: the office's reports, printed or written to a
file.

Only click is imported at module top; the report code loads when a report runs. An output path
that cannot be written is refused before the database is read, and nothing is ever written to it
but a whole report (written to a temporary file beside it, then renamed), mode 0600: reports
name people and units.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from engine.cli.context import Ctx, pass_ctx

FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx", "json"]),
                      default="table", show_default=True, help="Output format.")
OUTPUT = click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path),
                      help="Write to FILE instead of standard output (required for xlsx on a "
                           "terminal).")
YEAR = click.option("--year", type=int, required=True, help="The plan year (e.g. 2025).")
AS_OF = click.option("--as-of", "as_of", metavar="DATE",
                     help="Report the state at the end of this day (DD/MM/YYYY or YYYY-MM-DD).")
DELIMITER = click.option("--delimiter", metavar="SEP",
                         help="CSV separator: ';', ',' or 'tab' (default: [reports] "
                              "csv_delimiter, ';' for Excel with Vietnamese settings).")


@click.group()
def report() -> None:
    """Compliance and progress reports for the Medical Affairs office (tổng hợp)."""


def _check_output(output: Path | None, fmt: str) -> None:
    from workflows.errors import InputError

    if output is None:
        if fmt == "xlsx" and sys.stdout.isatty():
            raise InputError("xlsx is binary: give --output FILE")
        return
    parent = output.expanduser().resolve().parent
    if output.is_dir():
        raise InputError(f"cannot write {output}: it is a directory")
    if not parent.is_dir():
        raise InputError(f"cannot write {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise InputError(f"cannot write {output}: permission denied")


def _write(data: bytes, output: Path | None) -> None:
    from workflows.errors import InputError

    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from storage.files import open_private

    target = output.expanduser()
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with os.fdopen(open_private(tmp), "wb") as fh:  # 0600 whatever the umask
            fh.write(data)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {target}", err=True)


def _run(ctx: Ctx, kind: str, year: int, as_of_text: str | None, fmt: str,
         output: Path | None, delimiter: str | None) -> None:
    from engine.reports.build import make_compilation, make_report, render
    from engine.reports.config import csv_delimiter
    from workflows.clock import parse_date
    from workflows.inputs import check_year

    check_year(year)
    as_of: dt.date | None = parse_date(as_of_text, what="--as-of") if as_of_text else None
    sep = csv_delimiter(delimiter, "--delimiter") if delimiter is not None else None
    _check_output(output, fmt)
    app = ctx.app()
    today = ctx.now().astimezone(app.settings.tz).date()
    result = (make_compilation(app.engine, year, today=today, as_of=as_of,
                               rules=app.report_rules()) if kind == "compilation" else
              make_report(app.engine, kind, year, today=today, as_of=as_of,
                          rules=app.report_rules()))
    _write(render(result, fmt, delimiter=sep or app.config.reports.csv_delimiter,
                  letterhead=app.config.reports.letterhead), output)


@report.command("compliance")
@YEAR
@AS_OF
@FORMAT
@DELIMITER
@OUTPUT
@pass_ctx
def compliance(ctx: Ctx, year: int, as_of: str | None, fmt: str, delimiter: str | None,
               output: Path | None) -> None:
    """Per unit: tasks by level and state, quota, outlines approved by 30/4, accepted by 1/12,
    published, overdue items, reports submitted on time; province totals, private units apart.
    As of today by default."""
    _run(ctx, "compliance", year, as_of, fmt, output, delimiter)


@report.command("progress")
@YEAR
@AS_OF
@FORMAT
@DELIMITER
@OUTPUT
@pass_ctx
def progress(ctx: Ctx, year: int, as_of: str | None, fmt: str, delimiter: str | None,
             output: Path | None) -> None:
    """The 6-month view: registered, outline approved, started, accepted, published, ended,
    overdue; as of 30 June by default."""
    _run(ctx, "progress", year, as_of, fmt, output, delimiter)


@report.command("compilation")
@YEAR
@AS_OF
@FORMAT
@DELIMITER
@OUTPUT
@pass_ctx
def compilation(ctx: Ctx, year: int, as_of: str | None, fmt: str, delimiter: str | None,
                output: Path | None) -> None:
    """The year's compilation the Sở sends up: "Tổng hợp" (per unit and for the province: plan
    and rules accepted, at least one valid task, tasks accepted, science sessions,
    publications, with rates) and "Danh mục" (each valid task with its approval and acceptance
    decisions, grade, publications). As of today by default."""
    _run(ctx, "compilation", year, as_of, fmt, output, delimiter)
