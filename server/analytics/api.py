"""HTTP endpoints of analytics: coverage, gaps and heatmap tiles, effort, findings against effort,
plans, device sync health. Each table answers JSON, or `?format=csv|geojson` as an export."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from flask import Response, current_app

from schemas.analytics import (
    CellOut,
    CellSize,
    CoverageOut,
    CpueOut,
    DeviceHealthOut,
    EffortOut,
    EffortQuery,
    FindingCellOut,
    FindingsQuery,
    Format,
    GapOut,
    GapQuery,
    HealthQuery,
    HotspotOut,
    HotspotQuery,
    MonthQuery,
    PeriodQuery,
    PlanIn,
    PlanOut,
    TileQuery,
    TrendOut,
    ZoneCoverageOut,
)
from server.analytics import coverage, devices, effort, findings, monthly, monthly_pdf, plans
from server.analytics.answers import table
from server.analytics.common import park_today, period
from server.areas.web import in_area
from server.core import i18n
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db, read_db

blp = Blueprint(
    "analytics",
    __name__,
    url_prefix=API_PREFIX,
    description="Patrol coverage and effort analytics (managers)",
)
MVT = "application/vnd.mapbox-vector-tile"


def _period(args, area_id):
    return period(args.get("start"), args.get("end"), today=park_today(read_db(), area_id))


def _max_cells() -> int:
    return current_app.extensions["rangersync"].config.max_coverage_cells


@blp.get("/areas/<area>/coverage")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, CoverageOut)
@in_area
def coverage_summary(args, area_id):
    """Share of the area's grid cells, and of each zone's, that patrols visited in the period
    (as csv or geojson: the table of zones)."""
    summary = coverage.summary(read_db(), current_actor(), area_id, _period(args, area_id))
    if args["format"] == "json":
        return summary
    zones = [asdict(z) for z in summary.zones]
    return table(zones, ZoneCoverageOut, args["format"], "coverage-by-zone")


@blp.get("/areas/<area>/coverage/cells")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, CellOut(many=True))
@in_area
def coverage_cells(args, area_id):
    """Each visited cell: patrol-days, patrols, fixes, km and hours in the period."""
    period = _period(args, area_id)
    rows = coverage.cells(read_db(), current_actor(), area_id, period, _max_cells())
    return table(rows, CellOut, args["format"], "coverage-cells")


@blp.get("/areas/<area>/coverage/gaps")
@blp.arguments(GapQuery, location="query")
@blp.response(200, GapOut(many=True))
@in_area
def coverage_gaps(args, area_id):
    """Cells of the area no patrol visited in the last `days` days up to `as_of`."""
    as_of = args.get("as_of") or park_today(read_db(), area_id)
    rows = coverage.gaps(read_db(), current_actor(), area_id, args["days"], as_of, _max_cells())
    return table(rows, GapOut, args["format"], "coverage-gaps")


@blp.get("/areas/<area>/coverage/tiles/<int:z>/<int:x>/<int:y>.mvt")
@blp.arguments(TileQuery, location="query")
@blp.response(200, content_type=MVT)
@in_area
def coverage_tile(args, area_id, z: int, x: int, y: int):
    """The coverage heatmap as a vector tile (layer `coverage`; `gap` marks unvisited cells)."""
    period = _period(args, area_id)
    body = coverage.tile(read_db(), current_actor(), area_id, z, x, y, period, _max_cells())
    return Response(bytes(body), mimetype=MVT, headers={"Cache-Control": "private, max-age=60"})


@blp.put("/areas/<area>/coverage/settings")
@blp.arguments(CellSize)
@blp.response(200, CellSize)
@in_area
def set_cell_size(body, area_id):
    """Change the grid's cell size (metres, equal-area); the area's coverage is rebuilt on it."""
    return {
        "cell_m": commit(coverage.set_cell_size(db(), current_actor(), area_id, body["cell_m"]))
    }


@blp.get("/areas/<area>/effort")
@blp.arguments(EffortQuery, location="query")
@blp.response(200, EffortOut(many=True))
@in_area
def effort_by(args, area_id):
    """Km, hours and moving hours of cleaned tracks, by ranger, team, type, zone, patrol, day…"""
    rows = effort.effort(read_db(), current_actor(), area_id, _period(args, area_id), args["by"])
    return table(rows, EffortOut, args["format"], f"effort-by-{args['by']}")


@blp.get("/areas/<area>/findings/cpue")
@blp.arguments(FindingsQuery, location="query")
@blp.response(200, CpueOut(many=True))
@in_area
def cpue(args, area_id):
    """Findings per km and per hour of patrol, per report category (rejected reports excluded)."""
    rows = findings.cpue(
        read_db(), current_actor(), area_id, _period(args, area_id), args.get("category")
    )
    return table(rows, CpueOut, args["format"], "cpue")


@blp.get("/areas/<area>/findings/cells")
@blp.arguments(FindingsQuery, location="query")
@blp.response(200, FindingCellOut(many=True))
@in_area
def finding_cells(args, area_id):
    """Findings by category per grid cell, with the cell's effort and CPUE."""
    rows = findings.cells(
        read_db(), current_actor(), area_id, _period(args, area_id), args.get("category")
    )
    return table(rows, FindingCellOut, args["format"], "findings-by-cell")


