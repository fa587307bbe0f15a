"""A patrol's track as a file people open elsewhere: GPX 1.1 (a track with every kept fix and its
time) and KML 2.2 (the line, its start and end). Times stay in UTC, as the standards expect."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.errors import Invalid
from server.core.policy import Action, Actor, load_in_area
from server.patrols.models import Patrol

FORMATS = {"gpx": "application/gpx+xml", "kml": "application/vnd.google-earth.kml+xml"}
GPX_NS = "http://www.topografix.com/GPX/1/1"
KML_NS = "http://www.opengis.net/kml/2.2"

_FIXES = """
SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, recorded_at, accuracy_m
FROM track_points WHERE patrol_id = :p AND track_month = :m
ORDER BY recorded_at, seq
"""


@dataclass(frozen=True)
class TrackFile:
    body: bytes
    media_type: str
    filename: str


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gpx(patrol: Patrol, fixes) -> ET.Element:
    root = ET.Element("gpx", {"version": "1.1", "creator": "RangerSync", "xmlns": GPX_NS})
    track = ET.SubElement(root, "trk")
    ET.SubElement(track, "name").text = f"{patrol.patrol_type} patrol {_utc(patrol.started_at)}"
    if patrol.objective:
        ET.SubElement(track, "desc").text = patrol.objective
    segment = ET.SubElement(track, "trkseg")
    for fix in fixes:
        point = ET.SubElement(segment, "trkpt", {"lat": f"{fix.lat:.7f}", "lon": f"{fix.lon:.7f}"})
        ET.SubElement(point, "time").text = _utc(fix.recorded_at)
        if fix.accuracy_m is not None:
            ET.SubElement(point, "hdop").text = f"{fix.accuracy_m / 5:.1f}"  # rough, as GPX asks
    return root


def _kml(patrol: Patrol, fixes) -> ET.Element:
    root = ET.Element("kml", {"xmlns": KML_NS})
    document = ET.SubElement(root, "Document")
    ET.SubElement(document, "name").text = f"{patrol.patrol_type} patrol {_utc(patrol.started_at)}"
    placemark = ET.SubElement(document, "Placemark")
    ET.SubElement(placemark, "name").text = "Track"
    if fixes:
        span = ET.SubElement(placemark, "TimeSpan")
        ET.SubElement(span, "begin").text = _utc(fixes[0].recorded_at)
        ET.SubElement(span, "end").text = _utc(fixes[-1].recorded_at)
    line = ET.SubElement(placemark, "LineString")
    ET.SubElement(line, "coordinates").text = " ".join(f"{f.lon:.7f},{f.lat:.7f}" for f in fixes)
    for name, fix in (
        ("Start", fixes[0] if fixes else None),
        ("End", fixes[-1] if fixes else None),
    ):
        if fix is None:
            continue
        mark = ET.SubElement(document, "Placemark")
        ET.SubElement(mark, "name").text = name
        ET.SubElement(ET.SubElement(mark, "TimeStamp"), "when").text = _utc(fix.recorded_at)
        ET.SubElement(
            ET.SubElement(mark, "Point"), "coordinates"
        ).text = f"{fix.lon:.7f},{fix.lat:.7f}"
    return root


def track_file(session: Session, actor: Actor, patrol_id: uuid.UUID, fmt: str) -> TrackFile:
    """The patrol's fixes in time order as GPX or KML."""
    if fmt not in FORMATS:
        raise Invalid(f"unknown track format {fmt!r}", errors={"format": ["gpx or kml"]})
    patrol = load_in_area(session, actor, Action.PATROL_VIEW, Patrol, patrol_id, "patrol")
    fixes = session.execute(text(_FIXES), {"p": patrol_id, "m": patrol.track_month}).all()
    root = _gpx(patrol, fixes) if fmt == "gpx" else _kml(patrol, fixes)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    name = f"patrol-{patrol.started_at.astimezone(UTC):%Y%m%d-%H%M}-{str(patrol_id)[:8]}.{fmt}"
    return TrackFile(body, FORMATS[fmt], name)
