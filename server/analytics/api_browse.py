"""HTTP endpoints the dashboard reads: layers, tracks, live positions, reports, patrols, photos."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Response

from schemas.analytics import (
    Format,
    LiveOut,
    OverviewFeatureOut,
    PatrolOut,
    PatrolQuery,
    PatrolRowOut,
    ReportQuery,
    ReportRowOut,
)
from server.analytics import browse
from server.analytics.answers import table
from server.analytics.common import park_today, period
from server.areas.web import in_area
from server.core.api import API_PREFIX, Blueprint
from server.core.web import current_actor, read_db
from server.patrols import track_files
from server.reports import listing as report_listing

blp = Blueprint(
    "browse",
    __name__,
    url_prefix=API_PREFIX,
    description="What the managers' dashboard lists and maps",
)


@blp.get("/areas/<area>/map-overview")
@blp.arguments(Format, location="query")
@blp.response(200, OverviewFeatureOut(many=True))
@in_area
def layers(args, area, area_id):
    """Every map layer of the area in one list, for the dashboard: the boundary, zones and map
    features (`?format=geojson` for one FeatureCollection). Per layer, with ETag, see
    `/areas/{area}/layers/{layer}`; as vector tiles, `/tiles/{layer}/{z}/{x}/{y}.mvt`."""
    rows = browse.layers(read_db(), current_actor(), area_id)
    return table(rows, OverviewFeatureOut, args["format"], "layers")


@blp.get("/areas/<area>/patrols")
@blp.arguments(PatrolQuery, location="query")
@blp.response(200, PatrolRowOut(many=True))
@in_area
def patrols(args, area_id):
    """Patrols started in the period with cleaned effort and track quality (`tracks=true` adds
    each simplified line)."""
    rows = browse.patrols(
        read_db(),
        current_actor(),
        area_id,
        period(args.get("start"), args.get("end"), today=park_today(read_db(), area_id)),
        args["tracks"],
    )
    return table(rows, PatrolRowOut, args["format"], "patrols")


@blp.get("/patrols/<uuid:patrol_id>")
@blp.response(200, PatrolOut)
def patrol(patrol_id: uuid.UUID):
    """One patrol: track, legs, members, effort, hours per zone and its reports."""
    return browse.patrol(read_db(), current_actor(), patrol_id)


@blp.get("/patrols/<uuid:patrol_id>/track.<fmt>")
@blp.response(200, content_type="application/gpx+xml")
def patrol_track(patrol_id: uuid.UUID, fmt: str):
    """The patrol's track as a file: `track.gpx` (GPX 1.1, every fix with its time) or
    `track.kml` (KML 2.2, the line with its start and end). Times in UTC."""
    found = track_files.track_file(read_db(), current_actor(), patrol_id, fmt)
    return Response(
        found.body,
        mimetype=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@blp.get("/areas/<area>/positions")
@blp.arguments(Format, location="query")
@blp.response(200, LiveOut(many=True))
@in_area
def positions(args, area_id):
    """The last fix of each patrol under way."""
    rows = browse.live_positions(read_db(), current_actor(), area_id, datetime.now(UTC))
    return table(rows, LiveOut, args["format"], "positions")


@blp.get("/areas/<area>/reports")
@blp.arguments(ReportQuery, location="query")
@blp.response(200, ReportRowOut(many=True))
@in_area
def reports(args, area_id):
    """Reports to triage, newest first, by status, category and observation time."""
    fmt = args.pop("format")
    rows = report_listing.list_reports(read_db(), current_actor(), area_id, **args)
    return table(rows, ReportRowOut, fmt, "reports")
