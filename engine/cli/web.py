"""`nckh web`: serve the web app with waitress until SIGTERM/SIGINT."""

from __future__ import annotations

import click

from engine.cli.context import Ctx, pass_ctx


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put nginx in front for the outside world).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--behind-proxy", is_flag=True,
              help="Trust one reverse proxy's X-Forwarded-For/-Proto (nginx, deploy/).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@pass_ctx
def web(ctx: Ctx, host: str, port: int, behind_proxy: bool, threads: int) -> None:
    """Run the web app: people sign in with a link mailed to them, units submit their reports,
    the office keeps its intake register. Links in e-mails use NCKH_BASE_URL."""
    import waitress

    from engine.web.app import create_web
    from workflows.clock import FixedClock, SystemClock

    s = ctx.settings
    clock = FixedClock(s.now) if s.now else SystemClock(s.tz)
    application = create_web(ctx.app(), clock)
    if behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        application.wsgi_app = ProxyFix(application.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    click.echo(f"nckh web: listening on http://{host}:{port} (links in e-mails: "
               f"{s.base_url})", err=True)
    waitress.serve(application, host=host, port=port, threads=threads, ident="nckh")


@click.command("web-link")
@click.argument("email")
@pass_ctx
def web_link(ctx: Ctx, email: str) -> None:
    """Print a one-time sign-in link for EMAIL (15 minutes, single use) instead of mailing it:
    for a first sign-in or a person whose mail does not arrive. The link goes to whoever reads
    this terminal: hand it over in person."""
    url = ctx.app().access.signin_link(email, operator=ctx.operator().login, now=ctx.now())
    click.echo(url)
