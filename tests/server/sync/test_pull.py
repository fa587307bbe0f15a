"""Pull: the device's scope in pages, changes since its cursor, tombstones, 304, bad cursors.

Cursors are transaction snapshots, so these tests commit for real, each in a database of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import text

from server.areas.models import MapFeature
from server.safety.models import SafetyAlert
from server.sync.pull import purge_tombstones
from tests import factories
from tests.server.sync import helpers as h


def pull_all(client, park, cursor=None, limit=None):
    """Every page of one round: (changes, final cursor, pages)."""
    changes, pages = [], 0
    while True:
        query = {k: v for k, v in {"cursor": cursor, "limit": limit}.items() if v}
        response = client.get("/api/v1/sync/pull", query_string=query, headers=park.headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        changes += body["changes"]
        cursor, pages = body["cursor"], pages + 1
        if not body["more"]:
            return changes, cursor, pages


def test_first_pull_brings_the_whole_scope_in_pages(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = h.park(db)
    db.add(
        MapFeature(
            area_id=park.area_id,
            layer="ranger_post",
            name="HQ",
            geom=from_shape(Point(37.1, -3.4), srid=4326),
        )
    )
    db.commit()
    changes, cursor, pages = pull_all(client, park, limit=5)
    kinds = [c["kind"] for c in changes]
    assert kinds.count("area") == 1 and kinds.count("map_feature") == 1
    assert kinds.count("category") >= 15 and pages >= 4
    assert len({(c["kind"], c["id"]) for c in changes}) == len(changes)  # no repeats across pages
    area = next(c for c in changes if c["kind"] == "area")
    assert area["data"]["boundary"]["type"] == "MultiPolygon" and not area["deleted"]
    # Nothing new: an empty answer, and the same cursor, which a conditional request turns into 304.
    again, same_cursor, _ = pull_all(client, park, cursor)
    assert again == [] and same_cursor == cursor
    conditional = client.get(
        "/api/v1/sync/pull",
        query_string={"cursor": cursor},
        headers=park.headers | {"If-None-Match": f'"{cursor}"'},
    )
    assert conditional.status_code == 304


def test_changes_and_deletions_since_the_cursor(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = h.park(db)
    post = MapFeature(
        area_id=park.area_id,
        layer="ranger_post",
        name="HQ",
        geom=from_shape(Point(37.1, -3.4), srid=4326),
    )
    water = MapFeature(
        area_id=park.area_id,
        layer="water_point",
        name="Dam",
        geom=from_shape(Point(37.12, -3.41), srid=4326),
    )
    alert = SafetyAlert(
        area_id=park.area_id,
        severity="critical",
        message="Armed group seen",
        valid_from=datetime.now(UTC),
    )
    db.add_all([post, water, alert])
    db.commit()
    _, cursor, _ = pull_all(client, park)
    post.name = "Mweusi HQ"
    post.version += 1
    db.delete(water)
    alert.cancelled_at = datetime.now(UTC)
    db.commit()
    changes, _, _ = pull_all(client, park, cursor)
    by_id = {c["id"]: c for c in changes}
    assert by_id[str(post.id)]["data"]["name"] == "Mweusi HQ"
    assert by_id[str(water.id)] == {
        "kind": "map_feature",
        "id": str(water.id),
        "deleted": True,
        "data": None,
    }
    assert by_id[str(alert.id)]["deleted"] is True
    assert len(changes) == 3


def test_a_managers_change_to_my_report_comes_back(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = h.park(db)
    r = h.report()
    h.push(client, park, [r])
    _, cursor, _ = pull_all(client, park)
    db.execute(
        text("UPDATE reports SET status = 'in_review', version = version + 1 WHERE id = :r"),
        {"r": r["id"]},
    )  # test_reports.py does the same through the API
    db.commit()
    changes, _, _ = pull_all(client, park, cursor)
    assert [(c["kind"], c["id"], c["data"]["status"], c["data"]["version"]) for c in changes] == [
        ("report", r["id"], "in_review", 2)
    ]


def test_another_parks_changes_never_reach_me(committed_client, committed_db):
    client, db = committed_client, committed_db
    mine, theirs = h.park(db), h.park(db, west=30.0)
    _, cursor, _ = pull_all(client, mine)
    db.add(
        MapFeature(
            area_id=theirs.area_id,
            layer="ranger_post",
            name="Their HQ",
            geom=from_shape(Point(30.1, -3.4), srid=4326),
        )
    )
    h.push(client, theirs, [h.report()])
    db.commit()
    assert pull_all(client, mine, cursor)[0] == []


def test_cursors_are_signed_and_bound_to_their_device(committed_client, committed_db):
    client, db = committed_client, committed_db
    park, other = h.park(db), h.park(db, west=30.0)
    _, cursor, _ = pull_all(client, park)
    stolen = client.get("/api/v1/sync/pull", query_string={"cursor": cursor}, headers=other.headers)
    assert stolen.status_code == 400 and stolen.get_json()["type"] == "/problems/cursor-invalid"
    body, mac = cursor.split(".")
    forged = client.get(
        "/api/v1/sync/pull", query_string={"cursor": body[:-2] + "xx." + mac}, headers=park.headers
    )
    assert forged.status_code == 400


def test_a_cursor_older_than_purged_tombstones_gets_410_and_resyncs(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = h.park(db)
    feature = MapFeature(
        area_id=park.area_id,
        layer="landmark",
        name="Old tree",
        geom=from_shape(Point(37.1, -3.4), srid=4326),
    )
    db.add(feature)
    db.commit()
    _, cursor, _ = pull_all(client, park)
    db.delete(feature)
    db.commit()
    db.execute(text("UPDATE tombstones SET deleted_at = now() - interval '400 days'"))
    assert purge_tombstones(db, older_than_days=90) == 1
    db.commit()
    gone = client.get("/api/v1/sync/pull", query_string={"cursor": cursor}, headers=park.headers)
    assert gone.status_code == 410 and gone.get_json()["type"] == "/problems/cursor-expired"
    fresh, _, _ = pull_all(client, park)  # the documented way back: no cursor
    assert not any(c["id"] == str(feature.id) for c in fresh)


def test_pull_is_for_devices(committed_client, committed_db):
    client, db = committed_client, committed_db
    park = h.park(db)
    factories.user(db, park.area_id, "manager", "mgr-pull")
    db.commit()
    headers = factories.auth(factories.token(client, "mgr-pull")) | {"RangerSync-Protocol": "1"}
    assert client.get("/api/v1/sync/pull", headers=headers).status_code == 403
