"""The monthly park report's coverage map, drawn as vectors (reportlab graphics): the boundary,
the cells visited in the month shaded by the hours spent in them, the zones dashed, the patrol
tracks, and a legend; lon/lat on a plate carrée scaled by the cosine of the mid latitude, which
at the size of a park reads true."""

from __future__ import annotations

import math
from collections.abc import Callable

from reportlab.graphics.shapes import Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import cm

from server.analytics.monthly import MonthlyReport

# Cells shaded by hours spent in them, light to dark green (status is never red alone).
HOUR_SHADES = ("#c7e9c0", "#74c476", "#31a354", "#006d2c")
BOUNDARY_FILL, BOUNDARY_LINE = colors.HexColor("#f4efe1"), colors.HexColor("#5a4a2a")
ZONE_LINE = colors.HexColor("#7a6f9b")
TRACK_COLOUR = colors.HexColor("#3f3f3f")
WIDTH, MAX_HEIGHT = 17 * cm, 13 * cm
LEGEND_HEIGHT = 1.6 * cm


def coverage_drawing(
    report: MonthlyReport,
    labels: Callable[[list[float]], list[str]],
    track_label: str,
    font: str,
) -> Drawing | None:
    """The map, or None for an area without a boundary to draw. `labels(limits)` names the
    shades: the first for any visited cell, then one per limit of hours ("over 1.5 h")."""
    boundary = [x["geometry"] for x in report.layers if x["layer"] == "boundary"]
    if not boundary:
        return None
    west, south, east, north = report.area.bbox
    mid = math.cos(math.radians((south + north) / 2))
    span_x, span_y = max((east - west) * mid, 1e-9), max(north - south, 1e-9)
    scale = min(WIDTH / span_x, MAX_HEIGHT / span_y)

    def xy(ring: list) -> list[float]:
        points: list[float] = []
        for lon, lat, *_rest in ring:
            points += [(lon - west) * mid * scale, (lat - south) * scale + LEGEND_HEIGHT]
        return points

    drawing = Drawing(WIDTH, span_y * scale + LEGEND_HEIGHT)
    for ring in (r for geometry in boundary for r in rings(geometry)):
        drawing.add(
            Polygon(xy(ring), fillColor=BOUNDARY_FILL, strokeColor=BOUNDARY_LINE, strokeWidth=1)
        )
    hours = sorted(c["hours"] or 0 for c in report.cells)
    # The quartiles of hours in visited cells split the shades (fewer when values repeat).
    limits = sorted({hours[int(len(hours) * q)] for q in (0.25, 0.5, 0.75)}) if hours else []
    for cell in report.cells:
        shade = HOUR_SHADES[sum(1 for limit in limits if (cell["hours"] or 0) > limit)]
        for ring in rings(cell["geometry"]):
            drawing.add(
                Polygon(xy(ring), fillColor=colors.HexColor(shade), strokeColor=None, strokeWidth=0)
            )
    for zone in (x for x in report.layers if x["layer"] == "zone"):
        for ring in rings(zone["geometry"]):
            drawing.add(
                Polygon(
                    xy(ring),
                    fillColor=None,
                    strokeColor=ZONE_LINE,
                    strokeWidth=0.6,
                    strokeDashArray=[3, 2],
                )
            )
    for patrol in report.patrols:
        for line in lines(patrol.geometry):
            drawing.add(PolyLine(xy(line), strokeColor=TRACK_COLOUR, strokeWidth=0.5))
    _legend(drawing, labels(limits), track_label, font)
    return drawing


def _legend(drawing: Drawing, labels: list[str], track_label: str, font: str) -> None:
    step = WIDTH / (len(labels) + 1)
    for k, label in enumerate(labels):
        swatch = Rect(k * step, 0.5 * cm, 0.5 * cm, 0.35 * cm, strokeColor=None)
        swatch.fillColor = colors.HexColor(HOUR_SHADES[k])
        drawing.add(swatch)
        drawing.add(String(k * step + 0.6 * cm, 0.55 * cm, label, fontName=font, fontSize=7))
    x = len(labels) * step
    drawing.add(
        Line(x, 0.67 * cm, x + 0.5 * cm, 0.67 * cm, strokeColor=TRACK_COLOUR, strokeWidth=0.8)
    )
    drawing.add(String(x + 0.6 * cm, 0.55 * cm, track_label, fontName=font, fontSize=7))


def rings(geometry: dict | None) -> list[list]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon."""
    if not geometry:
        return []
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def lines(geometry: dict | None) -> list[list]:
    if not geometry:
        return []
    if geometry["type"] == "LineString":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiLineString":
        return list(geometry["coordinates"])
    return []
