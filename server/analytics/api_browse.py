"""HTTP endpoints the dashboard reads: layers, tracks, live positions, reports, patrols, photos."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

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
from server.analytics.common import period
from server.core.api import API_PREFIX, Blueprint
from server.core.web import current_actor, read_db

blp = Blueprint(
    "browse",
    __name__,
    url_prefix=API_PREFIX,
    description="What the managers' dashboard lists and maps",
)


@blp.get("/areas/<area>/map-overview")
@blp.arguments(Format, location="query")
@blp.response(200, OverviewFeatureOut(many=True))
def layers(args, area):
    """Every map layer of the area in one list, for the dashboard: the boundary, zones and map
    features (`?format=geojson` for one FeatureCollection). Per layer, with ETag, see
    `/areas/{area}/layers/{layer}`; as vector tiles, `/tiles/{layer}/{z}/{x}/{y}.mvt`."""
    rows = browse.layers(read_db(), current_actor(), area)
    return table(rows, OverviewFeatureOut, args["format"], "layers")


@blp.get("/areas/<area>/patrols")
@blp.arguments(PatrolQuery, location="query")
@blp.response(200, PatrolRowOut(many=True))
def patrols(args, area):
    """Patrols started in the period with cleaned effort and track quality (`tracks=true` adds
    each simplified line)."""
    rows = browse.patrols(
        read_db(), current_actor(), area, period(args.get("start"), args.get("end")), args["tracks"]
    )
    return table(rows, PatrolRowOut, args["format"], "patrols")


@blp.get("/patrols/<uuid:patrol_id>")
@blp.response(200, PatrolOut)
def patrol(patrol_id: uuid.UUID):
    """One patrol: track, legs, members, effort, hours per zone and its reports."""
    return browse.patrol(read_db(), current_actor(), patrol_id)


@blp.get("/areas/<area>/positions")
@blp.arguments(Format, location="query")
@blp.response(200, LiveOut(many=True))
def positions(args, area):
    """The last fix of each patrol under way."""
    rows = browse.live_positions(read_db(), current_actor(), area, datetime.now(UTC))
    return table(rows, LiveOut, args["format"], "positions")


@blp.get("/areas/<area>/reports")
@blp.arguments(ReportQuery, location="query")
@blp.response(200, ReportRowOut(many=True))
def reports(args, area):
    """Reports to triage, newest first, by status, category and observation time."""
    fmt = args.pop("format")
    return table(
        browse.reports(read_db(), current_actor(), area, **args), ReportRowOut, fmt, "reports"
    )
