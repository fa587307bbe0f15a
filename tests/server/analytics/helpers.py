"""Builders for analytics tests: patrols with fixes laid down exactly where a test wants them;
signing in to the dashboard."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.areas.models import Zone
from server.patrols.models import Patrol
from server.patrols.service import derive_figures
from tests import factories

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def zone(session: Session, area_id: uuid.UUID, bounds: tuple[float, float, float, float], name="Z"):
    z = Zone(
        area_id=area_id,
        name=name,
        kind="management",
        geom=from_shape(MultiPolygon([box(*bounds)]), srid=4326),
    )
    session.add(z)
    session.flush()
    return z


def patrol(
    session: Session,
    area_id: uuid.UUID,
    fixes: list[tuple[float, float, datetime, float | None]],
    patrol_type: str = "foot",
    **attrs,
) -> uuid.UUID:
    """A patrol whose fixes (lon, lat, time, accuracy) are stored with seq 0, 1, 2…"""
    started = fixes[0][2] if fixes else T0
    p = Patrol(
        id=uuid.uuid4(),
        area_id=area_id,
        patrol_type=patrol_type,
        started_at=started,
        track_month=date(started.year, started.month, 1),
        **attrs,
    )
    session.add(p)
    session.flush()
    session.execute(text("SELECT rs_ensure_track_partition(:m)"), {"m": p.track_month})
    if fixes:
        session.execute(
            text(
                "INSERT INTO track_points (patrol_id, seq, track_month, area_id, device_time,"
                " recorded_at, geom, accuracy_m) VALUES (:patrol, :seq, :month, :area, :t, :t,"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :acc)"
            ),
            [
                {
                    "patrol": p.id,
                    "seq": seq,
                    "month": p.track_month,
                    "area": area_id,
                    "t": t,
                    "lon": lon,
                    "lat": lat,
                    "acc": acc,
                }
                for seq, (lon, lat, t, acc) in enumerate(fixes)
            ],
        )
        derive_figures(session, p.id)  # the patrol's own line and figures, as ingest keeps them
    return p.id


def walk(n: int, lon=37.05, lat=-3.45, dlon=0.0005, dlat=0.0, every_s=60, start=T0, acc=5.0):
    """n fixes in a straight line, one every `every_s` seconds."""
    return [
        (lon + k * dlon, lat + k * dlat, start + timedelta(seconds=every_s * k), acc)
        for k in range(n)
    ]


def sign_in(client, user) -> None:
    """Sign in to the dashboard's pages as a user the factories made."""
    answer = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert answer.status_code == 302
