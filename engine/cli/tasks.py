"""`nckh task …`: register tasks, list and show them, list and fire their events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json
from workflows.clock import parse_date
from workflows.model import RESEARCH_LEVELS

if TYPE_CHECKING:
    from engine.taskextras import ExtrasInput

def extras_options(f: Any) -> Any:
    """The options of a task's extras (engine/taskextras.py), shared by `new` and `edit-extras`."""
    for option in reversed((
        click.option("--starts", metavar="DD/MM/YYYY", help="Start date (multi-year task)."),
        click.option("--ends", metavar="DD/MM/YYYY",
                     help="End date: the acceptance deadline falls on it once work starts."),
        click.option("--funding-source", metavar="SOURCE",
                     help="ngan-sach-su-nghiep, quy-khcn-tinh, don-vi or khac (or recurrent, "
                          "provincial-fund, unit, other)."),
        click.option("--funding-amount", metavar="VND", help="Amount in đồng: 150.000.000."),
        click.option("--member", "members", multiple=True, metavar="'NAME <EMAIL>:ROLE'",
                     help="A co-investigator (e-mail optional); repeatable."),
    )):
        f = option(f)
    return f


def extras_input(starts: str | None, ends: str | None, funding_source: str | None,
                 funding_amount: str | None, members: tuple[str, ...],
                 no_members: bool = False) -> ExtrasInput:
    from engine.taskextras import ExtrasInput

    return ExtrasInput(starts, ends, funding_source, funding_amount,
                       () if no_members else (members or None))


LANG = click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
                    help="Language of state and event labels.")


@click.group()
def task() -> None:
    """Research tasks (đề tài, nhiệm vụ, sáng kiến)."""


@task.command("new")
@click.option("--unit", "unit_code", required=True, help="Unit code.")
@click.option("--level", required=True, type=click.Choice(RESEARCH_LEVELS))
@click.option("--title", required=True)
@click.option("--pi-email", required=True, help="Principal investigator (chủ nhiệm) e-mail.")
@click.option("--pi-name", help="Registers the investigator if the e-mail is new.")
@click.option("--year", type=int, help="Plan year (default: the current year).")
@click.option("--topic", type=int, help="Topic group 1–5 (seed 003, §2.3).")
@click.option("--as", "actor", metavar="EMAIL",
              help="Who registers it (recorded in history): the office for any unit, a unit "
                   "head for their unit, an investigator for themselves in their unit.")
@click.option("--backdate", metavar="DATE",
              help="The task really began on DATE (it was under way before nckh): recorded as "
                   "of that day, and none of its past is mailed.")
@extras_options
@json_option
@pass_ctx
def task_new(ctx: Ctx, unit_code: str, level: str, title: str, pi_email: str,
             pi_name: str | None, year: int | None, topic: int | None, actor: str | None,
             backdate: str | None, starts: str | None, ends: str | None,
             funding_source: str | None, funding_amount: str | None, members: tuple[str, ...],
             as_json: bool) -> None:
    """Register a task; prints its id."""
    began = parse_date(backdate, what="--backdate") if backdate is not None else None
    extras = extras_input(starts, ends, funding_source, funding_amount, members)
    task_id = ctx.app().engine.create_task(
        unit_code=unit_code, level=level, title=title, pi_email=pi_email, pi_name=pi_name,
        year=year, topic=topic, actor_email=actor, now=ctx.now(), operator=ctx.operator(),
        backdate=began, extras=extras if extras.given() else None)
    if want_json(ctx, as_json):
        emit_json({"id": task_id})
    else:
        click.echo(task_id)


@task.command("edit-extras")
@click.argument("task_id", type=int)
@extras_options
@click.option("--no-members", is_flag=True, help="Remove every co-investigator.")
@click.option("--as", "acting_as", metavar="EMAIL",
              help="The person this is changed for: the office, the unit's head or the "
                   "task's investigator.")
@pass_ctx
def task_edit_extras(ctx: Ctx, task_id: int, starts: str | None, ends: str | None,
                     funding_source: str | None, funding_amount: str | None,
                     members: tuple[str, ...], no_members: bool,
                     acting_as: str | None) -> None:
    """Set a task's start and end dates, funding or co-investigators (--member replaces the
    whole team). The open deadline does not move: fire `extend` for that."""
    from workflows.errors import InputError

    if no_members and members:
        raise InputError("--no-members and --member exclude each other")
    ctx.app().engine.set_extras(
        task_id, extras_input(starts, ends, funding_source, funding_amount, members,
                              no_members), now=ctx.now(), operator=ctx.operator(acting_as))
    click.echo(f"task {task_id}: extras recorded")


