"""`nckh`: the root command, lazy sub-command loading and the one error handler.

Exit codes: 0 ok, 2 bad usage or input, 3 refused (not allowed, invalid transition, conflict),
1 anything else. Every error is one line on stderr, `nckh: ` first, with any control or
bidirectional character the caller typed shown escaped (`workflows.inputs.printable`), so quoting
their input can neither break the line nor reach the terminal. A database failure that escaped
its boundary is still one line (`storage.faults`); `NCKH_DEBUG=1` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NoReturn

import click

from engine import __version__
from engine.cli.context import Ctx

# name -> (module, attribute, one-line help); modules are imported only when needed.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("engine.cli.admin", "init", "Create or upgrade the database."),
    "unit": ("engine.cli.admin", "unit", "Register, show, replace the head of, and deactivate "
             "units (đơn vị)."),
    "person": ("engine.cli.admin", "person", "Register, show and deactivate people and their "
               "roles."),
    "task": ("engine.cli.tasks", "task", "Register research tasks and move them through "
             "their workflow."),
    "workflow": ("engine.cli.workflows", "workflow", "List, show, validate and draw workflows."),
    "session": ("engine.cli.sessions", "session", "Record and list the science sessions units "
                "held (sinh hoạt khoa học)."),
    "publication": ("engine.cli.publications", "publication", "Record and list the units' "
                    "articles and other publications (công bố)."),
    "council": ("engine.cli.councils", "council", "Record a task's councils (hội đồng) and "
                "the acceptance outcome: grade, score, minutes."),
    "application": ("engine.cli.applications", "application", "Record and list where accepted "
                    "results are applied, transferred or shared (ứng dụng kết quả)."),
    # scheduling
    "daemon": ("engine.cli.scheduling", "daemon", "Run the scheduler until SIGTERM/SIGINT."),
    "tick": ("engine.cli.scheduling", "tick", "One pass of everything due as of now."),
    "status": ("engine.cli.scheduling", "status", "Daemons alive, due and overdue timers."),
    "calendar": ("engine.cli.scheduling", "calendar", "Calendar obligations and when they fire."),
    # notifications
    "mail": ("engine.cli.mail", "mail", "Preview, check and test the e-mails."),
    "outbox": ("engine.cli.mail", "outbox", "Inspect and retry queued e-mails."),
    # reports and operations
    "report": ("engine.cli.reports", "report", "Compliance and progress reports."),
    "sample": ("engine.cli.ops", "sample", "Load a sample province."),
    "demo": ("engine.cli.ops", "demo", "Replay a sample province's year at high speed."),
    "doctor": ("engine.cli.ops", "doctor", "Check configuration, database, SMTP and templates."),
    "web": ("engine.cli.web", "web", "Run the web app (sign-in, units' pages, the office's "
            "register)."),
    "web-link": ("engine.cli.web", "web_link", "Print a one-time sign-in link for a person."),
}


def register(name: str, module: str, attr: str, help_text: str) -> None:
    COMMANDS[name] = (module, attr, help_text)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        command = getattr(importlib.import_module(spec[0]), spec[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The top-level help needs only names and one-liners: import no command module for it.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nckh")
@click.option("--config", "config", metavar="FILE", envvar="NCKH_CONFIG",
              help="Config file (TOML). Env: NCKH_CONFIG.")
@click.option("--env-file", "env_file", metavar="FILE",
              help="Read NCKH_* settings (secrets) from this file, KEY=VALUE lines; the "
                   "environment wins over it. Keeps passwords out of process arguments. "
                   "Env: NCKH_ENV_FILE.")
@click.option("--now", "now_text", metavar="DATETIME",
              help="Act as if it were this time (ISO; local time unless an offset is given). "
                   "Env: NCKH_NOW.")
@click.option("--json", "as_json", is_flag=True, help="JSON output for listings and shows.")
@click.pass_context
def cli(ctx: click.Context, config: str | None, env_file: str | None, now_text: str | None,
        as_json: bool) -> None:
    """nckh — research-task workflows of a provincial Department of Health (Sở Y tế)."""
    obj = ctx.ensure_object(Ctx)
    obj.config, obj.env_file, obj.now_text, obj.json = config, env_file, now_text, as_json
    ctx.call_on_close(obj.close)


GLOBAL_VALUE_OPTIONS = ("--now", "--config", "--env-file")


def hoist_globals(argv: list[str]) -> list[str]:
    """Let global options stand anywhere (`nckh task show 1 --now 2025-04-16`)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUE_OPTIONS and i > 0:
            if "=" in arg:
                front.append(arg)
            else:
                front.extend(argv[i:i + 2])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main(argv: list[str] | None = None) -> Any:
    """The console script: hand the command to a running daemon when it can answer it
    (`engine.cli.forward`), else run it here."""
    from engine.cli.forward import forward
    from workflows.inputs import check_argv

    args = hoist_globals(list(sys.argv[1:] if argv is None else argv))
    try:
        check_argv(args)
        code = forward(args)
    except Exception as exc:  # the same one line as any other failure
        return _fail_with(exc)
    except KeyboardInterrupt:
        _fail("interrupted; the daemon may still carry the command out: look before running "
              "it again", 130)
    if code is not None:
        sys.exit(code)  # what the daemon's run of it returned
    return run(args)


def run(args: list[str], obj: Ctx | None = None) -> Any:
    """Run one command line in this process (`obj`: a context prepared by the daemon that
    answers it for a client)."""
    from workflows.inputs import check_argv

    try:
        check_argv(args)
        return cli.main(args=args, prog_name="nckh", standalone_mode=False, obj=obj)
    except Exception as exc:
        return _fail_with(exc)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _fail_with(exc: Exception) -> NoReturn:
    """Every failure as one line on stderr and its exit code."""
    from workflows.errors import NckhError

    if isinstance(exc, click.exceptions.Abort):
        _fail("aborted", 1)
    if isinstance(exc, click.ClickException):
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            message = f"{message} (see `{exc.ctx.command_path} --help`)"
        _fail(message, exc.exit_code)
    if isinstance(exc, NckhError):
        _fail(str(exc), exc.exit_code)
    if _debug():  # the last line of defence: one line, exit 1
        raise exc
    if type(exc).__module__.startswith("sqlalchemy."):  # a failure no boundary converted
        from storage.faults import database_error  # (sqlalchemy is loaded by now)

        error = database_error(exc)  # type: ignore[arg-type]
        _fail(str(error), error.exit_code)
    _fail(f"internal error: {type(exc).__name__}: {exc}", 1)


def _fail(message: str, code: int) -> NoReturn:
    from workflows.inputs import printable

    click.echo(f"nckh: {printable(message)}", err=True)
    sys.exit(code)


def _debug() -> bool:
    import os

    return os.environ.get("NCKH_DEBUG", "") not in ("", "0")


if __name__ == "__main__":
    main()
