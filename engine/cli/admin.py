"""`nckh init`, `nckh unit …`, `nckh person …`: the database and the province's directory.

Every command that changes the directory records who ran it (the OS login) and, with `--as`, the
office person it was done for; `unit show` and `person show` print that history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json

AS_OFFICE = click.option("--as", "acting_as", metavar="EMAIL",
                         help="The office person this change is made for (recorded with it).")


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
@AS_OFFICE
@pass_ctx
def unit_add(ctx: Ctx, code: str, name: str, head_name: str, head_email: str,
             contact_email: str | None, kind: str, acting_as: str | None) -> None:
    """Register a unit and its head (registered as a person with role unit_head)."""
    from engine.directory import UnitInput

    ctx.app().engine.add_unit(
        UnitInput(code=code, name=name, head_name=head_name, head_email=head_email,
                  contact_email=contact_email, kind=kind), now=ctx.now(),
        operator=ctx.operator(acting_as))
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
                 ("contact_email", "CONTACT"), ("active", "ACTIVE")])


@unit.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@AS_OFFICE
@json_option
@pass_ctx
def unit_import(ctx: Ctx, file: Path, acting_as: str | None, as_json: bool) -> None:
    """Add or update units from a CSV file (all rows or none).

    Columns: code,name,head_name,head_email[,contact_email][,kind], separated by ',' or ';'
    (as Excel writes it with Vietnamese regional settings); UTF-8, header row first.
    A row naming another head than the unit's current one replaces that head (deactivated).
    """
    from workflows.errors import InputError

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"file not found: {file}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    counts = ctx.app().engine.import_units(text, str(file), now=ctx.now(),
                                           operator=ctx.operator(acting_as))
    if want_json(ctx, as_json):
        emit_json(counts)
        return
    click.echo(f"{file}: {counts['added']} added, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged")
    for r in counts["heads_replaced"]:
        click.echo(_replaced_line(r["unit"], r["new"], r["old"]))


def _replaced_line(unit: str, new: str, old: str | None) -> str:
    was = f" (replacing {old}, now inactive)" if old else ""
    return f"unit {unit}: head is now {new}{was}"


@unit.command("set-head")
@click.argument("code")
@click.option("--name", required=True, help="The new head's name.")
@click.option("--email", required=True, help="The new head's e-mail.")
@click.option("--title", help="Academic or professional title, e.g. TS.BS, BS.CKII.")
@AS_OFFICE
@pass_ctx
def unit_set_head(ctx: Ctx, code: str, name: str, email: str, title: str | None,
                  acting_as: str | None) -> None:
    """Replace the unit's head. The old head is deactivated (kept, with their history)."""
    change = ctx.app().engine.set_head(code, name=name, email=email, title=title,
                                       now=ctx.now(), operator=ctx.operator(acting_as))
    if change.outcome == "replaced":
        click.echo(_replaced_line(change.unit, change.new, change.old))
    elif change.outcome == "updated":
        click.echo(f"unit {change.unit}: head {change.new} updated")
    else:
        click.echo(f"unit {change.unit}: {change.new} is already its head; nothing changed")


@unit.command("deactivate")
@click.argument("code")
@click.option("--reason", required=True, help="Why (recorded in the unit's history).")
@AS_OFFICE
@pass_ctx
def unit_deactivate(ctx: Ctx, code: str, reason: str, acting_as: str | None) -> None:
    """Stop a unit: no new tasks or obligations; its open tasks run to their end."""
    open_tasks = ctx.app().engine.deactivate_unit(code, reason=reason, now=ctx.now(),
                                                  operator=ctx.operator(acting_as))
    click.echo(f"unit {code.strip()} deactivated")
    if open_tasks:
        click.echo(f"warning: unit {code.strip()} has {len(open_tasks)} open task(s), which "
                   f"run to their end: {_tasks_text(open_tasks)}")


@unit.command("activate")
@click.argument("code")
@AS_OFFICE
@pass_ctx
def unit_activate(ctx: Ctx, code: str, acting_as: str | None) -> None:
    """Make a deactivated unit active again (it needs an active head)."""
    ctx.app().engine.activate_unit(code, now=ctx.now(), operator=ctx.operator(acting_as))
    click.echo(f"unit {code.strip()} activated")


