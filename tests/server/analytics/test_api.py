"""The analytics API as a manager uses it: coverage, gaps, heatmap tiles (decoded by an MVT
library), effort, CPUE, plans, device health, exports; and who may not see them."""

from __future__ import annotations

import csv
import io
import math
import uuid
from datetime import timedelta

import mapbox_vector_tile
import pytest
from sqlalchemy import func, select

from server.analytics.models import CoverageVisit
from server.analytics.tracks import refresh_patrols
from server.reports.categories import load_standard_categories
from server.reports.models import Report, ReportCategory
from tests import factories
from tests.server.analytics.helpers import T0, patrol, walk, zone

DAY = T0.date().isoformat()
PERIOD = f"start={DAY}&end={DAY}"


@pytest.fixture
def scene(db, client):
    """A park with one 10-minute walk (half of it in a zone), two snares, a carcass and a
    rejected snare; a manager, a ranger and a manager of another park."""
    load_standard_categories(db)
    area = factories.area(db)
    other = factories.area(db, west=30.0)
    z = zone(db, area.id, (37.04, -3.46, 37.05 + 4.5 * 0.0005, -3.44), name="Core")
    fixes = walk(11)
    p = patrol(db, area.id, fixes)
    refresh_patrols(db, [p])
    categories = {c.key: c.id for c in db.scalars(select(ReportCategory))}
    for key, status in (
        ("poaching.snare", "new"),
        ("poaching.snare", "confirmed"),
        ("poaching.carcass", "new"),
        ("poaching.snare", "rejected"),
    ):
        db.add(
            Report(
                id=uuid.uuid4(),
                area_id=area.id,
                category_id=categories[key],
                patrol_id=p,
                geom="SRID=4326;POINT(37.051 -3.45)",
                status=status,
                observed_at=T0 + timedelta(minutes=3),
                observed_at_device=T0 + timedelta(minutes=3),
            )
        )
    manager = factories.user(db, area.id, "manager")
    ranger = factories.user(db, area.id, "ranger")
    stranger = factories.user(db, other.id, "manager")
    db.flush()
    tokens = {u: factories.token(client, u.username) for u in (manager, ranger, stranger)}
    return {
        "area": area,
        "zone": z,
        "patrol": p,
        "fixes": fixes,
        "manager": factories.auth(tokens[manager]),
        "ranger": factories.auth(tokens[ranger]),
        "stranger": factories.auth(tokens[stranger]),
    }


def get(client, scene, path, who="manager"):
    return client.get(f"/api/v1/areas/{scene['area'].slug}{path}", headers=scene[who])


def test_coverage_is_the_share_of_grid_cells_visited(client, db, scene):
    answer = get(client, scene, f"/coverage?{PERIOD}")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    visited = db.scalar(
        select(func.count())
        .select_from(CoverageVisit)
        .where(CoverageVisit.area_id == scene["area"].id)
    )
    # 0.3° × 0.2° near the equator at 500 m: about 33 km × 22 km, some 3 000 cells.
    assert 2500 < body["cells"] < 3500 and body["visited"] == visited >= 1
    assert body["percent"] == pytest.approx(100 * visited / body["cells"], abs=0.01)
    assert body["hours"] == pytest.approx(10 / 60)
    [core] = body["zones"]
    assert core["name"] == "Core" and core["hours"] == pytest.approx(5 / 60)
    assert core["visited"] >= 1 and core["percent"] > 0
    later = get(client, scene, "/coverage?start=2026-12-01&end=2026-12-31").get_json()
    assert later["visited"] == 0 and later["cells"] == body["cells"]


