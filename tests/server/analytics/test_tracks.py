"""Track cleaning, effort, hours in zones and cells visited, against figures computed by hand
(pyproj's geodesic and projection, independently of the SQL that keeps the tables)."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import pytest
from pyproj import Geod, Transformer
from sqlalchemy import select, text

from server.analytics.models import CoverageSetting, CoverageVisit, PatrolEffort, ZoneVisit
from server.analytics.tracks import refresh_patrols
from server.areas.models import Area
from tests import factories
from tests.helpers import count_rows
from tests.server.analytics.helpers import T0, patrol, walk, zone

GEOD = Geod(ellps="WGS84")
TO_GRID = Transformer.from_crs(4326, 6933, always_xy=True)


def geodesic(points) -> float:
    return sum(GEOD.inv(a[0], a[1], b[0], b[1])[2] for a, b in itertools.pairwise(points))


def cell(lon: float, lat: float, size: int) -> tuple[int, int]:
    x, y = TO_GRID.transform(lon, lat)
    return math.floor(x / size), math.floor(y / size)


def test_effort_of_a_straight_walk_is_its_geodesic_length_and_time(db):
    area = factories.area(db)
    fixes = walk(11)  # 10 steps of ~55 m in 60 s each
    p = patrol(db, area.id, fixes)
    refresh_patrols(db, [p])
    effort = db.get(PatrolEffort, p)
    assert effort.fixes == 11 and effort.poor_accuracy == 0 and effort.impossible_speed == 0
    assert effort.quality == 1.0
    assert effort.distance_m == pytest.approx(geodesic(fixes), abs=1e-6)
    assert effort.duration_s == 600 and effort.moving_s == 600


def test_poor_and_impossible_fixes_are_flagged_excluded_and_kept(db):
    area = factories.area(db)
    fixes = walk(11)
    fixes[3] = (*fixes[3][:3], 80.0)  # 80 m accuracy: poor
    spike = fixes[7]
    fixes[7] = (spike[0] + 0.05, spike[1], spike[2], 5.0)  # 5.5 km away and back in a minute
    p = patrol(db, area.id, fixes)
    refresh_patrols(db, [p])
    effort = db.get(PatrolEffort, p)
    assert (effort.fixes, effort.poor_accuracy, effort.impossible_speed) == (11, 1, 1)
    assert effort.quality == pytest.approx(9 / 11)
    kept = [f for k, f in enumerate(fixes) if k not in (3, 7)]
    assert effort.distance_m == pytest.approx(geodesic(kept), abs=1e-6)
    assert count_rows(db, "track_points") >= 11  # never deleted
    assert sum(v.fixes for v in db.scalars(select(CoverageVisit).filter_by(patrol_id=p))) == 9


def test_a_vehicle_may_go_faster_than_a_foot_patrol(db):
    area = factories.area(db)
    fast = walk(6, dlon=0.01)  # ~1.1 km a minute: 18 m/s
    on_foot = patrol(db, area.id, fast)
    by_car = patrol(db, area.id, fast, patrol_type="vehicle")
    refresh_patrols(db, [on_foot, by_car])
    assert db.get(PatrolEffort, by_car).impossible_speed == 0
    assert db.get(PatrolEffort, by_car).distance_m == pytest.approx(geodesic(fast), abs=1e-6)
    # On foot every leg is impossible: each fix is a spike, nothing is left to measure.
    assert db.get(PatrolEffort, on_foot).impossible_speed == 6


def test_hours_in_a_zone_count_the_steps_that_start_inside_it(db):
    area = factories.area(db)
    fixes = walk(11)  # lon 37.05 … 37.055
    z = zone(db, area.id, (37.04, -3.46, 37.05 + 4.5 * 0.0005, -3.44))  # holds fixes 0-4
    other = zone(db, area.id, (37.3, -3.3, 37.31, -3.29), name="far away")
    p = patrol(db, area.id, fixes)
    refresh_patrols(db, [p])
    visits = db.scalars(select(ZoneVisit).filter_by(patrol_id=p)).all()
    assert [(v.zone_id, v.fixes, v.seconds) for v in visits] == [(z.id, 5, 300.0)]
    assert visits[0].distance_m == pytest.approx(geodesic(fixes[:6]), abs=1e-6)
    assert other.id not in {v.zone_id for v in visits}


def test_cells_visited_are_the_equal_area_grid_cells_of_the_clean_fixes(db):
    area = factories.area(db)
    db.add(CoverageSetting(area_id=area.id, cell_m=1000))
    fixes = walk(40, dlon=0.0004, dlat=0.0003)  # diagonal, ~50 m steps, crosses a few cells
    p = patrol(db, area.id, fixes)
    refresh_patrols(db, [p])
    visits = {(v.i, v.j): v for v in db.scalars(select(CoverageVisit).filter_by(patrol_id=p))}
    expected: dict[tuple[int, int], list[int]] = {}
    for k, (lon, lat, _, _) in enumerate(fixes):
        expected.setdefault(cell(lon, lat, 1000), []).append(k)
    assert set(visits) == set(expected) and len(expected) > 1
    for key, ks in expected.items():
        assert visits[key].fixes == len(ks)
        steps = [(fixes[k], fixes[k + 1]) for k in ks if k + 1 < len(fixes)]
        assert visits[key].distance_m == pytest.approx(sum(geodesic(s) for s in steps), abs=1e-6)
        assert visits[key].seconds == 60 * len(steps)
    assert {v.day for v in visits.values()} == {T0.date()}


def test_days_are_the_areas_local_days(db):
    area = factories.area(db)
    db.get(Area, area.id).timezone = "Africa/Dar_es_Salaam"  # UTC+3
    start = T0.replace(hour=20, minute=50)  # 23:50 local
    p = patrol(db, area.id, walk(21, start=start))  # 20 minutes: crosses local midnight
    refresh_patrols(db, [p])
    days: dict = {}
    for v in db.scalars(select(CoverageVisit).filter_by(patrol_id=p)):
        days[v.day] = days.get(v.day, 0) + v.fixes
    assert days == {T0.date(): 10, T0.date() + timedelta(days=1): 11}


def test_the_grid_numbers_cells_as_postgis_square_grid_does(db):
    """Area cells come from ST_SquareGrid, track cells from floor(x / size): the same numbering."""
    for lon, lat in ((37.05, -3.45), (-0.001, 0.001), (150.3, -42.9)):
        i, j = db.execute(
            text(
                "SELECT g.i, g.j FROM ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),"
                " 6933) AS p, ST_SquareGrid(1000, p) AS g WHERE ST_Intersects(g.geom, p)"
            ),
            {"lon": lon, "lat": lat},
        ).one()
        assert (i, j) == cell(lon, lat, 1000)
