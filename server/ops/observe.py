"""Every request: an id (X-Request-ID in and out, in every log line), its count and latency by
route template, and one structured access-log line. Installed by the app factory."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from server.core import logs
from server.core.metrics import REQUEST_SECONDS, REQUESTS
from server.ops import metrics

log = logging.getLogger("rangersync.access")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def install(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)
    app.register_blueprint(metrics.blp)


def _begin() -> None:
    g.request_id = logs.new_request_id(request.headers.get("X-Request-ID"))
    g.request_id_token = logs.request_id.set(g.request_id)
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    # The route template, not the path: one series per endpoint, not one per patrol id.
    endpoint = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    method = request.method if request.method in METHODS else "OTHER"
    if endpoint != "/metrics":
        REQUESTS.labels(method, endpoint, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(method, endpoint).observe(seconds)
        log.info(
            "%s %s %s",
            method,
            request.path,
            response.status_code,
            extra={
                "method": method,
                "path": request.path,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "bytes": response.content_length,
                "remote": request.headers.get("X-Forwarded-For", request.remote_addr),
                "database": g.get("database", "primary"),
            },
        )
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response


def _forget(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.request_id.reset(token)
