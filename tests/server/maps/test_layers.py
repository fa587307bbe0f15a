"""Managing layers over HTTP: list, GeoJSON with ETag/304, create, edit on a version, delete;
devices get every change through the pull, deletions as tombstones."""

from __future__ import annotations

from tests import factories
from tests.server.maps import helpers as h
from tests.server.sync.helpers import PROTOCOL_HEADER, PROTOCOL_VERSION


def test_layers_are_listed_and_served_as_geojson_with_etag(db, client):
    park = h.map_park(db, client)
    headers = park.headers("partner")
    listed = client.get(f"/api/v1/areas/{park.slug}/layers", headers=headers).get_json()
    assert [(x["name"], x["count"]) for x in listed] == [
        ("boundary", 1),
        ("zones", 1),
        ("ranger_post", 1),
        ("road", 1),
    ]
    response = client.get(f"/api/v1/areas/{park.slug}/layers/ranger_post", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    collection = response.get_json()
    [feature] = collection["features"]
    assert feature["id"] == str(park.post_id)
    assert feature["geometry"] == {"type": "Point", "coordinates": list(park.centre)}
    assert feature["properties"] == {
        "name": f"HQ {park.slug}",
        "layer": "ranger_post",
        "version": 1,
        "staff": 12,
        "radio": "VHF",
    }
    again = client.get(
        f"/api/v1/areas/{park.slug}/layers/ranger_post",
        headers=headers | {"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    one = client.get(f"/api/v1/areas/{park.slug}/features/{park.post_id}", headers=headers)
    assert one.get_json()["id"] == str(park.post_id) and one.headers["ETag"]
    zones = client.get(f"/api/v1/areas/{park.slug}/layers/zones", headers=headers).get_json()
    assert zones["features"][0]["properties"]["kind"] == "intensive_protection"
    assert (
        client.get(f"/api/v1/areas/{park.slug}/layers/nothing", headers=headers).status_code == 404
    )


def test_edits_need_the_current_version_and_the_right(db, client):
    park = h.map_park(db, client)
    manager = park.headers("manager")
    url = f"/api/v1/areas/{park.slug}/features/{park.post_id}"
    lon, lat = park.centre
    moved = {"version": 1, "geometry": {"type": "Point", "coordinates": [lon + 0.001, lat]}}
    assert client.patch(url, json=moved, headers=park.headers("partner")).status_code == 403
    assert client.patch(url, json=moved, headers=manager).status_code == 200
    stale = client.patch(url, json=moved | {"name": "Late"}, headers=manager)
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 2
    outside = client.patch(
        url,
        json={"version": 2, "geometry": {"type": "Point", "coordinates": [10, 10]}},
        headers=manager,
    )
    assert outside.status_code == 422
    reserved = client.patch(url, json={"version": 2, "properties": {"version": 9}}, headers=manager)
    assert reserved.status_code == 422
    assert client.delete(url, query_string={"version": 1}, headers=manager).status_code == 409
    assert client.delete(url, query_string={"version": 2}, headers=manager).status_code == 204
    assert client.get(url, headers=manager).status_code == 404


def test_new_features_and_bad_layer_names(db, client):
    park = h.map_park(db, client)
    manager = park.headers("manager")
    point = {"type": "Point", "coordinates": list(park.centre)}
    created = client.post(
        f"/api/v1/areas/{park.slug}/layers/gates/features",
        json={"geometry": point, "name": "East gate"},
        headers=manager,
    )
    assert created.status_code == 201
    assert client.get(created.get_json()["href"], headers=manager).status_code == 200
    for bad in ("patrols", "Gates", "1gate"):
        response = client.post(
            f"/api/v1/areas/{park.slug}/layers/{bad}/features",
            json={"geometry": point},
            headers=manager,
        )
        assert response.status_code == 422, bad
    nan = client.post(
        f"/api/v1/areas/{park.slug}/layers/gates/features",
        headers=manager,
        data=b'{"geometry": {"type": "Point", "coordinates": [NaN, 1]}}',
        content_type="application/json",
    )
    assert nan.status_code == 400


def test_devices_pull_edits_and_deletions(committed_db, committed_client):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    enrolment = factories.device(db, park.area_id, park.usernames["ranger"])
    db.commit()
    device = {"Authorization": f"Bearer {enrolment.token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    cursor = client.get("/api/v1/sync/pull", headers=device).get_json()["cursor"]
    manager = park.headers("manager")
    url = f"/api/v1/areas/{park.slug}/features/{park.post_id}"
    client.patch(url, json={"version": 1, "name": "Renamed"}, headers=manager)
    body = client.get(
        "/api/v1/sync/pull", query_string={"cursor": cursor}, headers=device
    ).get_json()
    [change] = body["changes"]
    assert change["data"]["name"] == "Renamed" and change["data"]["version"] == 2
    client.delete(url, query_string={"version": 2}, headers=manager)
    body = client.get(
        "/api/v1/sync/pull", query_string={"cursor": body["cursor"]}, headers=device
    ).get_json()
    assert body["changes"] == [
        {"kind": "map_feature", "id": str(park.post_id), "deleted": True, "data": None}
    ]


def test_zones_are_created_edited_and_deleted_on_versions(db, client):
    park = h.map_park(db, client)
    manager = park.headers("manager")
    lon, lat = park.centre
    square = {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat]]],
    }
    created = client.post(
        f"/api/v1/areas/{park.slug}/zones",
        headers=manager,
        json={"name": "Danger", "kind": "danger", "geometry": square},
    )
    assert created.status_code == 201
    zone_id = created.get_json()["id"]
    assert (
        client.post(
            f"/api/v1/areas/{park.slug}/zones",
            headers=manager,
            json={"name": "X", "kind": "party", "geometry": square},
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/areas/{park.slug}/zones",
            headers=park.headers("ranger"),
            json={"name": "X", "geometry": square},
        ).status_code
        == 403
    )
    url = f"/api/v1/areas/{park.slug}/zones/{zone_id}"
    assert (
        client.patch(url, json={"version": 1, "name": "Snares"}, headers=manager).status_code == 200
    )
    assert (
        client.patch(url, json={"version": 1, "name": "Late"}, headers=manager).status_code == 409
    )
    zones = client.get(f"/api/v1/areas/{park.slug}/layers/zones", headers=manager).get_json()
    mine = next(f for f in zones["features"] if f["id"] == zone_id)
    assert mine["properties"]["name"] == "Snares" and mine["geometry"]["type"] == "MultiPolygon"
    assert client.delete(url, query_string={"version": 2}, headers=manager).status_code == 204
    zones = client.get(f"/api/v1/areas/{park.slug}/layers/zones", headers=manager).get_json()
    assert zone_id not in {f["id"] for f in zones["features"]}


def test_an_admin_edits_the_area_and_tiles_follow(db, client):
    park = h.map_park(db, client)
    url = f"/api/v1/areas/{park.slug}"
    assert (
        client.patch(url, json={"name": "Renamed"}, headers=park.headers("manager")).status_code
        == 403
    )
    edited = client.patch(
        url, json={"name": "Renamed", "timezone": "Africa/Nairobi"}, headers=park.headers("admin")
    )
    assert edited.status_code == 200
    assert edited.get_json()["name"] == "Renamed"
    assert (
        client.patch(
            url, json={"timezone": "Mars/Olympus"}, headers=park.headers("admin")
        ).status_code
        == 422
    )
