"""Signing in and out: a one-time link by e-mail, or the office's password.

Opening a sign-in link (GET or HEAD, as a mail scanner does) only shows a button; the POST
of that button uses the link. A link that cannot be used gets a page that says so in plain
words and offers to send a fresh one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, request, session, url_for

from engine.access import RateLimited
from engine.web.app import bad_link, client, page, shell, viewer
from workflows.errors import InputError, NotAllowed

bp = Blueprint("auth", __name__)


@bp.get("/")
def root() -> Any:
    return redirect(url_for("pages.home") if viewer() else url_for("auth.signin_form"))


@bp.get("/dang-nhap")
def signin_form() -> Any:
    return page("signin.html", errors={}, email="")


@bp.post("/dang-nhap")
def signin_request() -> Any:
    email = request.form.get("email", "")
    try:
        shell().access.request_signin(email, client=client(), now=g.now, lang=g.lang)
    except RateLimited as exc:
        return page("signin.html", 429, errors={"email": str(exc)}, email=email)
    except InputError as exc:
        return page("signin.html", 400, errors={"email": str(exc)}, email=email)
    return page("signin_sent.html")


@bp.post("/dang-nhap/mat-khau")
def password_signin() -> Any:
    email = request.form.get("email", "")
    try:
        token = shell().access.password_signin(email, request.form.get("password", ""),
                                               client=client(), now=g.now)
    except NotAllowed as exc:
        return page("signin.html", 403, errors={"password": str(exc)}, email="",
                    office_email=email)
    return _start(token)


@bp.get("/dang-nhap/<int:row_id>/<token>")
def signin_link(row_id: int, token: str) -> Any:
    return page("signin_confirm.html")


@bp.post("/dang-nhap/<int:row_id>/<token>")
def signin_use(row_id: int, token: str) -> Any:
    try:
        new = shell().access.redeem_signin(row_id, token, client=client(), now=g.now)
    except NotAllowed as exc:
        return bad_link(exc)
    return _start(new)


def _start(token: str) -> Any:
    lang = g.lang
    session.clear()  # a new session: nothing of the anonymous one is carried over
    session["sid"] = token
    session["lang"] = lang
    viewer = shell().access.session_viewer(token, now=g.now)
    if viewer is not None and viewer.is_office:
        return redirect(url_for("dashboard.board"))  # the office's daily view
    return redirect(url_for("pages.home"))


@bp.post("/dang-xuat")
def signout() -> Any:
    token = session.get("sid")
    if isinstance(token, str):
        shell().access.end_session(token, now=g.now)
    session.clear()
    return redirect(url_for("auth.signin_form"))