@blp.get("/areas/<area>/findings/hotspots")
@blp.arguments(HotspotQuery, location="query")
@blp.response(200, HotspotOut(many=True))
@in_area
def hotspots(args, area_id):
    """The cells with the most findings in the period."""
    rows = findings.hotspots(
        read_db(),
        current_actor(),
        area_id,
        _period(args, area_id),
        args.get("category"),
        args["limit"],
    )
    return table(rows, HotspotOut, args["format"], "hotspots")


@blp.get("/areas/<area>/findings/trends")
@blp.arguments(FindingsQuery, location="query")
@blp.response(200, TrendOut(many=True))
@in_area
def trends(args, area_id):
    """Findings per month and category against that month's effort."""
    rows = findings.trends(
        read_db(), current_actor(), area_id, _period(args, area_id), args.get("category")
    )
    return table(rows, TrendOut, args["format"], "trends")


@blp.get("/areas/<area>/plans")
@blp.arguments(Format, location="query")
@blp.response(200, PlanOut(many=True))
@in_area
def list_plans(args, area_id):
    """Patrol plans with their score against the synced tracks."""
    return table(
        plans.list_plans(read_db(), current_actor(), area_id), PlanOut, args["format"], "plans"
    )


@blp.post("/areas/<area>/plans")
@blp.arguments(PlanIn)
@blp.response(201, PlanOut)
@in_area
def create_plan(body, area_id):
    """Set a plan: target hours and/or km in zones (none: anywhere in the area) over days."""
    return commit(plans.create_plan(db(), current_actor(), area_id, **body))


@blp.delete("/plans/<uuid:plan_id>")
@blp.response(204)
def delete_plan(plan_id: uuid.UUID):
    """Remove a plan."""
    commit(plans.delete_plan(db(), current_actor(), plan_id))


@blp.get("/areas/<area>/devices/health")
@blp.arguments(HealthQuery, location="query")
@blp.response(200, DeviceHealthOut(many=True))
@in_area
def device_health(args, area_id):
    """Per device: last sync, pending items it reported, clock drift, battery; `stale` when it
    has not synced for `stale_hours`."""
    rows = devices.health(
        read_db(), current_actor(), area_id, args["stale_hours"], datetime.now(UTC)
    )
    return table(rows, DeviceHealthOut, args["format"], "device-health")


@blp.get("/areas/<area>/reports/monthly.pdf")
@blp.arguments(MonthQuery, location="query")
@blp.response(200, content_type="application/pdf")
@in_area
def monthly_report(args, area_id):
    """The monthly park report as PDF: coverage map, coverage by zone, effort, CPUE, plan
    scores, notable incidents with photos; in the caller's language (`lang`, Accept-Language)."""
    month = monthly.parse_month(args["month"])
    store = current_app.extensions["rangersync"].evidence
    report = monthly.monthly_report(read_db(), current_actor(), store, area_id, month, _max_cells())
    pdf = monthly_pdf.render(report, i18n.language(), i18n.gettext)
    name = f"{report.area.slug}-{args['month']}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Vary": "Accept-Language"},
    )
