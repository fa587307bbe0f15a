"""Sign-in and the first pages of the managers' dashboard."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from server.accounts import service as accounts
from server.areas import service as areas
from server.core.errors import Unauthenticated
from server.core.i18n import SESSION_KEY
from server.core.i18n import gettext as _
from server.core.web import commit, current_actor, db
from server.web.terms import term

blp = Blueprint("pages", __name__)
blp.add_app_template_global(term)


@blp.get("/")
def index():
    """The dashboard; the sign-in page when not signed in."""
    if not session.get("token"):
        return render_template("login.html", error=None)
    return dashboard()


@blp.get("/about")
def about():
    return render_template("index.html", signed_in=bool(session.get("token")))


@blp.get("/login")
def login_form():
    return render_template("login.html", error=None)


@blp.post("/login")
def login():
    ttl = current_app.extensions["rangersync"].config.token_ttl_hours
    try:
        issued = commit(
            accounts.sign_in(
                db(), request.form.get("username", ""), request.form.get("password", ""), ttl
            )
        )
    except Unauthenticated:
        return render_template("login.html", error=_("Wrong username or password.")), 401
    language = session.get(SESSION_KEY)
    session.clear()  # a new session for the signed-in user, keeping only the language chosen
    if language:
        session[SESSION_KEY] = language
    session["token"] = issued.access_token
    return redirect(url_for("pages.dashboard"))


@blp.post("/logout")
def logout():
    token = session.pop("token", None)
    if token:
        commit(accounts.sign_out(db(), token))
    return redirect(url_for("pages.index"))


@blp.get("/dashboard")
def dashboard():
    if not session.get("token"):
        return redirect(url_for("pages.login_form"))
    try:
        actor = current_actor()
    except Unauthenticated:
        session.clear()
        return redirect(url_for("pages.login_form"))
    return render_template(
        "dashboard.html",
        me=accounts.profile(db(), actor),
        areas=areas.list_areas(db(), actor),
    )
