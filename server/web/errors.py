"""Errors on the dashboard's pages as pages: a browser that asked for a page and met a problem
(a reversed date range, a page of an area the caller may not open, an unknown address) gets an
HTML page in its language that says what happened and where to go, with the problem's status.

Everything else keeps its RFC 9457 problem+json (server/core/problems.py), which is also what a
page request gets when the client prefers JSON: the page is rendered from the same problem
document, after it was made, so the two cannot disagree.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json, render_template, request

from server.core.i18n import gettext as _

log = logging.getLogger(__name__)

PAGE_BLUEPRINTS = frozenset({"pages", "area_pages"})
# Addresses that are never pages, whatever the client accepts.
NOT_PAGES = ("/api/", "/ogc", "/problems/", "/static/", "/healthz", "/readyz", "/metrics")
PROBLEM_TYPE = "application/problem+json"


def wants_page() -> bool:
    """A page of the dashboard, or an unknown address, asked for by a browser."""
    if request.blueprint is not None and request.blueprint not in PAGE_BLUEPRINTS:
        return False
    if request.path.startswith(NOT_PAGES):
        return False
    offered = [PROBLEM_TYPE, "application/json", "text/html"]
    return request.accept_mimetypes.best_match(offered) == "text/html"


def _field_messages(problem: dict[str, Any]) -> list[str]:
    """The problem's field errors in the reader's words, where we know them."""
    said = []
    for field, messages in (problem.get("errors") or {}).items():
        name = field.removeprefix("query:").lstrip("/")
        for message in messages if isinstance(messages, list) else [messages]:
            if message == "before start":
                said.append(_("The end date is before the start date."))
            elif message == "too early":
                said.append(_("The period is too long: choose a shorter one."))
            elif message == "not a date":
                said.append(_("“%(field)s” is not a date: write it as YYYY-MM-DD.", field=name))
            else:
                said.append(f"{name}: {message}")
    return said


def _is_partner() -> bool:
    actor = g.get("actor")
    return actor is not None and "partner" in actor.roles.values()


def problem_page(response: Response) -> Response:
    if response.mimetype != PROBLEM_TYPE or not wants_page():
        return response
    problem = json.loads(response.get_data())
    try:
        page = render_template(
            "error.html",
            status=response.status_code,
            problem=problem,
            said=_field_messages(problem),
            partner=_is_partner(),
        )
    except Exception:  # the page cannot be drawn (the database is down…): the problem still can
        log.exception("error page for %s failed; answering the problem document", request.path)
        return response
    page_response = Response(page, status=response.status_code, mimetype="text/html")
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response.headers:
            page_response.headers[header] = response.headers[header]
    page_response.headers["Vary"] = "Accept"
    return page_response


def install(app: Flask) -> None:
    app.after_request(problem_page)