@task.command("list")
@click.option("--unit", "unit_code")
@click.option("--state", help="A state's name (in_progress) or its label as the table shows "
              "it (\"Đang thực hiện\", marks optional).")
@click.option("--year", type=int)
@click.option("--overdue", is_flag=True, help="Only tasks with an open deadline that has passed.")
@LANG
@json_option
@pass_ctx
def task_list(ctx: Ctx, unit_code: str | None, state: str | None, year: int | None,
              overdue: bool, lang: str, as_json: bool) -> None:
    """List tasks."""
    rows = ctx.app().engine.list_tasks(now=ctx.now(), unit=unit_code, state=state, year=year,
                                       overdue=overdue, lang=lang)
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    for r in rows:
        r["due"] = (r["due_on"] or "") + (" OVERDUE" if r["overdue"] else "")
    table(rows, [("id", "ID"), ("unit", "UNIT"), ("level", "LEVEL"), ("year", "YEAR"),
                 ("state", "STATE"), ("due", "DUE"), ("title", "TITLE")], max_width=50)


@task.command("search")
@click.argument("text")
@click.option("--unit", "unit_code", help="Only this unit's tasks.")
@LANG
@json_option
@pass_ctx
def task_search(ctx: Ctx, text: str, unit_code: str | None, lang: str, as_json: bool) -> None:
    """Tasks whose title, investigator, unit or decision number hold every word of TEXT
    (case and Vietnamese marks ignored: "dai thao duong" finds "đái tháo đường")."""
    found = ctx.app().engine.search_tasks(text, now=ctx.now(), unit=unit_code, lang=lang)
    if want_json(ctx, as_json):
        emit_json(found)
        return
    rows = found["rows"]
    for r in rows:
        r["due"] = (r["due_on"] or "") + (" OVERDUE" if r["overdue"] else "")
        r["decision"] = ", ".join(r["decisions"])
    table(rows, [("id", "ID"), ("unit", "UNIT"), ("year", "YEAR"), ("state", "STATE"),
                 ("due", "DUE"), ("pi_name", "PI"), ("decision", "DECISION"),
                 ("title", "TITLE")], max_width=50)
    if found["total"] > len(rows):
        click.echo(f"{found['total']} found; the first {len(rows)} shown.")


@task.command("show")
@click.argument("task_id", type=int)
@LANG
@json_option
@pass_ctx
def task_show(ctx: Ctx, task_id: int, lang: str, as_json: bool) -> None:
    """A task's fields, deadlines and full history."""
    detail = ctx.app().engine.task_detail(task_id, now=ctx.now(), lang=lang)
    if want_json(ctx, as_json):
        emit_json(detail)
        return
    _print_detail(detail)


def _print_detail(d: dict[str, Any]) -> None:
    click.echo(f"Task {d['id']}: {d['title']}")
    fields = [
        ("workflow", f"{d['workflow']} v{d['workflow_version']} ({d['workflow_label']})"),
        ("state", f"{d['state']} — {d['state_label']}"),
        ("unit", f"{d['unit']} — {d['unit_name']}"),
        ("investigator", f"{d['pi']['name']} <{d['pi']['email']}>"),
        ("year", str(d["year"])),
        ("topic group", str(d["topic"] or "-")),
        ("version", str(d["version"])),
    ]
    for key, value in fields:
        click.echo(f"  {key:<13} {value}")
    click.echo("Deadlines:")
    if not d["deadlines"]:
        click.echo("  (none)")
    for dl in d["deadlines"]:
        status = ("OVERDUE" if dl["overdue"] else "open") if dl["open"] else dl["outcome"]
        label = f" — {dl['label']}" if dl["label"] else ""
        click.echo(f"  {dl['due_on']}  {dl['state']:<18} {dl['rule']:<22} {status}{label}")
    for section, rows in d.get("extra", {}).items():
        click.echo(f"{section}:")
        for row in rows or ["(none)"]:
            click.echo(f"  {row}")
    click.echo("History:")
    for h in d["history"]:
        src = h["from"] or "-"
        at = h["at"][:16].replace("T", " ")  # minutes are enough to read; --json has the rest
        by = f"by {h['actor']} ({h['role']})"
        if h.get("recorded_by"):
            by = f"recorded by {h['recorded_by']} (office) for {h['actor']} ({h['role']})"
        if h.get("operator"):
            by += f", entered by {h['operator']} (OS login)"
        click.echo(f"  {h['seq']:>3}. {at}  {h['event']}: {src} → {h['to']}  {by}")
        if h["reason"]:
            click.echo(f"       reason: {h['reason']}")
        for key, value in (h["data"] or {}).items():
            click.echo(f"       {key}: {value}")


