"""Every error the app answers with is an RFC 9457 problem document (application/problem+json).

Domain errors carry their own type and status; HTTP errors from Flask, Werkzeug and webargs
(malformed JSON, unknown route, body too large, schema validation) are mapped here too, so a
client sees one shape whatever went wrong. Unexpected errors become a 500 problem without details.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, json, request
from psycopg.errors import QueryCanceled
from sqlalchemy.exc import DataError, DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from server.core.errors import DomainError, StatementTimeout, Unauthenticated, UnstorableValue

PROBLEM_TYPE_BASE = "/problems/"
RETRY_AFTER_TIMEOUT_S = 30  # a query stopped by its statement_timeout: ask again later, or less
log = logging.getLogger(__name__)

# Stable codes for the HTTP errors that do not come from our domain.
HTTP_CODES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    413: "request-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    422: "validation-failed",
    429: "too-many-requests",
    431: "header-fields-too-large",
    500: "internal-error",
    503: "unavailable",
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = dict(errors)
    body.update(extra or {})
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="rangersync"'
    if "retry_after_s" in body:  # a problem that passes: say when to ask again
        response.headers["Retry-After"] = str(body["retry_after_s"])
    return response


def pointer_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages → {JSON pointer: [messages]}, e.g. {"/boundary": [...]}."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = "" if key == "_schema" else f"/{str(key).replace('~', '~0').replace('/', '~1')}"
            flat.update(pointer_errors(value, prefix + name))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "/": list(messages)}
    return {prefix or "/": [str(messages)]}


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    errors = None
    detail = error.description or error.name
    if messages:
        # webargs nests by location ({"json": {...}}); the body is what clients think in.
        if isinstance(messages, Mapping) and set(messages) <= {"json", "query", "path", "headers"}:
            errors = {}
            for location, inner in messages.items():
                prefix = "" if location == "json" else f"{location}:"
                errors.update({prefix + k: v for k, v in pointer_errors(inner).items()})
        else:
            errors = pointer_errors(messages)
        detail = "the request does not match the schema: see errors"
    if status == 413:
        detail = "the request body is larger than this endpoint accepts"
    response = problem(status, HTTP_CODES.get(status, f"http-{status}"), error.name, detail, errors)
    original_headers = error.get_response().headers
    for header in ("Allow", "Retry-After"):
        if header in original_headers:
            response.headers[header] = original_headers[header]
    return response


def from_domain_error(error: DomainError) -> Response:
    return problem(error.status, error.code, error.title, error.detail, error.errors, error.extra)


def from_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return from_http_exception(error)
    if isinstance(error, DataError):
        # Input the schemas let through but PostgreSQL cannot hold (a NUL in text, say): the
        # request's fault, and nothing was committed. Said in our words: the database's own
        # text names its types and internals, which a client has no business reading.
        log.info("unstorable value on %s %s: %s", request.method, request.path, error.orig)
        reason = _unstorable_reason(error)
        return from_domain_error(UnstorableValue(f"a value cannot be stored as sent: {reason}"))
    if isinstance(error, DBAPIError) and isinstance(error.orig, QueryCanceled):
        log.warning("statement timeout on %s %s", request.method, request.path)
        return from_domain_error(
            StatementTimeout(
                "the query ran past this server's time limit and was stopped; ask for a shorter "
                "period, a smaller area or coarser cells, or try again later",
                extra={"retry_after_s": RETRY_AFTER_TIMEOUT_S},
            )
        )
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(
        500,
        "internal-error",
        "Internal server error",
        "the server failed to answer; the error has been logged and nothing was committed",
    )


UNSTORABLE_REASONS = {
    "22001": "a text is longer than its field holds",
    "22003": "a number is out of the range its field holds",
    "22007": "a date or time is not one the database holds",
    "22008": "a date or time is out of range",
    "22021": "a text is not valid in the database's encoding",
    "22P02": "a value does not have the form its field needs",
    "22P05": "a text holds a character that cannot be stored",
}


def _unstorable_reason(error: DataError) -> str:
    code = getattr(error.orig, "sqlstate", None)
    if code in UNSTORABLE_REASONS:
        return UNSTORABLE_REASONS[code]
    if "NUL" in str(error.orig):  # refused by the driver before it reached the database
        return "a text holds a NUL character"
    return "a value is not one the database holds"


def known_problems() -> dict[str, dict[str, Any]]:
    """Every problem type the app can answer with, so that each `type` URI dereferences."""
    known = {
        code: {"status": status, "title": _http_title(status)}
        for status, code in HTTP_CODES.items()
    }
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        known[cls.code] = {"status": cls.status, "title": cls.title}
    return known


def _http_title(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error")


def describe(code: str) -> Response:
    problems = known_problems()
    if code not in problems:
        return problem(404, "not-found", "Not found", f"no problem type {code!r}")
    return Response(
        json.dumps({"type": PROBLEM_TYPE_BASE + code, **problems[code]}),
        mimetype="application/json",
    )


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, from_domain_error)
    app.register_error_handler(HTTPException, from_http_exception)
    app.register_error_handler(Exception, from_unexpected)
    app.add_url_rule("/problems/<code>", "problem_type", describe)


__all__ = ["Unauthenticated", "from_http_exception", "problem", "register"]
