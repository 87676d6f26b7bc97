"""`nckh mail …` and `nckh outbox …`: preview, check and test the e-mails; inspect the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli.context import Ctx, emit_json, json_option, pass_ctx, table, want_json

if TYPE_CHECKING:
    from notifications.dispatcher import Dispatcher


def _dispatcher(ctx: Ctx) -> Dispatcher:
    return ctx.app().dispatcher


@click.group()
def mail() -> None:
    """Preview, check and test the e-mails nckh sends."""


@mail.command("preview")
@click.argument("kind")
@click.option("--task", "task_id", type=int, required=True, help="Render for this task.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None,
              help="Language (default: [mail] lang, else vi).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the HTML body to this file.")
@pass_ctx
def mail_preview(ctx: Ctx, kind: str, task_id: int, lang: str | None,
                 html_file: Path | None) -> None:
    """Render one kind of e-mail for a task, without queuing or sending it."""
    from notifications.preview import preview
    from workflows.errors import InputError

    d = _dispatcher(ctx)
    recipients, warning, rendered = preview(d, kind, task_id, lang or d.cfg.lang, ctx.now())
    if html_file is not None:  # first: a path that cannot be written fails before any output
        try:
            html_file.write_text(rendered.html, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {html_file}: {exc.strerror or exc}") from None
    if warning:
        click.echo(f"warning: {warning}", err=True)
    for field in ("to", "cc"):
        addrs = ", ".join(f"{r['email']} ({r['role']})" for r in recipients[field])
        click.echo(f"{field.capitalize()}: {addrs or '-'}")
    click.echo(f"Subject: {rendered.subject}\n")
    click.echo(rendered.text, nl=False)
    if html_file is not None:
        import os

        from storage.files import open_private

        with os.fdopen(open_private(html_file), "w", encoding="utf-8") as fh:  # 0600
            fh.write(rendered.html)
        click.echo(f"\n(HTML written to {html_file})", err=True)


@mail.command("check")
@pass_ctx
def mail_check(ctx: Ctx) -> None:
    """Render every template (every kind, both languages) against sample data."""
    from notifications.samples import all_samples
    from workflows.errors import InputError

    d = _dispatcher(ctx)
    problems = d.renderer.check(all_samples(d.cfg, d.catalog))
    for problem in problems:
        click.echo(problem)
    if problems:
        raise InputError(f"{len(problems)} template problem(s): {problems[0]}")
    where = f", overrides from {d.cfg.templates_dir}" if d.cfg.templates_dir else ""
    click.echo(f"ok: {len(d.catalog.kinds)} kinds × 2 languages render{where}")


@mail.command("test")
@click.option("--to", "to", required=True, metavar="EMAIL", help="Where to send the test.")
@pass_ctx
def mail_test(ctx: Ctx, to: str) -> None:
    """Send one message now through the configured server (or into the maildir)."""
    from engine.directory import normalise_email
    from notifications.sendnow import send_test

    address = normalise_email(to, what="--to address")
    d = _dispatcher(ctx)
    click.echo(send_test(d, address, ctx.now()))


@click.group()
def outbox() -> None:
    """The queue of e-mails: list, show, retry."""


def _row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "state": r.state, "attempts": r.attempts,
            "task": r.task_id, "created_at": r.created_at.isoformat(timespec="seconds"),
            "next_attempt_at": r.next_attempt_at.isoformat(timespec="seconds"),
            "sent_at": r.sent_at.isoformat(timespec="seconds") if r.sent_at else None,
            "subject": r.subject, "message_id": r.message_id, "last_error": r.last_error,
            "dedupe_key": r.dedupe_key}


@outbox.command("list")
@click.option("--state", type=click.Choice(["pending", "sending", "sent", "dead"]))
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@json_option
@pass_ctx
def outbox_list(ctx: Ctx, state: str | None, limit: int, as_json: bool) -> None:
    """List queued, sent and dead e-mails (newest first)."""
    from storage.outbox import recent_messages

    with ctx.app().engine.transaction(read_only=True) as s:
        rows = [_row(r) for r in recent_messages(s, state=state, limit=limit)]
    if want_json(ctx, as_json):
        emit_json(rows)
        return
    table(rows, [("id", "ID"), ("kind", "KIND"), ("state", "STATE"), ("attempts", "TRIES"),
                 ("task", "TASK"), ("next_attempt_at", "NEXT"), ("subject", "SUBJECT"),
                 ("last_error", "ERROR")], max_width=50)


@outbox.command("show")
@click.argument("row_id", type=int)
@json_option
@pass_ctx
def outbox_show(ctx: Ctx, row_id: int, as_json: bool) -> None:
    """One e-mail: state, recipients, headers, error and body."""
    from storage.outbox import message
    from workflows.errors import NotFound
    from workflows.inputs import check_id

    with ctx.app().engine.transaction(read_only=True) as s:
        r = message(s, check_id("outbox message", row_id))
        if r is None:
            raise NotFound("outbox message", row_id)
        data = {**_row(r), "lang": r.lang, "recipients": r.recipients,
                "addressed_to": r.addressed_to, "context": r.context,
                "attachments": [{"filename": a.filename, "mimetype": a.mimetype,
                                 "bytes": len(a.content)} for a in r.attachments],
                "body_text": r.body_text}
    if want_json(ctx, as_json):
        emit_json(data)
        return
    for key in ("id", "kind", "state", "attempts", "task", "created_at", "next_attempt_at",
                "sent_at", "message_id", "dedupe_key", "last_error", "subject"):
        click.echo(f"{key}: {data[key] if data[key] is not None else '-'}")
    if data["recipients"]:
        for field in ("to", "cc"):
            click.echo(f"{field}: " + ", ".join(x["email"] for x in data["recipients"][field]))
    for a in data["attachments"]:
        click.echo(f"attachment: {a['filename']} ({a['mimetype']}, {a['bytes']} bytes)")
    if data["body_text"]:
        click.echo("")
        click.echo(data["body_text"], nl=False)


@outbox.command("retry")
@click.argument("row_id", type=int, required=False)
@click.option("--all-dead", is_flag=True, help="Retry every dead message.")
@pass_ctx
def outbox_retry(ctx: Ctx, row_id: int | None, all_dead: bool) -> None:
    """Queue dead messages again (recipients and text are resolved and rendered afresh)."""
    from notifications.retry import retry
    from workflows.errors import InputError
    from workflows.inputs import check_id

    if (row_id is None) == (not all_dead):
        raise InputError("give either an outbox ID or --all-dead")
    if row_id is not None:
        check_id("outbox message", row_id)  # beyond the column: unknown, on every database
    n = retry(ctx.app().db, row_id, now=ctx.now())
    click.echo(f"{n} message(s) queued again")