def test_gaps_are_the_cells_not_visited(client, scene):
    summary = get(client, scene, f"/coverage?{PERIOD}").get_json()
    gaps = get(client, scene, f"/coverage/gaps?days=1&as_of={DAY}").get_json()
    assert len(gaps) == summary["cells"] - summary["visited"]
    assert all(g["last_visit"] is None and g["geometry"]["type"] == "Polygon" for g in gaps)
    week_later = (T0.date() + timedelta(days=7)).isoformat()
    gaps = get(client, scene, f"/coverage/gaps?days=3&as_of={week_later}").get_json()
    assert len(gaps) == summary["cells"]
    assert sorted(g["last_visit"] for g in gaps if g["last_visit"]) == [DAY] * summary["visited"]


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def test_heatmap_tile_holds_every_cell_with_visits_and_gaps(client, scene):
    summary = get(client, scene, f"/coverage?{PERIOD}").get_json()
    x, y = _tile_of(37.15, -3.4, 8)  # the whole park lies in this z8 tile
    answer = get(client, scene, f"/coverage/tiles/8/{x}/{y}.mvt?{PERIOD}")
    assert answer.status_code == 200 and answer.mimetype == "application/vnd.mapbox-vector-tile"
    features = mapbox_vector_tile.decode(answer.data)["coverage"]["features"]
    assert len(features) == summary["cells"]
    visited = [f["properties"] for f in features if not f["properties"]["gap"]]
    assert len(visited) == summary["visited"]
    assert sum(v["visits"] for v in visited) == summary["visits"]
    empty = get(client, scene, f"/coverage/tiles/8/{x + 3}/{y}.mvt?{PERIOD}")
    assert empty.status_code == 200 and empty.data == b""


def test_effort_by_zone_and_type_is_the_cleaned_track(client, scene):
    by_type = get(client, scene, f"/effort?by=patrol_type&{PERIOD}").get_json()
    assert [(r["key"], r["patrols"]) for r in by_type] == [("foot", 1)]
    assert by_type[0]["hours"] == pytest.approx(10 / 60)
    by_zone = get(client, scene, f"/effort?by=zone&{PERIOD}").get_json()
    assert [(r["label"], round(r["hours"] * 60, 6)) for r in by_zone] == [("Core", 5.0)]


def test_cpue_counts_findings_per_km_and_per_hour_of_patrol(client, scene):
    rows = get(client, scene, f"/findings/cpue?{PERIOD}").get_json()
    km = get(client, scene, f"/coverage?{PERIOD}").get_json()["km"]
    by_key = {r["category"]: r for r in rows}
    assert set(by_key) == {"poaching.snare", "poaching.carcass"}  # the rejected one is no finding
    snare = by_key["poaching.snare"]
    assert snare["findings"] == 2
    assert snare["per_hour"] == pytest.approx(2 / (10 / 60))
    assert snare["per_km"] == pytest.approx(2 / km)
    only = get(client, scene, f"/findings/cpue?category=poaching.carcass&{PERIOD}").get_json()
    assert [r["findings"] for r in only] == [1]
    parent = get(client, scene, f"/findings/cpue?category=poaching&{PERIOD}").get_json()
    assert sum(r["findings"] for r in parent) == 3
    [hot] = get(client, scene, f"/findings/hotspots?{PERIOD}").get_json()
    assert hot["findings"] == 3 and hot["categories"] == "poaching.carcass, poaching.snare"
    trend = get(client, scene, f"/findings/trends?{PERIOD}").get_json()
    assert [(t["month"], t["category"], t["findings"]) for t in trend] == [
        ("2026-11", "poaching.carcass", 1),
        ("2026-11", "poaching.snare", 2),
    ]


def test_exports_are_csv_and_geojson_of_the_same_rows(client, scene):
    rows = get(client, scene, f"/coverage/cells?{PERIOD}").get_json()
    answer = get(client, scene, f"/coverage/cells?{PERIOD}&format=csv")
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(int(r["i"]), int(r["j"]), int(r["fixes"])) for r in table] == [
        (r["i"], r["j"], r["fixes"]) for r in rows
    ]
    collection = get(client, scene, f"/coverage/cells?{PERIOD}&format=geojson").get_json(force=True)
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == len(rows)
    assert collection["features"][0]["properties"]["fixes"] == rows[0]["fixes"]
    zones = get(client, scene, f"/coverage?{PERIOD}&format=csv").get_data(as_text=True)
    assert zones.splitlines()[0] == "zone_id,name,kind,cells,visited,percent,hours,km"
    assert zones.splitlines()[1].split(",")[1:3] == ["Core", "management"]


