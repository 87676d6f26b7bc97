"""`nckh init`, `nckh unit …`, `nckh person …`: the database and the province's directory."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json


@click.command()
@pass_ctx
def init(ctx: Ctx) -> None:
    """Create the database, or upgrade it to this version's schema."""
    from storage.migrate import upgrade

    app = ctx.app(check_schema=False)
    before, after = upgrade(app.db)
    where = app.settings.database_url.split("@")[-1]
    if before == after:
        click.echo(f"database is up to date (schema {after}): {where}")
    else:
        click.echo(f"database {'created' if before is None else 'upgraded'} "
                   f"(schema {before or '-'} → {after}): {where}")


@click.group()
def unit() -> None:
    """Units (đơn vị trực thuộc): hospitals and health centres."""


@unit.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Full name of the unit.")
@click.option("--head-name", required=True, help="The unit head's name (Thủ trưởng đơn vị).")
@click.option("--head-email", required=True, help="The unit head's e-mail.")
@click.option("--contact-email", help="The unit's research contact (thư ký KHCN).")
@click.option("--kind", type=click.Choice(["public", "private"]), default="public",
              show_default=True)
@pass_ctx
def unit_add(ctx: Ctx, code: str, name: str, head_name: str, head_email: str,
             contact_email: str | None, kind: str) -> None:
    """Register a unit and its head (registered as a person with role unit_head)."""
    from engine.directory import UnitInput

    ctx.app().engine.add_unit(
        UnitInput(code=code, name=name, head_name=head_name, head_email=head_email,
                  contact_email=contact_email, kind=kind), now=ctx.now())
    click.echo(f"unit {code} added")


@unit.command("list")
@json_option
@pass_ctx
def unit_list(ctx: Ctx, as_json: bool) -> None:
    """List units with their heads."""
    rows = ctx.app().engine.list_units()
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    table(rows, [("code", "CODE"), ("name", "NAME"), ("kind", "KIND"),
                 ("head_name", "HEAD"), ("head_email", "HEAD E-MAIL"),
                 ("contact_email", "CONTACT")])


@unit.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_ctx
def unit_import(ctx: Ctx, file: Path, as_json: bool) -> None:
    """Add or update units from a CSV file (all rows or none).

    Columns: code,name,head_name,head_email[,contact_email][,kind], separated by ',' or ';'
    (as Excel writes it with Vietnamese regional settings); UTF-8, header row first.
    """
    from engine.errors import InputError

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"file not found: {file}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    counts = ctx.app().engine.import_units(text, str(file), now=ctx.now())
    if want_json(ctx, as_json):
        emit_json(counts)
    else:
        click.echo(f"{file}: {counts['added']} added, {counts['updated']} updated, "
                   f"{counts['unchanged']} unchanged")


@click.group()
def person() -> None:
    """People: office staff, council members, unit heads, investigators."""


@person.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["office", "council", "unit_head", "pi"]))
@click.option("--unit", "unit_code", help="Unit code (required for unit_head and pi).")
@click.option("--title", help="Academic or professional title, e.g. TS.BS, ThS.BS, BS.CKII.")
@pass_ctx
def person_add(ctx: Ctx, email: str, name: str, role: str, unit_code: str | None,
               title: str | None) -> None:
    """Register a person with one role."""
    ctx.app().engine.add_person(email=email, name=name, role=role, unit_code=unit_code,
                                title=title, now=ctx.now())
    click.echo(f"person {email.strip().lower()} added ({role})")


@person.command("list")
@json_option
@pass_ctx
def person_list(ctx: Ctx, as_json: bool) -> None:
    """List people."""
    rows = ctx.app().engine.list_people()
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    table(rows, [("email", "E-MAIL"), ("name", "NAME"), ("title", "TITLE"), ("role", "ROLE"),
                 ("unit", "UNIT")])
