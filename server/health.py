"""Liveness and readiness probes for load balancers, systemd and `make run`."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from server.core.errors import DomainError
from server.core.migrate import is_at_head

blp = Blueprint("health", __name__)


class NotReady(DomainError):
    status = 503
    code = "not-ready"
    title = "Not ready to serve"


@blp.get("/healthz")
def healthz():
    """The process is alive; says nothing about the database."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """The database answers and its schema is at the migrations' head."""
    engine = current_app.extensions["rangersync"].engine
    try:
        at_head = is_at_head(engine)
    except SQLAlchemyError as error:
        raise NotReady(f"the database is not reachable: {type(error).__name__}") from error
    if not at_head:
        raise NotReady(
            "the database schema is not at the latest migration: run `rangersync db upgrade`"
        )
    return jsonify(status="ready", database="ok", migrations="head")
