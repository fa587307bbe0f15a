"""The demo park a newcomer meets on `make run`."""

from __future__ import annotations

from sqlalchemy import text

from server.demo.seed import DEMO_PASSWORD, seed
from server.reports.categories import STANDARD_CATEGORIES
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
    for needed in ("poaching.snare", "poaching.carcass", "poaching.poacher_sighting",
                   "poaching.poacher_camp", "poaching.gunshot", "illegal_logging",
                   "charcoal_burning", "law_enforcement.seizure", "law_enforcement.arrest",
                   "wildlife_sighting", "fire", "infrastructure_damage",
                   "human_wildlife_conflict"):  # fmt: skip
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