@task.command("events")
@click.argument("task_id", type=int)
@click.option("--as", "actor", metavar="EMAIL", help="Only the events this person may fire.")
@LANG
@json_option
@pass_ctx
def task_events(ctx: Ctx, task_id: int, actor: str | None, lang: str, as_json: bool) -> None:
    """Events that can fire now (for one person, with --as)."""
    events = ctx.app().engine.allowed_events(task_id, actor)
    rows: list[dict[str, Any]] = [{
        "event": ev.name, "label": ev.labels.get(lang), "to": ev.dest,
        "roles": sorted(ev.roles), "reason": ev.reason,
        "fields": [{"name": f.name, "type": f.type, "required": f.required} for f in ev.fields],
        "one_of": [list(g) for g in ev.one_of],
    } for ev in events]
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    for r in rows:
        needs = [f"--set {f['name']}=<{f['type']}>" + ("" if f["required"] else "?")
                 for f in r["fields"]]
        if r["reason"] == "required":
            needs.insert(0, "--reason")
        r["roles_text"] = ",".join(r["roles"])
        r["needs"] = " ".join(needs)
    table(rows, [("event", "EVENT"), ("to", "TO"), ("roles_text", "ROLES"), ("needs", "DATA"),
                 ("label", "LABEL")])


@task.command("fire")
@click.argument("task_id", type=int)
@click.argument("event")
@click.option("--as", "actor", metavar="EMAIL", required=True,
              help="On whose behalf it is fired: the person the engine checks and the history "
                   "names, with your OS login recorded beside as the operator who typed it.")
@click.option("--reason", help="Why (required to reject, cancel, suspend, extend…).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Event data; repeatable.")
@click.option("--at", "at_text", metavar="DATETIME",
              help="Effective time of the decision (default: now); may be in the past.")
@click.option("--expect-version", type=int,
              help="Refuse with a conflict unless the task is still at this version.")
@json_option
@pass_ctx
def task_fire(ctx: Ctx, task_id: int, event: str, actor: str, reason: str | None,
              sets: tuple[str, ...], at_text: str | None, expect_version: int | None,
              as_json: bool) -> None:
    """Fire EVENT on task ID as a person."""
    from workflows.clock import parse_datetime
    from workflows.errors import InputError

    data: dict[str, str] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set '{item}': expected KEY=VALUE")
        if key.strip() in data:
            raise InputError(f"--set {key.strip()} given twice")
        data[key.strip()] = value
    at = parse_datetime(at_text, ctx.settings.tz, what="--at") if at_text else None
    fired = ctx.app().engine.fire(task_id, event, actor_email=actor, reason=reason, data=data,
                                  at=at, now=ctx.now(), expected_version=expect_version,
                                  operator=ctx.operator().login)
    if want_json(ctx, as_json):
        emit_json({"id": fired.task_id, "event": fired.event, "from": fired.from_state,
                   "to": fired.to_state, "version": fired.version})
    else:
        click.echo(f"task {fired.task_id}: {fired.event}: {fired.from_state} → {fired.to_state}")


@task.command("recognise")
@click.argument("task_id", type=int)
@click.option("--decision-no", required=True, help="Number of the recognition decision.")
@click.option("--date", "date_text", required=True, metavar="DD/MM/YYYY",
              help="Day of the decision (not in the future, not before the acceptance).")
@click.option("--by", "issuer", default="so", show_default=True, metavar="WHO",
              help="so (the Department of Health) or hoi-dong (the sector science council).")
@click.option("--as", "acting_as", metavar="EMAIL",
              help="The person this is recorded for: the office or the unit's head.")
@json_option
@pass_ctx
def task_recognise(ctx: Ctx, task_id: int, decision_no: str, date_text: str, issuer: str,
                   acting_as: str | None, as_json: bool) -> None:
    """Record the recognition (công nhận) of an accepted task's results."""
    from engine.councils import RecognitionInput

    day = parse_date(date_text, what="--date")
    recognition_id = ctx.app().engine.recognise(
        RecognitionInput(task_id, decision_no, day, issuer=issuer), now=ctx.now(),
        operator=ctx.operator(acting_as))
    if want_json(ctx, as_json):
        emit_json({"id": recognition_id, "task": task_id})
    else:
        click.echo(f"task {task_id}: recognised ({recognition_id})")