def test_plans_are_scored_against_the_tracks(client, scene):
    slug = scene["area"].slug
    plan = {
        "name": "Core week",
        "starts_on": DAY,
        "ends_on": DAY,
        "zone_ids": [str(scene["zone"].id)],
        "target_hours": 1.0,
    }
    made = client.post(f"/api/v1/areas/{slug}/plans", json=plan, headers=scene["manager"])
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["actual_hours"] == pytest.approx(5 / 60)
    assert made.get_json()["score_percent"] == pytest.approx(100 * 5 / 60)
    bad = client.post(
        f"/api/v1/areas/{slug}/plans",
        json=plan | {"zone_ids": [str(uuid.uuid4())]},
        headers=scene["manager"],
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    aimless = {k: v for k, v in plan.items() if k != "target_hours"}
    bad = client.post(f"/api/v1/areas/{slug}/plans", json=aimless, headers=scene["manager"])
    assert bad.status_code == 422
    assert [p["name"] for p in get(client, scene, "/plans").get_json()] == ["Core week"]


def test_rangers_may_not_and_other_parks_cannot_see(client, scene):
    assert get(client, scene, f"/coverage?{PERIOD}", "ranger").status_code == 403
    assert get(client, scene, f"/coverage?{PERIOD}", "stranger").status_code == 404
    assert get(client, scene, "/coverage/tiles/8/0/0.mvt", "stranger").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "/coverage?start=2026-11-05&end=2026-11-01",
        "/coverage?start=yesterday",
        "/coverage/cells?format=xml",
        "/effort?by=moon",
        "/coverage/gaps?days=0",
        "/coverage/tiles/30/0/0.mvt",
        "/coverage/tiles/2/9/0.mvt",
        "/findings/cpue?category=A;B",
        "/coverage?start=1900-01-01&end=2026-01-01",
    ],
)
def test_bad_queries_are_problems_not_errors(client, scene, query):
    answer = get(client, scene, query)
    assert answer.status_code in (400, 422), answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"


def test_device_health_flags_devices_that_never_synced(client, db, scene):
    ranger = factories.user(db, scene["area"].id, "ranger")
    factories.device(db, scene["area"].id, ranger.username)
    [row] = get(client, scene, "/devices/health").get_json()
    assert row["stale"] is True and row["last_sync_at"] is None
    assert row["username"] == ranger.username


def test_a_coarser_grid_rebuilds_coverage_on_it(client, scene):
    slug = scene["area"].slug
    before = get(client, scene, f"/coverage?{PERIOD}").get_json()
    answer = client.put(
        f"/api/v1/areas/{slug}/coverage/settings", json={"cell_m": 2000}, headers=scene["manager"]
    )
    assert answer.status_code == 200 and answer.get_json() == {"cell_m": 2000}
    after = get(client, scene, f"/coverage?{PERIOD}").get_json()
    assert after["cell_m"] == 2000
    # 16 times fewer cells, plus the cells that only graze the boundary (~33 × 22 km park)
    assert before["cells"] / 16 <= after["cells"] < before["cells"] / 16 + 2 * (33 + 22) / 2
    assert after["hours"] == pytest.approx(before["hours"])  # the same effort, fewer cells
    for body, who, status in (({"cell_m": 10}, "manager", 422), ({"cell_m": 900}, "ranger", 403)):
        answer = client.put(
            f"/api/v1/areas/{slug}/coverage/settings", json=body, headers=scene[who]
        )
        assert answer.status_code == status


def test_reports_list_filters_and_exports(client, scene):
    rows = get(client, scene, "/reports").get_json()
    assert len(rows) == 4 and {r["status"] for r in rows} == {"new", "confirmed", "rejected"}
    assert len(get(client, scene, "/reports?status=new").get_json()) == 2
    assert len(get(client, scene, "/reports?category=poaching.carcass").get_json()) == 1
    geojson = get(client, scene, "/reports?format=geojson").get_json(force=True)
    assert geojson["features"][0]["geometry"]["type"] == "Point"
    assert get(client, scene, "/reports", "stranger").status_code == 404


