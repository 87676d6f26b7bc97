"""`nckh council set|outcome`: a task's councils and the acceptance council's verdict.

A thin shell over `Engine.set_council` / `record_outcome`: it parses the days as people write
them (dd/mm/yyyy; `--meeting`, the day a council meets, which its members' notices
give), splits `--member EMAIL:ROLE`, hands a `--minutes` file to the file store (as
`publication add --file` does), and prints what the engine returns or refuses. Recording the
outcome fires the workflow's own event (`accept`, `fail_acceptance`, `fail_reevaluation`), so the
task moves exactly as `nckh task fire` would move it.
"""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx

ROLES_HELP = "chair|chu-tich, secretary|thu-ky, reviewer|phan-bien, member|uy-vien"


@click.group()
def council() -> None:
    """Councils of a task's outline review and acceptance (hội đồng), and their outcome."""


@council.command("set")
@click.argument("task_id", type=int)
@click.option("--decision-no", required=True, help="Number of the decision establishing it.")
@click.option("--decision-date", "date_text", required=True, metavar="DD/MM/YYYY",
              help="Day of that decision (not in the future).")
@click.option("--member", "members", multiple=True, required=True, metavar="EMAIL:ROLE",
              help=f"A registered person and their role ({ROLES_HELP}); repeat for each: "
                   "exactly one chair and one secretary.")
@click.option("--stage", default="acceptance", show_default=True, metavar="STAGE",
              help="acceptance (nghiem-thu) or outline (de-cuong, the outline review).")
@click.option("--meeting", "meeting_text", metavar="DD/MM/YYYY",
              help="The day the council meets (not before the decision): what its members "
                   "review by. Default: the task's current deadline.")
@click.option("--as", "acting_as", metavar="EMAIL",
              help="The person this is recorded for: the office or the unit's head.")
@json_option
@pass_ctx
def council_set(ctx: Ctx, task_id: int, decision_no: str, date_text: str,
                members: tuple[str, ...], stage: str, meeting_text: str | None,
                acting_as: str | None, as_json: bool) -> None:
    """Record TASK's council and mail each member what to review and by when (in their daily
    letter); a council still awaiting its outcome is corrected."""
    from engine.councils import CouncilInput, parse_member
    from workflows.clock import parse_date

    day = parse_date(date_text, what="--decision-date")
    meeting = parse_date(meeting_text, what="--meeting") if meeting_text is not None else None
    parsed = tuple(parse_member(m) for m in members)
    council_id = ctx.app().engine.set_council(
        CouncilInput(task_id, decision_no, day, parsed, stage=stage, meeting_on=meeting),
        now=ctx.now(), operator=ctx.operator(acting_as))
    if ctx.json or as_json:
        emit_json({"id": council_id, "task": task_id})
    else:
        click.echo(f"task {task_id}: council {council_id} recorded ({len(parsed)} members)")


@council.command("outcome")
@click.argument("task_id", type=int)
@click.option("--result", required=True, metavar="RESULT",
              help="passed (đạt), revise (đạt, phải chỉnh sửa) or failed (không đạt).")
@click.option("--grade", metavar="GRADE",
              help="xuat-sac, kha or dat: required when passed, refused when failed.")
@click.option("--score", metavar="N", help="The council's score, 0–100 (8,5 or 85).")
@click.option("--date", "date_text", metavar="DD/MM/YYYY",
              help="The day the council met (default: today).")
@click.option("--reason", help="The reasons for a fail or the revisions asked (default: the "
                               "council's verdict).")
@click.option("--minutes", "minutes", type=click.Path(path_type=Path), metavar="PATH",
              help="The minutes (biên bản) as PDF, DOCX or XLSX, kept in nckh's file store.")
@click.option("--as", "actor", required=True, metavar="EMAIL",
              help="On whose behalf it is recorded: the council or the office, as for the "
                   "event it fires.")
@json_option
@pass_ctx
def council_outcome(ctx: Ctx, task_id: int, result: str, grade: str | None, score: str | None,
                    date_text: str | None, reason: str | None, minutes: Path | None,
                    actor: str, as_json: bool) -> None:
    """Record the acceptance council's outcome of TASK (fires accept or the failing event)."""
    from engine.councils import OutcomeInput, check_outcome
    from engine.publications import Attachment, KeptFile, keep_file
    from workflows.clock import parse_date
    from workflows.errors import InputError

    held = parse_date(date_text, what="--date") if date_text is not None else None
    data = OutcomeInput(task_id, result, grade=grade, score=score, held_on=held, reason=reason)
    check_outcome(data)  # a bad value is refused before any file is kept
    app = ctx.app()
    kept: KeptFile | None = None
    if minutes is not None:
        if not minutes.is_file():
            raise InputError(f"--minutes {minutes}: no such file")
        kept = keep_file(app.settings.data_dir / "files",
                         app.settings.upload_limit_mb * 1024 * 1024,
                         Attachment(minutes.name, minutes.read_bytes()))
    fired = app.engine.record_outcome(data, actor_email=actor, now=ctx.now(),
                                      operator=ctx.operator(actor), kept=kept)
    if ctx.json or as_json:
        emit_json({"id": fired.task_id, "event": fired.event, "from": fired.from_state,
                   "to": fired.to_state, "version": fired.version})
    else:
        click.echo(f"task {fired.task_id}: {fired.event}: {fired.from_state} → "
                   f"{fired.to_state}")
