"""`nckh publication add|list`: the units' articles and other publications (bài báo, công bố).

A thin shell over `Engine.add_publication` / `list_publications`: it parses the day as people
write it (dd/mm/yyyy), reads a file named with --file and hands it to the file store, and prints
what the engine returns or refuses. `list --csv` writes the register for Excel (';' and a BOM by
default, as the reports).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json
from workflows.inputs import MAX_YEAR, MIN_YEAR

KINDS_HELP = ("journal_domestic, journal_international, conference, unit_website (the unit's "
              "website) or other")


@click.group()
def publication() -> None:
    """Articles and other publications of the units' research (bài báo, công bố)."""


@publication.command("add")
@click.option("--unit", "unit_code", metavar="CODE",
              help="The unit it belongs to (default: the unit of --task).")
@click.option("--task", "task_id", type=int, metavar="ID",
              help="The research task it reports on, if any (a task of that unit).")
@click.option("--title", required=True, help="Its title.")
@click.option("--authors", required=True, help="Its authors, as printed.")
@click.option("--kind", "venue_kind", required=True, metavar="KIND", help=f"Where: {KINDS_HELP}.")
@click.option("--venue", metavar="NAME",
              help="The journal, conference or site (default for unit_website: the unit).")
@click.option("--date", "date_text", required=True, metavar="DD/MM/YYYY",
              help="The day it appeared (not in the future).")
@click.option("--url", metavar="URL", help="Its address (required for unit_website).")
@click.option("--doi", metavar="DOI", help="Its DOI (10.NNNN/…).")
@click.option("--file", "file", type=click.Path(path_type=Path), metavar="PATH",
              help="The article as PDF, DOCX or XLSX, kept in nckh's file store (needs --as).")
@click.option("--as", "acting_as", metavar="EMAIL",
              help="The person this is recorded for: the office or someone of the unit.")
@json_option
@pass_ctx
def publication_add(ctx: Ctx, unit_code: str | None, task_id: int | None, title: str,
                    authors: str, venue_kind: str, venue: str | None, date_text: str,
                    url: str | None, doi: str | None, file: Path | None,
                    acting_as: str | None, as_json: bool) -> None:
    """Record a publication of a unit."""
    from engine.publications import Attachment, KeptFile, PublicationInput, keep_file
    from workflows.clock import parse_date
    from workflows.errors import InputError

    published_on = parse_date(date_text, what="--date")
    if unit_code is None and task_id is None:
        raise InputError("give --unit CODE or --task ID")
    app = ctx.app()
    kept: KeptFile | None = None
    if file is not None:
        if acting_as is None:
            raise InputError("--file needs --as: the person the file is recorded for")
        if not file.is_file():
            raise InputError(f"--file {file}: no such file")
        kept = keep_file(app.settings.data_dir / "files",
                         app.settings.upload_limit_mb * 1024 * 1024,
                         Attachment(file.name, file.read_bytes()))
    publication_id = app.engine.add_publication(
        PublicationInput(unit_code=unit_code, task_id=task_id, title=title, authors=authors,
                         venue_kind=venue_kind.strip().replace("-", "_"), venue_name=venue,
                         published_on=published_on, url=url, doi=doi),
        now=ctx.now(), operator=ctx.operator(acting_as), kept=kept)
    if want_json(ctx, as_json):
        emit_json({"id": publication_id})
    else:
        click.echo(f"publication {publication_id} recorded")


@publication.command("list")
@click.option("--unit", "unit_code", metavar="CODE", help="Only this unit's publications.")
@click.option("--year", type=click.IntRange(MIN_YEAR, MAX_YEAR),
              help="Only those published that year.")
@click.option("--csv", "as_csv", is_flag=True,
              help="CSV for Excel (UTF-8 with a BOM, ';' unless --delimiter).")
@click.option("--delimiter", metavar="SEP",
              help="CSV separator: ';', ',' or 'tab' (default: [reports] csv_delimiter).")
@json_option
@pass_ctx
def publication_list(ctx: Ctx, unit_code: str | None, year: int | None, as_csv: bool,
                     delimiter: str | None, as_json: bool) -> None:
    """The publications recorded, oldest first."""
    from engine.publications import to_csv
    from engine.reports.config import csv_delimiter

    sep = csv_delimiter(delimiter, "--delimiter") if delimiter is not None else None
    app = ctx.app()
    rows = app.engine.list_publications(unit_code=unit_code, year=year)
    if as_csv:
        sys.stdout.buffer.write(to_csv(rows, sep or app.config.reports.csv_delimiter)
                                .encode("utf-8"))
        sys.stdout.flush()
        return
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    table(rows, [("id", "ID"), ("unit", "ĐƠN VỊ"), ("date", "NGÀY"), ("venue_label", "LOẠI"),
                 ("venue_name", "NƠI CÔNG BỐ"), ("title", "TÊN BÀI"), ("authors", "TÁC GIẢ"),
                 ("task_id", "NHIỆM VỤ")])
