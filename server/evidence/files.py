"""Evidence files and their thumbnails for the people allowed to see the report they belong to.

Served as stored, never interpreted: `nosniff` and a sandboxing CSP, so a file that merely
starts like a photo can do nothing in a browser."""

from __future__ import annotations

import uuid

from flask import current_app, send_file

from server.core.api import API_PREFIX, Blueprint
from server.core.web import current_actor, db
from server.evidence import service

blp = Blueprint("evidence", __name__, url_prefix=API_PREFIX, description="Evidence files")


def _send(attachment_id: uuid.UUID, thumbnail: bool):
    store = current_app.extensions["rangersync"].evidence
    path, media_type, etag = service.evidence_file(
        db(), current_actor(), store, attachment_id, thumbnail=thumbnail
    )
    response = send_file(path, mimetype=media_type, etag=etag, conditional=True, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@blp.get("/attachments/<uuid:attachment_id>/file")
@blp.doc(responses={"200": {"description": "the file as the device took it"}})
def file(attachment_id: uuid.UUID):
    """The evidence file (Range requests supported); 404 until it has arrived."""
    return _send(attachment_id, thumbnail=False)


@blp.get("/attachments/<uuid:attachment_id>/thumbnail")
@blp.doc(responses={"200": {"description": "a JPEG at most 480 px on its longer side"}})
def thumbnail(attachment_id: uuid.UUID):
    """A small JPEG of a photo, for lists and the dashboard."""
    return _send(attachment_id, thumbnail=True)
