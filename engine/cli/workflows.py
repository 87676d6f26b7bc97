"""`nckh workflow …`: the definitions in force, their validation and diagrams."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json


@click.group()
def workflow() -> None:
    """Workflow definitions (workflows/definitions/*.yaml)."""


def _registry(ctx: Ctx):  # type: ignore[no-untyped-def]
    from workflows.registry import Registry

    return Registry(ctx.settings.workflows_dir)


@workflow.command("list")
@json_option
@pass_ctx
def workflow_list(ctx: Ctx, as_json: bool) -> None:
    """The workflows in force."""
    reg = _registry(ctx)
    rows = []
    for name in reg.names():
        wf = reg.get(name)
        rows.append({"name": wf.name, "version": wf.version, "level": wf.level,
                     "label": wf.labels.vi, "label_en": wf.labels.en, "states": len(wf.states),
                     "events": len(wf.events), "sha256": wf.sha256[:12]})
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    table(rows, [("name", "NAME"), ("version", "VER"), ("level", "LEVEL"), ("states", "STATES"),
                 ("events", "EVENTS"), ("sha256", "SHA256"), ("label", "LABEL")])


@workflow.command("show")
@click.argument("name")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@json_option
@pass_ctx
def workflow_show(ctx: Ctx, name: str, lang: str, as_json: bool) -> None:
    """States, deadlines and events of one workflow."""
    from workflows.describe import describe

    wf = _registry(ctx).get(name)
    data = describe(wf, lang)
    if want_json(ctx, as_json):
        emit_json(data)
        return
    click.echo(f"{wf.name} v{wf.version} — {wf.labels.get(lang)}  (initial: {wf.initial})")
    click.echo("States:")
    for st in data["states"]:
        extra = " [final]" if st["final"] else f"  deadline {st['deadline']}" if st["deadline"] \
            else ""
        click.echo(f"  {st['name']:<20} {st['label']}{extra}")
    click.echo("Events:")
    for ev in data["events"]:
        barred = f"; not by {', '.join(ev['not_by'])}" if ev["not_by"] else ""
        click.echo(f"  {ev['name']:<18} {', '.join(ev['from'])} → {ev['to']}  "
                   f"[{', '.join(ev['roles'])}{barred}]  {ev['label']}")


@workflow.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def workflow_validate(ctx: Ctx, file: Path) -> None:
    """Check a definition file; prints file:line: reason and exits 2 if invalid."""
    from workflows.loader import load_file
    from workflows.machine import CompiledWorkflow

    wf = load_file(file)
    CompiledWorkflow(wf)
    click.echo(f"{file}: valid ({wf.name} v{wf.version}, {len(wf.states)} states, "
               f"{len(wf.events)} events, sha256 {wf.sha256[:12]})")


@workflow.command("diagram")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@pass_ctx
def workflow_diagram(ctx: Ctx, name: str, fmt: str, lang: str) -> None:
    """Print a state diagram (Mermaid or Graphviz dot)."""
    from workflows.describe import diagram

    click.echo(diagram(_registry(ctx).get(name), fmt, lang), nl=False)
