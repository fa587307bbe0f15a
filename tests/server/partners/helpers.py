"""Builders for partner tests: a park with sightings of several kinds, and partner keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.core.policy import SYSTEM
from server.partners import geoprivacy, keys
from server.reports.models import Report, ReportCategory
from tests import factories
from tests.server.maps.helpers import map_park

OBSERVED = datetime(2026, 10, 1, 7, 42, 13, tzinfo=UTC)
# The park's rules: sightings snapped to 10 km cells, rhino hidden, fire exact, carcasses
# (sensitive, no rule) hidden by default, logging exact after a 30-day embargo.
RULES = [
    {"category": "wildlife_sighting", "visibility": "snapped", "cell_m": 10_000},
    {"species": "rhino", "visibility": "hidden"},
    {"category": "fire", "visibility": "exact"},
    {"category": "illegal_logging", "visibility": "exact", "embargo_days": 30},
]


@dataclass
class PartnerPark:
    park: object  # tests.server.maps.helpers.MapPark
    sightings: dict[str, uuid.UUID]  # name → report id

    @property
    def slug(self) -> str:
        return self.park.slug

    @property
    def area_id(self) -> uuid.UUID:
        return self.park.area_id


def report(
    session: Session,
    area_id: uuid.UUID,
    key: str,
    lon: float,
    lat: float,
    attributes: dict,
    observed: datetime = OBSERVED,
    notes: str | None = None,
) -> uuid.UUID:
    category = session.scalar(select(ReportCategory.id).where(ReportCategory.key == key))
    r = Report(
        id=uuid.uuid4(),
        area_id=area_id,
        category_id=category,
        geom=from_shape(Point(lon, lat), srid=4326),
        observed_at_device=observed,
        observed_at=observed,
        attributes=attributes,
        notes=notes,
    )
    session.add(r)
    session.flush()
    return r.id


def partner_park(session: Session, client, west: float = 37.0, south: float = -3.5):
    park = map_park(session, client, west, south)
    x, y = park.centre
    sightings = {
        "elephants": report(
            session,
            park.area_id,
            "wildlife_sighting",
            x + 0.0123,
            y - 0.0071,
            {"species": "Elephant", "count": 14, "behaviour": "drinking at the hidden spring"},
            notes="near the old ranger post by the baobab",
        ),
        "rhino": report(
            session,
            park.area_id,
            "wildlife_sighting",
            x - 0.02,
            y,
            {"species": "rhino", "count": 2},
        ),
        "fire": report(session, park.area_id, "fire", x + 0.03, y + 0.03, {"state": "active"}),
        "carcass": report(
            session,
            park.area_id,
            "poaching.carcass",
            x,
            y - 0.03,
            {"species": "elephant", "cause": "poaching_gunshot"},
        ),
        "logging_recent": report(
            session,
            park.area_id,
            "illegal_logging",
            x + 0.05,
            y,
            {"species": "rosewood"},
            observed=datetime.now(UTC) - timedelta(days=3),
        ),
    }
    geoprivacy.set_rules(session, SYSTEM, park.area_id, RULES)
    session.commit()
    return PartnerPark(park, sightings)


def issue(session: Session, slug: str, **options) -> str:
    issued = keys.issue_key(session, SYSTEM, areas=[slug], organisation="Save the Rhino", **options)
    session.commit()
    return issued.key


def bearer(key: str) -> dict[str, str]:
    return factories.auth(key)
