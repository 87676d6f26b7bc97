"""`nckh application add|list`: where an accepted task's result is applied, transferred
(chuyển giao kỹ thuật) or shared under a cooperation agreement, and since when.

A thin shell over `Engine.add_application` / `list_applications`: it parses the days as people
write them (dd/mm/yyyy) and prints what the engine returns or refuses. `list --csv` writes the
register for Excel (';' and a BOM by default, as the reports).
"""

from __future__ import annotations

import sys

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json
from workflows.inputs import MAX_YEAR, MIN_YEAR

RECEIVERS_HELP = ("same_unit (tai-don-vi), public_province (cong-lap), private_hospital "
                  "(tu-nhan), lower_level (tuyen-duoi: trạm y tế, TTYT), outside_province "
                  "(ngoai-tinh)")


@click.group()
def application() -> None:
    """Application of accepted results (ứng dụng kết quả, chuyển giao, hợp tác)."""


@application.command("add")
@click.argument("task_id", type=int)
@click.option("--kind", required=True, metavar="KIND",
              help="applied (ap-dung), transfer (chuyen-giao) or cooperation (hop-tac).")
@click.option("--where", required=True, metavar="CODE|NAME",
              help="The receiving place: a registered unit's code, or an outside body's name.")
@click.option("--receiver-kind", required=True, metavar="KIND", help=RECEIVERS_HELP + ".")
@click.option("--since", "since_text", required=True, metavar="DD/MM/YYYY",
              help="The day it applies from (not in the future, not before the acceptance).")
@click.option("--doc-no", metavar="NO", help="Number of the transfer contract or agreement.")
@click.option("--doc-date", "doc_date_text", metavar="DD/MM/YYYY", help="Its day.")
@click.option("--note", help="A note (one line).")
@click.option("--as", "acting_as", metavar="EMAIL",
              help="The person this is recorded for: the office, the unit's head or the task's "
                   "investigator.")
@json_option
@pass_ctx
def application_add(ctx: Ctx, task_id: int, kind: str, where: str, receiver_kind: str,
                    since_text: str, doc_no: str | None, doc_date_text: str | None,
                    note: str | None, acting_as: str | None, as_json: bool) -> None:
    """Record where an accepted task's result is applied."""
    from engine.applications import ApplicationInput
    from workflows.clock import parse_date

    since = parse_date(since_text, what="--since")
    doc_date = parse_date(doc_date_text, what="--doc-date") if doc_date_text else None
    app = ctx.app()
    application_id = app.engine.add_application(
        ApplicationInput(task_id, kind, where, receiver_kind, since, doc_no=doc_no,
                         doc_date=doc_date, note=note),
        now=ctx.now(), operator=ctx.operator(acting_as))
    if want_json(ctx, as_json):
        emit_json({"id": application_id})
    else:
        click.echo(f"application {application_id} recorded")


@application.command("list")
@click.option("--unit", "unit_code", metavar="CODE", help="Only this unit's tasks.")
@click.option("--year", type=click.IntRange(MIN_YEAR, MAX_YEAR),
              help="Only those applied from a day of that year.")
@click.option("--as", "viewer", metavar="EMAIL",
              help="List what this person may see (a unit's head: their unit's only).")
@click.option("--csv", "as_csv", is_flag=True,
              help="CSV for Excel (UTF-8 with a BOM, ';' unless --delimiter).")
@click.option("--delimiter", metavar="SEP",
              help="CSV separator: ';', ',' or 'tab' (default: [reports] csv_delimiter).")
@json_option
@pass_ctx
def application_list(ctx: Ctx, unit_code: str | None, year: int | None, viewer: str | None,
                     as_csv: bool, delimiter: str | None, as_json: bool) -> None:
    """The applications recorded, oldest first."""
    from engine.applications import to_csv
    from engine.reports.config import csv_delimiter

    sep = csv_delimiter(delimiter, "--delimiter") if delimiter is not None else None
    app = ctx.app()
    rows = app.engine.list_applications(unit_code=unit_code, year=year, viewer_email=viewer)
    if as_csv:
        sys.stdout.buffer.write(to_csv(rows, sep or app.config.reports.csv_delimiter)
                                .encode("utf-8"))
        sys.stdout.flush()
        return
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    table(rows, [("id", "ID"), ("unit", "ĐƠN VỊ"), ("task_id", "NHIỆM VỤ"),
                 ("kind_label", "HÌNH THỨC"), ("place", "NƠI ÁP DỤNG"),
                 ("receiver_label", "LOẠI NƠI NHẬN"), ("since", "TỪ NGÀY"),
                 ("doc_no", "SỐ VĂN BẢN")])
