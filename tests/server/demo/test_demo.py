"""The demo park a newcomer meets on `make run`."""

from __future__ import annotations

from sqlalchemy import text

from server.demo.seed import DEMO_PASSWORD, seed
from server.reports.categories import STANDARD_CATEGORIES
from sync.device import cli as device_cli
from tests import factories


def _count(db, sql: str) -> int:
    return db.execute(text(sql)).scalar_one()


def test_demo_park_has_what_the_issue_promises(db):
    assert seed(db) is True
    area = "(SELECT id FROM areas WHERE slug = 'demo')"
    assert _count(db, f"SELECT count(*) FROM zones WHERE area_id = {area}") == 4
    for layer in ("road", "ranger_post", "water_point", "boundary_buffer"):
        assert _count(db, f"SELECT count(*) FROM map_features WHERE layer = '{layer}'") >= 1, layer
    roles = dict(
        db.execute(
            text(f"SELECT role, count(*) FROM memberships WHERE area_id = {area} GROUP BY role")
        ).all()
    )
    assert roles["ranger"] == 12 and roles["manager"] >= 1 and roles["partner"] >= 1
    assert _count(db, f"SELECT count(*) FROM teams WHERE area_id = {area}") == 3
    assert (
        _count(db, f"SELECT count(DISTINCT user_id) FROM team_members WHERE area_id = {area}") == 12
    )
    assert _count(db, f"SELECT count(*) FROM devices WHERE area_id = {area}") == 6
    keys = set(db.execute(text("SELECT key FROM report_categories")).scalars())
    assert {c.key for c in STANDARD_CATEGORIES} <= keys
    for needed in (
        "poaching.snare",
        "poaching.carcass",
        "poaching.poacher_sighting",
        "poaching.poacher_camp",
        "poaching.gunshot",
        "illegal_logging",
        "charcoal_burning",
        "law_enforcement.seizure",
        "law_enforcement.arrest",
        "wildlife_sighting",
        "fire",
        "infrastructure_damage",
        "human_wildlife_conflict",
    ):
        assert needed in keys, needed


def test_demo_geometry_is_consistent(db):
    seed(db)
    # Zones and features lie inside the boundary; patrol lines too, with real figures.
    outside = _count(
        db,
        "SELECT count(*) FROM zones z JOIN areas a ON a.id = z.area_id"
        " WHERE NOT ST_CoveredBy(z.geom, ST_Buffer(a.boundary, 1e-9))",
    )
    assert outside == 0
    patrols = db.execute(
        text("SELECT point_count, distance_m, duration_s, moving_s FROM patrols")
    ).all()
    assert len(patrols) >= 3
    for points, distance, duration, moving in patrols:
        assert points > 10 and distance > 1000 and 0 < moving <= duration


def test_demo_is_loaded_once(db):
    assert seed(db) is True
    users = _count(db, "SELECT count(*) FROM users")
    assert seed(db) is False
    assert _count(db, "SELECT count(*) FROM users") == users


def test_demo_manager_signs_in_and_sees_the_park(client, db):
    seed(db)
    db.commit()
    headers = factories.auth(factories.token(client, "manager", DEMO_PASSWORD))
    areas = client.get("/api/v1/areas", headers=headers).get_json()
    assert [(a["slug"], a["role"]) for a in areas] == [("demo", "manager")]
    assert areas[0]["boundary"]["type"] == "MultiPolygon"


def test_demo_geography_is_valid_and_inside_the_park():
    from pyproj import Geod
    from shapely.geometry import Point

    from server.demo import geodata

    park = geodata.boundary()
    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(park)[0]) / 1e6
    assert 500 < area_km2 < 1200
    shapes = [z.geometry for z in geodata.zones()] + [f.geometry for f in geodata.features()]
    for geometry in shapes:
        assert geometry.is_valid
        assert not geometry.is_empty
        assert park.buffer(1e-6).covers(geometry), geometry.geom_type
    zones = geodata.zones()
    for i, a in enumerate(zones):
        for b in zones[i + 1 :]:
            assert not a.geometry.overlaps(b.geometry), (a.name, b.name)
    buffer = next(f for f in geodata.features() if f.layer == "boundary_buffer").geometry
    assert 0.05 < buffer.area / park.area < 0.2  # a 1 km band inside a ~30 km park
    for route in geodata.patrol_routes():
        assert 20 <= len(route) <= 60
        assert all(park.contains(Point(p)) for p in route)


def test_the_simulator_uses_the_demo_parks_password():
    assert device_cli.DEMO_PASSWORD == DEMO_PASSWORD
