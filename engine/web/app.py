"""The Flask application: configuration, the signed-in person, security headers, errors.

Why Flask: the core is synchronous (SQLAlchemy sessions, one transaction per call), and Flask is
synchronous, small, uses the project's Jinja2, and brings the signed cookie (itsdangerous) and,
with Flask-WTF, CSRF protection on every POST. Production serves it with waitress (pure Python,
no C build, Linux and Windows) behind nginx (`deploy/`).

The clock is read once per request (`g.now`) from the clock handed in, so tests set the time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, g, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from engine.views import Views
from engine.web.i18n import LANGS, dmy, word
from notifications.render import CompiledTemplates
from workflows.clock import Clock
from workflows.errors import InputError, NckhError, NotFound, Refused
from workflows.visibility import Viewer

if TYPE_CHECKING:
    from engine.app import App

MIB = 1024 * 1024
_PAGES = CompiledTemplates()
# No script at all, styles from our own file, forms post only to us, never framed. The
# referrer is never sent: page addresses may hold a personal link's token.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class Shell:
    """What the routes hold: the app's engine, access and views, and the clock."""

    def __init__(self, nckh: App, clock: Clock) -> None:
        self.nckh = nckh
        self.clock = clock
        self.engine = nckh.engine
        self.access = nckh.access
        self.views = Views(nckh.engine)
        self.upload_limit = nckh.settings.upload_limit_mb * MIB


def shell() -> Shell:
    from flask import current_app

    found = current_app.extensions["nckh"]
    assert isinstance(found, Shell)
    return found


def create_web(nckh: App, clock: Clock) -> Flask:
    from engine.app import web_secret

    web = Flask(__name__)
    secret = web_secret(nckh.settings)
    web.config.update(
        SECRET_KEY=hmac.new(secret, b"nckh web cookie", hashlib.sha256).hexdigest(),
        SESSION_COOKIE_NAME="nckh",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=nckh.settings.base_url.startswith("https://"),
        # The form around a file is small: a request may carry the file limit and 1 MiB more.
        MAX_CONTENT_LENGTH=nckh.settings.upload_limit_mb * MIB + MIB,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the browser session
        WTF_CSRF_SSL_STRICT=False,  # SameSite=Lax and the token: the Referer is never sent
    )
    # Pages compiled once per process, not once per app built (see CompiledTemplates).
    web.jinja_options = {**web.jinja_options, "bytecode_cache": _PAGES}
    CSRFProtect(web)
    web.extensions["nckh"] = Shell(nckh, clock)
    web.jinja_env.filters["dmy"] = dmy
    web.jinja_env.globals["_"] = say
    web.before_request(_before)
    web.after_request(_headers)
    web.register_error_handler(NckhError, _engine_error)
    web.register_error_handler(CSRFError, _csrf_error)
    web.register_error_handler(RequestEntityTooLarge, _too_large)
    web.register_error_handler(HTTPException, _http_error)

    from engine.web import auth, dashboard, links, office, pages, search, unitforms, units

    for module in (auth, pages, links, units, unitforms, office, dashboard, search):
        web.register_blueprint(module.bp)
    from engine.web import publications

    web.register_blueprint(publications.bp)
    return web


def say(key: str, **values: Any) -> str:
    """A page's word in the request's language: `_` in the templates (a page asks dozens)."""
    text = word(key, g.get("lang", "vi"))
    return text.format(**values) if values else text


def _before() -> None:
    s = shell()
    g.now = s.clock.now()
    lang = request.args.get("lang")
    if lang in LANGS:
        session["lang"] = lang
    g.lang = session.get("lang", "vi") if session.get("lang") in LANGS else "vi"
    g.viewer = None
    token = session.get("sid")
    if isinstance(token, str):
        g.viewer = s.access.session_viewer(token, now=g.now)
        if g.viewer is None:
            session.pop("sid", None)


def viewer() -> Viewer | None:
    found = g.get("viewer")
    return found if isinstance(found, Viewer) else None


def client() -> str:
    return request.remote_addr or "?"


def browser() -> str:
    return request.headers.get("User-Agent", "?")


def _headers(response: Any) -> Any:
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    if viewer() is not None or request.path.startswith(("/lien-ket/", "/dang-nhap/")):
        response.headers["Cache-Control"] = "no-store"
    return response


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, viewer=viewer(), lang=g.get("lang", "vi"), **context), status


def bad_link(exc: NckhError) -> tuple[str, int]:
    """A link that cannot be used: why, in the person's language, and how to get a fresh one."""
    return page("bad_link.html", 403, why=getattr(exc, "why", "invalid"), message=str(exc))


def _engine_error(exc: NckhError) -> tuple[str, int]:
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Refused) \
        else 400 if isinstance(exc, InputError) else 500
    heading = "not_found" if status == 404 else "refused"
    return page("error.html", status, heading=heading, message=str(exc))


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    return page("error.html", 400, heading="refused", message=word("csrf", g.get("lang", "vi")))


def _too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    return page("error.html", 413, heading="refused",
                message=word("too_large", g.get("lang", "vi")))


def _http_error(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    return page("error.html", code, heading="not_found" if code == 404 else "refused",
                message=f"{code} {exc.name}")


def signed_in() -> Viewer:
    """The signed-in person, or a redirect to the sign-in page."""
    found = viewer()
    if found is None:
        from flask import abort, redirect, url_for

        abort(redirect(url_for("auth.signin_form", next=request.path)))
    return found


Handler = Callable[..., Any]