def test_reports_list_searches_sorts_and_pages(client, scene):
    everything = get(client, scene, "/reports?sort=oldest").get_json()
    times = [r["observed_at"] for r in everything]
    assert times == sorted(times) and len(everything) == 4
    newest = [r["observed_at"] for r in get(client, scene, "/reports").get_json()]
    assert newest == sorted(times, reverse=True)
    by_priority = [r["priority"] for r in get(client, scene, "/reports?sort=priority").get_json()]
    assert by_priority == sorted(by_priority, reverse=True)
    carcass = get(client, scene, "/reports?q=CARCASS").get_json()  # category words, any case
    assert [r["category"] for r in carcass] == ["poaching.carcass"]
    assert get(client, scene, "/reports?q=%25").get_json() == []  # a typed % is just a %
    two = get(client, scene, "/reports?sort=oldest&limit=2&offset=2").get_json()
    assert [r["id"] for r in two] == [r["id"] for r in everything[2:]]
    assert get(client, scene, "/reports?sort=sideways").status_code == 422


def test_patrol_page_data_and_layers(client, scene):
    answer = client.get(f"/api/v1/patrols/{scene['patrol']}", headers=scene["manager"])
    body = answer.get_json()
    assert body["fixes"] == 11 and body["quality"] == 1.0 and len(body["report_list"]) == 4
    assert body["geometry"]["type"] == "LineString"
    assert [(z["name"], round(z["hours"] * 60, 6)) for z in body["zones"]] == [("Core", 5.0)]
    layers = get(client, scene, "/map-overview").get_json()
    assert {r["layer"] for r in layers} == {"boundary", "zone"}
    other = client.get(f"/api/v1/patrols/{scene['patrol']}", headers=scene["stranger"])
    assert other.status_code == 404


def test_a_stored_photo_is_served_to_the_area_only(client, db, app, scene):
    import hashlib

    from server.reports.models import Attachment

    data = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    sha256 = hashlib.sha256(data).hexdigest()
    blob = app.extensions["rangersync"].evidence.blob(sha256)
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    report = db.scalars(select(Report).where(Report.area_id == scene["area"].id)).first()
    stored, expected = uuid.uuid4(), uuid.uuid4()
    db.add_all(
        [
            Attachment(
                id=stored,
                area_id=report.area_id,
                report_id=report.id,
                sha256=sha256,
                size_bytes=len(data),
                media_type="image/png",
                state="stored",
            ),
            Attachment(
                id=expected,
                area_id=report.area_id,
                report_id=report.id,
                sha256="0" * 64,
                size_bytes=10,
                media_type="image/jpeg",
                state="expected",
            ),
        ]
    )
    db.flush()
    listed = client.get(f"/api/v1/reports/{report.id}", headers=scene["manager"])
    assert {a["state"] for a in listed.get_json()["attachments"]} == {"stored", "expected"}
    photo = client.get(f"/api/v1/attachments/{stored}/file", headers=scene["manager"])
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.data == data
    missing = client.get(f"/api/v1/attachments/{expected}/file", headers=scene["manager"])
    assert missing.status_code == 404
    other = client.get(f"/api/v1/attachments/{stored}/file", headers=scene["stranger"])
    assert other.status_code == 404


def test_live_positions_are_the_last_fixes_of_patrols_under_way(client, db, scene):
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(microsecond=0)
    under_way = patrol(db, scene["area"].id, walk(5, start=now - timedelta(minutes=4)))
    patrol(db, scene["area"].id, walk(5, start=now - timedelta(minutes=4)), ended_at=now)
    rows = get(client, scene, "/positions").get_json()
    assert [r["patrol_id"] for r in rows] == [str(under_way)]
    assert rows[0]["geometry"]["coordinates"] == [37.052, -3.45]
    assert get(client, scene, "/positions", "stranger").status_code == 404
