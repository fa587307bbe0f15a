"""Builders for map tests: two parks with layers, patrols and reports, and people of each role."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, MultiPolygon, Point, box
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.areas.models import MapFeature, Zone
from server.patrols.models import Patrol
from server.reports.categories import load_standard_categories
from server.reports.models import Report, ReportCategory
from tests import factories

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@dataclass
class MapPark:
    area_id: uuid.UUID
    slug: str
    west: float
    south: float
    tokens: dict[str, str]  # role → access token
    usernames: dict[str, str]  # role → username
    post_id: uuid.UUID
    patrol_id: uuid.UUID
    report_id: uuid.UUID

    def headers(self, role: str) -> dict[str, str]:
        return factories.auth(self.tokens[role])

    @property
    def centre(self) -> tuple[float, float]:
        return self.west + 0.15, self.south + 0.1


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ (slippy map) tile holding a point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def build_park(session: Session, west: float = 37.0, south: float = -3.5) -> tuple:
    """A park (0.3° × 0.2°) with a ranger post, a road, a zone, a patrol and a report; its
    people (admin, manager, ranger, partner). Returns (area, users)."""
    load_standard_categories(session)
    area = factories.area(session, west=west, south=south)
    users = {
        role: factories.user(session, area.id, role)
        for role in ("admin", "manager", "ranger", "partner")
    }
    cx, cy = west + 0.15, south + 0.1
    post = MapFeature(
        area_id=area.id,
        layer="ranger_post",
        name=f"HQ {area.slug}",
        geom=from_shape(Point(cx, cy), srid=4326),
        properties={"staff": 12, "radio": "VHF"},
    )
    road = MapFeature(
        area_id=area.id,
        layer="road",
        name="Main road",
        geom=from_shape(LineString([(west + 0.01, cy), (west + 0.29, cy + 0.01)]), srid=4326),
        properties={"surface": "gravel"},
    )
    zone = Zone(
        area_id=area.id,
        name="Core",
        kind="intensive_protection",
        geom=from_shape(MultiPolygon([box(cx - 0.05, cy - 0.05, cx + 0.05, cy + 0.05)]), srid=4326),
    )
    patrol = Patrol(
        id=uuid.uuid4(),
        area_id=area.id,
        patrol_type="foot",
        started_at=T0,
        track_month=date(2026, 11, 1),
        point_count=3,
        distance_m=1234.0,
        line=from_shape(LineString([(cx - 0.02, cy), (cx, cy + 0.01), (cx + 0.02, cy)]), srid=4326),
    )
    category = session.scalar(select(ReportCategory).where(ReportCategory.key == "poaching.snare"))
    report = Report(
        id=uuid.uuid4(),
        area_id=area.id,
        category_id=category.id,
        geom=from_shape(Point(cx + 0.001, cy + 0.001), srid=4326),
        observed_at_device=T0,
        observed_at=T0,
        attributes={},
    )
    session.add_all([post, road, zone, patrol])
    session.flush()
    session.add(report)
    session.flush()
    return area, users, post, patrol, report


def map_park(session: Session, client, west: float = 37.0, south: float = -3.5) -> MapPark:
    area, users, post, patrol, report = build_park(session, west, south)
    session.commit()
    tokens = {role: factories.token(client, u.username) for role, u in users.items()}
    names = {role: u.username for role, u in users.items()}
    return MapPark(area.id, area.slug, west, south, tokens, names, post.id, patrol.id, report.id)
