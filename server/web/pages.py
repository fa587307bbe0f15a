"""Sign-in and the first pages of the managers' dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from server.accounts import service as accounts
from server.accounts.api import sign_in_attempt
from server.areas import service as areas
from server.core.errors import Unauthenticated
from server.core.i18n import SESSION_KEY
from server.core.i18n import gettext as _
from server.core.ratelimit import TooManyRequests
from server.core.web import commit, current_actor, db
from server.web.terms import term

blp = Blueprint("pages", __name__)
blp.add_app_template_global(term)


@blp.app_template_global()
def this_month(zone: str) -> str:
    """The current month in the park ("2026-11"), for month pickers."""
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def here() -> str:
    """This page's address as a `next` to come back to after signing in."""
    return request.full_path if request.query_string else request.path


def safe_next(target: str | None) -> str | None:
    """`next` if it is a path of this site, else None: signing in never sends anyone to another
    site (an open redirect), whatever a link put there. Not "//host" (scheme-relative), not
    "/\\host" (which browsers read as "//host"), nothing with a scheme or a host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@blp.get("/")
def index():
    """The dashboard; the sign-in page when not signed in."""
    if not session.get("token"):
        return render_template("login.html", error=None, next=safe_next(request.args.get("next")))
    return dashboard()


@blp.get("/about")
def about():
    return render_template("index.html", signed_in=bool(session.get("token")))


@blp.get("/login")
def login_form():
    return render_template("login.html", error=None, next=safe_next(request.args.get("next")))


@blp.post("/login")
def login():
    ttl = current_app.extensions["rangersync"].config.token_ttl_hours
    username = request.form.get("username", "")
    target = safe_next(request.form.get("next"))
    try:
        with sign_in_attempt(username):
            issued = commit(accounts.sign_in(db(), username, request.form.get("password", ""), ttl))
    except Unauthenticated:
        wrong = _("Wrong username or password.")
        return render_template("login.html", error=wrong, next=target), 401
    except TooManyRequests as error:
        wait = error.extra["retry_after_s"]
        message = _(
            "Too many failed sign-ins from here. Wait %(wait)s and try again "
            "(your password is not checked until then).",
            wait=_duration(wait),
        )
        headers = {"Retry-After": str(wait)}
        return render_template("login.html", error=message, next=target), 429, headers
    language = session.get(SESSION_KEY)
    session.clear()  # a new session for the signed-in user, keeping only the language chosen
    if language:
        session[SESSION_KEY] = language
    session["token"] = issued.access_token
    return redirect(target or url_for("pages.dashboard"))


def _duration(seconds: int) -> str:
    if seconds < 90:
        return _("%(n)s seconds", n=seconds)
    return _("%(n)s minutes", n=round(seconds / 60))


@blp.post("/logout")
def logout():
    token = session.pop("token", None)
    if token:
        commit(accounts.sign_out(db(), token))
    return redirect(url_for("pages.index"))


@blp.get("/dashboard")
def dashboard():
    if not session.get("token"):
        return redirect(url_for("pages.login_form", next=here()))
    try:
        actor = current_actor()
    except Unauthenticated:
        session.clear()
        return redirect(url_for("pages.login_form", next=here()))
    return render_template(
        "dashboard.html",
        me=accounts.profile(db(), actor),
        areas=areas.list_areas(db(), actor),
    )
