"""HTTP endpoints the dashboard reads: layers, tracks, live positions, reports, patrols, photos."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import current_app, send_file

from schemas.analytics import (
    AttachmentOut,
    Format,
    LayerOut,
    LiveOut,
    PatrolOut,
    PatrolQuery,
    PatrolRowOut,
    ReportQuery,
    ReportRowOut,
)
from server.analytics import browse
from server.analytics.answers import table
from server.analytics.common import period
from server.core.api import API_PREFIX, Blueprint
from server.core.web import current_actor, db

blp = Blueprint(
    "browse", __name__, url_prefix=API_PREFIX,
    description="What the managers' dashboard lists and maps",
)  # fmt: skip


@blp.get("/areas/<area>/layers")
@blp.arguments(Format, location="query")
@blp.response(200, LayerOut(many=True))
def layers(args, area):
    """The boundary, zones and map features (`?format=geojson` for a FeatureCollection)."""
    return table(browse.layers(db(), current_actor(), area), LayerOut, args["format"], "layers")


@blp.get("/areas/<area>/patrols")
@blp.arguments(PatrolQuery, location="query")
@blp.response(200, PatrolRowOut(many=True))
def patrols(args, area):
    """Patrols started in the period with cleaned effort and track quality (`tracks=true` adds
    each simplified line)."""
    rows = browse.patrols(
        db(), current_actor(), area, period(args.get("start"), args.get("end")), args["tracks"]
    )
    return table(rows, PatrolRowOut, args["format"], "patrols")


@blp.get("/patrols/<uuid:patrol_id>")
@blp.response(200, PatrolOut)
def patrol(patrol_id: uuid.UUID):
    """One patrol: track, legs, members, effort, hours per zone and its reports."""
    return browse.patrol(db(), current_actor(), patrol_id)


@blp.get("/areas/<area>/positions")
@blp.arguments(Format, location="query")
@blp.response(200, LiveOut(many=True))
def positions(args, area):
    """The last fix of each patrol under way."""
    rows = browse.live_positions(db(), current_actor(), area, datetime.now(UTC))
    return table(rows, LiveOut, args["format"], "positions")


@blp.get("/areas/<area>/reports")
@blp.arguments(ReportQuery, location="query")
@blp.response(200, ReportRowOut(many=True))
def reports(args, area):
    """Reports to triage, newest first, by status, category and observation time."""
    fmt = args.pop("format")
    return table(browse.reports(db(), current_actor(), area, **args), ReportRowOut, fmt, "reports")


@blp.get("/reports/<uuid:report_id>/attachments")
@blp.response(200, AttachmentOut(many=True))
def attachments(report_id: uuid.UUID):
    """The evidence files a report declared, and whether each has arrived."""
    return browse.attachments(db(), current_actor(), report_id)


@blp.get("/attachments/<uuid:attachment_id>/content")
@blp.response(200, content_type="application/octet-stream")
def attachment_content(attachment_id: uuid.UUID):
    """The stored bytes of an evidence file (checked by SHA-256 when it arrived)."""
    sha256, media_type = browse.attachment_file(db(), current_actor(), attachment_id)
    store = current_app.extensions["rangersync"].evidence
    return send_file(store.blob(sha256), mimetype=media_type, max_age=3600, etag=sha256)