@unit.command("show")
@click.argument("code")
@json_option
@pass_ctx
def unit_show(ctx: Ctx, code: str, as_json: bool) -> None:
    """A unit's fields, its head, its past heads with dates, and its history."""
    d = ctx.app().engine.unit_detail(code)
    if want_json(ctx, as_json):
        emit_json(d)
        return
    click.echo(f"Unit {d['code']}: {d['name']}")
    head = d["head"]
    for key, value in (("kind", d["kind"]), ("contact", d["contact_email"] or "-"),
                       ("active", "yes" if d["active"] else "no"),
                       ("head", f"{_who(head)}" if head else "(none)"),
                       ("registered", _day(d["created_at"]))):
        click.echo(f"  {key:<11} {value}")
    click.echo("Past heads:")
    for h in d["past_heads"] or [None]:
        click.echo("  (none)" if h is None else
                   f"  {h['name']} <{h['email']}>  {_day(h['since'])} → {_day(h['until'])}")
    _print_history(d["history"])


def _who(p: dict[str, Any]) -> str:
    title = f"{p['title']} " if p.get("title") else ""
    return f"{title}{p['name']} <{p['email']}>"


def _day(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "?"


def _tasks_text(tasks: list[dict[str, Any]]) -> str:
    return ", ".join(f"{t['id']} ({t['unit']}, {t['state']})" for t in tasks)


def _print_history(history: list[dict[str, Any]]) -> None:
    click.echo("History:")
    if not history:
        click.echo("  (none recorded)")
    for h in history:
        by = h["operator"] + (f" as {h['acting_as']}" if h["acting_as"] else "")
        click.echo(f"  {_day(h['at'])}  {h['change']:<13} by {by}")
        for key, value in (h["details"] or {}).items():
            if isinstance(value, dict):
                value = f"{value.get('name', '')} <{value.get('email', '')}>"
            elif isinstance(value, list) and len(value) == 2:
                value = f"{value[0] or '-'} → {value[1] or '-'}"
            click.echo(f"       {key}: {'-' if value is None else value}")


@click.group()
def person() -> None:
    """People: office staff, council members, unit heads, investigators."""


@person.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["office", "council", "unit_head", "pi"]))
@click.option("--unit", "unit_code", help="Unit code (required for unit_head and pi).")
@click.option("--title", help="Academic or professional title, e.g. TS.BS, ThS.BS, BS.CKII.")
@AS_OFFICE
@pass_ctx
def person_add(ctx: Ctx, email: str, name: str, role: str, unit_code: str | None,
               title: str | None, acting_as: str | None) -> None:
    """Register a person with one role (a unit's head: see `unit set-head`)."""
    ctx.app().engine.add_person(email=email, name=name, role=role, unit_code=unit_code,
                                title=title, now=ctx.now(), operator=ctx.operator(acting_as))
    click.echo(f"person {email.strip().lower()} added ({role})")


@person.command("deactivate")
@click.argument("email")
@click.option("--reason", required=True, help="Why (recorded in the person's history).")
@AS_OFFICE
@pass_ctx
def person_deactivate(ctx: Ctx, email: str, reason: str, acting_as: str | None) -> None:
    """Take a person out of service: they may act on nothing and get no mail.

    Tasks they lead stay open; the head of their unit acts on them. A unit's active head is
    replaced with `unit set-head` instead.
    """
    open_tasks = ctx.app().engine.deactivate_person(email, reason=reason, now=ctx.now(),
                                                    operator=ctx.operator(acting_as))
    who = email.strip().lower()
    click.echo(f"person {who} deactivated")
    if open_tasks:
        click.echo(f"warning: {who} leads {len(open_tasks)} open task(s), which stay open; the "
                   f"head of their unit acts on them: {_tasks_text(open_tasks)}")


@person.command("activate")
@click.argument("email")
@AS_OFFICE
@pass_ctx
def person_activate(ctx: Ctx, email: str, acting_as: str | None) -> None:
    """Put a deactivated person back in service."""
    ctx.app().engine.activate_person(email, now=ctx.now(), operator=ctx.operator(acting_as))
    click.echo(f"person {email.strip().lower()} activated")


@person.command("show")
@click.argument("email")
@json_option
@pass_ctx
def person_show(ctx: Ctx, email: str, as_json: bool) -> None:
    """A person's fields, the open tasks they lead, and their history."""
    d = ctx.app().engine.person_detail(email)
    if want_json(ctx, as_json):
        emit_json(d)
        return
    click.echo(f"Person {d['email']}: {_who(d)}")
    for key, value in (("role", d["role"]), ("unit", d["unit"] or "-"),
                       ("active", "yes" if d["active"] else "no"),
                       ("registered", _day(d["created_at"]))):
        click.echo(f"  {key:<11} {value}")
    click.echo("Open tasks led:")
    if not d["open_tasks"]:
        click.echo("  (none)")
    for t in d["open_tasks"]:
        click.echo(f"  {t['id']:>5}  {t['unit']:<10} {t['state']:<18} {t['title']}")
    _print_history(d["history"])


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
                 ("unit", "UNIT"), ("active", "ACTIVE")])
